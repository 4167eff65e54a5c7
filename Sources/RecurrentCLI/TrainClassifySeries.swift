import ArgumentParser
import Foundation
import Recurrent
import RecurrentPresentation

extension RecurrentCommand.Train {
    /// `recurrent train classify-series`: many-to-one classification of sequences of real vectors.
    struct ClassifySeries: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "classify-series",
            abstract: "Train a classifier of sequences of real vectors (sensor recordings, speech frames, spectra).",
            discussion: """
            Formats (--data): UEA/UCR .ts files (uni- or multivariate, equal or unequal lengths), a long CSV (one row per step: \
            --id-column, optional --time-column, --label-column, feature columns), .npy arrays (N, T[, F]) with --labels, \
            .npz archives holding X and y (NaN after a sequence's last step pads it), or a hyperspectral cube (--bands-as-sequence: \
            an (H, W, B) .npy with an (H, W) --mask; each labelled pixel's spectrum is a sequence of B steps).

            Splits: with a test file (--test, or NAME_TEST.ts beside NAME_TRAIN.ts in a --data folder), --validation-fraction \
            of the training data, stratified by class, picks the best epoch and the test file scores it. Without one, --data is \
            split 80/10/10 by --split-seed; a cube by --cube-split block (whole squares of --block-size pixels: test regions \
            unseen, the default) or pixel (neighbours of test pixels train: optimistic).

            Every feature is standardised with the training split's mean and standard deviation, stored in the checkpoint. \
            Writes config.json, options.json, metrics.csv, best.safetensors, last.safetensors, test.json, confusion.csv and \
            confusion.svg (test split) into --out. Defaults: 60 epochs, batch 16, lr 0.003, clip-norm 5.

            Example:
              recurrent train classify-series --data Examples/data/uea-ucr/JapaneseVowels --out runs/vowels
            """
        )

        @OptionGroup var source: SeriesDataArguments
        @Option(help: "Recurrent cell: lstm, gru, rnn (tanh) or jordan.") var cell = CellKind.lstm
        @Option(help: "Hidden units per layer and direction.") var hidden = 64
        @Option(help: "Stacked recurrent layers.") var layers = 1
        @Flag(inversion: .prefixedNo, help: "Read each sequence in both directions.") var bidirectional = true
        @Option(help: "Sequence to vector: final (last states), mean, max or attention (over the outputs, masked).") var pooling = Pooling.mean
        @Option(help: "Dropout on the pooled features and between layers (train mode).") var dropout = 0.2
        @Option(name: .customLong("split-seed"), help: "Seed of the validation (and test) split.") var splitSeed: UInt64 = 1
        @Option(name: .customLong("validation-fraction"), help: "Share of the training data held out to pick the best epoch (with a test file).")
        var validationFraction = 0.2
        @Option(name: .customLong("cube-split"), help: "With --bands-as-sequence: block (squares of --block-size pixels) or pixel.")
        var cubeSplit = CubeSplit.block
        @Option(name: .customLong("block-size"), help: "Side of the squares of a block split, in pixels.") var blockSize = 8
        @Option(help: "Read this many steps as one input step of that many times the features (long univariate series: fewer, wider steps).")
        var patch = 1
        @Option(name: .customLong("input-noise"), help: "Standard deviation of Gaussian noise added to the standardised training inputs (0: none).")
        var inputNoise = 0.0
        @OptionGroup var training: TrainingArguments

        func validate() throws {
            guard hidden > 0, hidden <= 65_536, layers > 0, layers <= 64 else { throw ValidationError("--hidden must be in 1...65536 and --layers in 1...64") }
            guard isDropoutProbability(dropout) else { throw ValidationError("--dropout must be in [0, 1) in single precision, got \(dropout)") }
            guard validationFraction >= 0, validationFraction < 1 else { throw ValidationError("--validation-fraction must be in [0, 1), got \(validationFraction)") }
            guard patch >= 1, patch <= 65_536 else { throw ValidationError("--patch must be in 1...65536, got \(patch)") }
            guard blockSize >= 1 else { throw ValidationError("--block-size must be positive") }
            guard inputNoise >= 0, inputNoise <= 100 else { throw ValidationError("--input-noise must be in [0, 100], got \(inputNoise)") }
        }

        func run() throws {
            try reportingErrors {
                let settings = SeriesClassificationTask.Settings(splitSeed: splitSeed, validationFraction: validationFraction, cubeSplit: cubeSplit, blockSize: blockSize,
                                                                      inputNoise: inputNoise)
                let options = try training.runOptions(SequenceClassifier.seriesTask, defaults: SeriesClassificationTask.defaultOptions, settings: settings)
                let saved = try training.savedConfig(SequenceClassifierConfig.self, task: SequenceClassifier.seriesTask) { try $0.validate() }
                var (split, classLabels, how) = try source.split(options.task)
                let patchLength = saved?.patchLength ?? patch
                if patchLength > 1 {
                    split = DataSplit(train: split.train.map { $0.patched(patchLength) }, validation: split.validation.map { $0.patched(patchLength) },
                                      test: split.test.map { $0.patched(patchLength) })
                    how += "; read \(patchLength) steps at a time"
                }
                let dataset = try SeriesClassificationData(split: split, classNames: saved?.classNames ?? classLabels, scaler: saved?.scaler)
                guard dataset.test.count > 0 else { throw ValidationError("the test split is empty: \(source.data) has too few sequences; give --test") }
                var config = saved ?? SequenceClassifierConfig.series(features: dataset.features, scaler: dataset.scaler, classNames: dataset.classNames,
                                                                      hiddenSize: hidden, layers: layers, cell: cell, bidirectional: bidirectional,
                                                                      dropout: dropout, pooling: pooling)
                if saved == nil && patchLength > 1 { config.patchLength = patchLength }
                do { try config.validate() } catch { throw ValidationError("\(error)") }
                try MemoryEstimate.requireTraining(parameters: config.minimumParameterCount, for: "a \(config.layers)×\(config.hiddenSize) \(config.cell)")
                let model = SequenceClassifier(config, seed: options.training.seed)
                let lengths = split.train.map(\.steps)
                print("classify-series: \(dataset.train.count) training, \(dataset.validation.count) validation, \(dataset.test.count) test sequences "
                      + "(\(how)); \(dataset.features) features, lengths \(lengths.min()!)...\(lengths.max()!), \(dataset.classNames.count) classes")
                print("model: \(config.bidirectional ? "bidirectional " : "")\(config.cell) \(config.layers)×\(config.hiddenSize), \(config.pooling) pooling, "
                      + "\(model.parameterCount) parameters; \(describe(options.training))")
                let task = try SeriesClassificationTask(model: model, data: dataset, settings: options.task)
                let clock = ContinuousClock.now
                let (report, trainer) = try training.train(task, options: options.training,
                                                           resumeArguments: [SequenceClassifier.seriesTask] + source.arguments)
                let seconds = ContinuousClock.now - clock
                let scoredOn = dataset.validation.count > 0 ? "validation" : "training"     // no validation split: the last-best training epoch
                let best = report.validation.map { String(format: " (\(scoredOn) accuracy %.2f %%)", $0.accuracy * 100) } ?? ""
                print("best epoch \(report.epoch)\(best); test: \(report.test.summary.replacingOccurrences(of: "sentences", with: "sequences"))")
                let confusion = ConfusionReport(metrics: report.test, classNames: report.classNames)
                print(confusion.table, terminator: "")
                try confusion.write(into: trainer.folder.url, title: "\(SequenceClassifier.seriesTask): test split, rows label, columns prediction")
                print(String(format: "test accuracy %.4f, macro F1 %.4f; %.1f s in all. Run folder: %@ (confusion.csv, confusion.svg)",
                             report.test.accuracy, report.test.macroF1, Double(seconds.components.seconds) + Double(seconds.components.attoseconds) * 1e-18,
                             trainer.folder.url.path))
            }
        }
    }
}
