import ArgumentParser
import Foundation
import Recurrent

extension RecurrentCommand.Train {
    /// `recurrent train classify`: many-to-one sentence classification.
    struct Classify: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "classify",
            abstract: "Train a sentence classifier on sentence<TAB>label data.",
            discussion: """
            --data is one sentence<TAB>label file or a folder of *_labelled.txt files (the UCI sentiment sentences).

            The sentences are split 80/10/10 into train/validation/test by --split-seed; the best epoch on validation is kept and scored on test.

            Writes config.json, options.json, vocabulary.json, metrics.csv, best.safetensors, last.safetensors and test.json into --out.

            Example:
              recurrent train classify --data Examples/data/sentiment --out runs/sentiment
            """
        )

        @Option(help: "A sentence<TAB>label file, or a folder of *_labelled.txt files.") var data: String
        @Option(help: "Recurrent cell: lstm, gru, rnn (tanh) or jordan.") var cell = "lstm"
        @Option(help: "Hidden units per layer and direction.") var hidden = 64
        @Option(help: "Stacked recurrent layers.") var layers = 1
        @Option(help: "Word embedding size.") var embedding = 64
        @Flag(inversion: .prefixedNo, help: "Read each sentence in both directions.") var bidirectional = true
        @Option(help: "Sequence to vector: final (last states), mean or max (masked, over the outputs).") var pooling = "max"
        @Option(help: "Dropout on embeddings, pooled features and between layers (train mode).") var dropout = 0.5
        @Option(help: "Learning rate.") var lr = 2e-3
        @Option(name: .customLong("clip-norm"), help: "Clip the global gradient norm to this value (0: off).") var clipNorm = 5.0
        @Option(help: "Passes over the training split (default 20).") var epochs: Int?
        @Option(help: "Sentences per batch.") var batch = 32
        @Option(name: .customLong("min-count"), help: "Words seen fewer times in training become <unk>.") var minCount = 2
        @Option(help: "Number of classes (labels are 0..<classes).") var classes = 2
        @Option(help: "Random seed of initialisation, dropout and shuffling.") var seed: UInt64 = 1
        @Option(name: .customLong("split-seed"), help: "Seed of the train/validation/test split.") var splitSeed: UInt64 = 1
        @Option(name: [.customLong("steps"), .customLong("max-steps")], help: "Stop after this many batches in all (0: no limit).") var steps: Int?
        @Option(help: "Run folder.") var out = "runs/classify"
        @Flag(help: "Continue the run in --out after its last completed epoch, with its saved options (--epochs and --steps may change); gives the numbers an uninterrupted run gives.")
        var resume = false
        @OptionGroup var update: UpdateRuleOptions
        @OptionGroup var configFile: ConfigFileOption

        func validate() throws {
            guard SequenceClassifierConfig.cells.contains(cell) else {
                throw ValidationError("--cell must be one of \(SequenceClassifierConfig.cells.joined(separator: ", ")), got '\(cell)'")
            }
            guard SequenceClassifierConfig.poolings.contains(pooling) else {
                throw ValidationError("--pooling must be one of \(SequenceClassifierConfig.poolings.joined(separator: ", ")), got '\(pooling)'")
            }
            guard hidden > 0, layers > 0, embedding > 0, batch > 0, (epochs ?? 1) > 0, minCount > 0 else {
                throw ValidationError("--hidden, --layers, --embedding, --batch, --epochs and --min-count must be positive")
            }
            guard hidden <= 65_536, embedding <= 65_536, layers <= 64 else { throw ValidationError("--hidden, --embedding or --layers is too large") }
            guard classes >= 2, classes <= 100_000 else { throw ValidationError("--classes must be at least 2, got \(classes)") }
            guard lr > 0, lr.isFinite else { throw ValidationError("--lr must be a positive number, got \(lr)") }
            guard clipNorm >= 0, clipNorm.isFinite else { throw ValidationError("--clip-norm must not be negative, got \(clipNorm)") }
            guard isDropoutProbability(dropout) else { throw ValidationError("--dropout must be in [0, 1) in single precision, got \(dropout)") }
            guard (steps ?? 0) >= 0 else { throw ValidationError("--steps must not be negative") }
        }

        func run() throws {
            try reportingErrors {
                let folder = URL(fileURLWithPath: out)
                var options = ClassifierTrainingOptions()
                let config: SequenceClassifierConfig
                let dataset: SentenceClassificationData
                if resume {
                    // The saved options and config, so the continued run is the same run.
                    options = try readOptions(ClassifierTrainingOptions(), folder.appendingPathComponent("options.json"))
                    try options.validate()
                    config = try readJSON(SequenceClassifierConfig.self, folder.appendingPathComponent("config.json"))
                    try config.validate()
                    dataset = try SentenceClassificationData(path: data, classes: config.classes, splitSeed: options.splitSeed, minCount: options.minCount)
                } else {
                    try configFile.echo(into: folder)
                    dataset = try SentenceClassificationData(path: data, classes: classes, splitSeed: splitSeed, minCount: minCount)
                    options.batch = batch; options.learningRate = lr; options.update = update.rule
                    options.clipNorm = clipNorm; options.seed = seed; options.splitSeed = splitSeed; options.minCount = minCount
                    config = SequenceClassifierConfig(vocabularySize: dataset.vocabulary.count, embeddingSize: embedding, hiddenSize: hidden,
                                                      layers: layers, cell: cell, bidirectional: bidirectional, dropout: dropout,
                                                      classes: classes, pooling: pooling)
                }
                if let epochs { options.epochs = epochs }
                if let steps { options.maxSteps = steps }
                guard dataset.train.count > 0, dataset.validation.count > 0 else {
                    throw ValidationError("\(data) has \(dataset.sentences.train.count + dataset.sentences.validation.count + dataset.sentences.test.count) sentences; the 80/10/10 split needs at least 10")
                }
                try config.validate()
                try MemoryEstimate.requireTraining(parameters: config.minimumParameterCount, for: "a \(config.layers)×\(config.hiddenSize) \(config.cell)")
                let model = SequenceClassifier(config, seed: options.seed)
                print("classify: \(dataset.train.count) training, \(dataset.validation.count) validation and \(dataset.test.count) test sentences, vocabulary \(dataset.vocabulary.count) words")
                print("model: \(config.bidirectional ? "bidirectional " : "")\(config.cell) \(config.layers)×\(config.hiddenSize), \(config.pooling) pooling, \(model.parameterCount) parameters; batch \(options.batch), \(options.update.summary) lr \(options.learningRate), \(options.epochs) epochs")
                let trainer = SequenceClassifierTrainer(model: model, data: dataset, options: options, runFolder: folder)
                let test = try withStopHandling(task: "classify", data: data, out: out) { stop in
                    trainer.stopRequested = stop
                    trainer.onNonFinite = update.nonFinitePolicy
                    return try trainer.run(resume: resume)
                }
                for record in trainer.history {
                    print(String(format: "epoch %2d  train loss %.4f acc %.2f %%  validation loss %.4f acc %.2f %% F1 %.4f macro F1 %.4f",
                                 record.epoch, record.trainLoss, record.trainAccuracy * 100, record.validation.loss,
                                 record.validation.accuracy * 100, record.validation.f1, record.validation.macroF1))
                }
                print("best epoch \(trainer.bestEpoch); test: \(test.summary). Run folder: \(out)")
            }
        }
    }
}
