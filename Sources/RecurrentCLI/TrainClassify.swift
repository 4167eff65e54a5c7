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
            Defaults: 20 epochs, batch 32, lr 0.002, clip-norm 5.

            Example:
              recurrent train classify --data Examples/data/sentiment --out runs/sentiment
            """
        )

        @Option(help: "A sentence<TAB>label file, or a folder of *_labelled.txt files.") var data: String
        @Option(help: "Recurrent cell: lstm, gru, rnn (tanh) or jordan.") var cell = CellKind.lstm
        @Option(help: "Hidden units per layer and direction.") var hidden = 64
        @Option(help: "Stacked recurrent layers.") var layers = 1
        @Option(help: "Word embedding size.") var embedding = 64
        @Flag(inversion: .prefixedNo, help: "Read each sentence in both directions.") var bidirectional = true
        @Option(help: "Sequence to vector: final (last states), mean, max or attention (masked, over the outputs).") var pooling = Pooling.max
        @Option(help: "Dropout on embeddings, pooled features and between layers (train mode).") var dropout = 0.5
        @Option(name: .customLong("min-count"), help: "Words seen fewer times in training become <unk>.") var minCount = 2
        @Option(help: "Number of classes (labels are 0..<classes).") var classes = 2
        @Option(name: .customLong("split-seed"), help: "Seed of the train/validation/test split.") var splitSeed: UInt64 = 1
        @OptionGroup var training: TrainingArguments

        func validate() throws {
            guard hidden > 0, layers > 0, embedding > 0, minCount > 0 else {
                throw ValidationError("--hidden, --layers, --embedding, --batch, --epochs and --min-count must be positive")
            }
            guard hidden <= 65_536, embedding <= 65_536, layers <= 64 else { throw ValidationError("--hidden, --embedding or --layers is too large") }
            guard classes >= 2, classes <= 100_000 else { throw ValidationError("--classes must be at least 2, got \(classes)") }
            guard isDropoutProbability(dropout) else { throw ValidationError("--dropout must be in [0, 1) in single precision, got \(dropout)") }
        }

        func run() throws {
            try reportingErrors {
                let options = try training.runOptions("classify", defaults: ClassificationTask.defaultOptions,
                                                      settings: ClassificationTask.Settings(splitSeed: splitSeed, minCount: minCount))
                let saved = try training.savedConfig(SequenceClassifierConfig.self, task: "classify") { try $0.validate() }
                let settings = options.task
                let dataset = try SentenceClassificationData(path: data, classes: saved?.classes ?? classes, splitSeed: settings.splitSeed, minCount: settings.minCount)
                guard dataset.train.count > 0, dataset.validation.count > 0 else {
                    throw ValidationError("\(data) has \(dataset.sentences.train.count + dataset.sentences.validation.count + dataset.sentences.test.count) sentences; the 80/10/10 split needs at least 10")
                }
                let config = saved ?? SequenceClassifierConfig(vocabularySize: dataset.vocabulary.count, embeddingSize: embedding, hiddenSize: hidden,
                                                               layers: layers, cell: cell, bidirectional: bidirectional, dropout: dropout,
                                                               classes: classes, pooling: pooling)
                try config.validate()
                try MemoryEstimate.requireTraining(parameters: config.minimumParameterCount, for: "a \(config.layers)×\(config.hiddenSize) \(config.cell)")
                let model = SequenceClassifier(config, seed: options.training.seed)
                print("classify: \(dataset.train.count) training, \(dataset.validation.count) validation and \(dataset.test.count) test sentences, vocabulary \(dataset.vocabulary.count) words")
                print("model: \(config.bidirectional ? "bidirectional " : "")\(config.cell) \(config.layers)×\(config.hiddenSize), \(config.pooling) pooling, "
                      + "\(model.parameterCount) parameters; \(describe(options.training))")
                let task = try ClassificationTask(model: model, data: dataset, settings: settings)
                let (report, trainer) = try training.train(task, options: options.training, resumeArguments: ["classify", "--data", data])
                for record in trainer.history {
                    let v = record.evaluation
                    print(String(format: "epoch %2d  train loss %.4f acc %.2f %%  validation loss %.4f acc %.2f %% F1 %.4f macro F1 %.4f",
                                 record.epoch, record.trainLoss, (record.trainTally.first ?? .nan) * 100, v.loss, v.accuracy * 100, v.f1, v.macroF1))
                }
                print("best epoch \(report.epoch); test: \(report.test.summary). Run folder: \(trainer.folder.url.path)")
            }
        }
    }
}

/// "batch 32, Adam lr 0.002, 20 epochs" for the lines a `train` command prints first.
func describe(_ options: TrainingOptions) -> String {
    let length = switch options.schedule {
    case let .epochs(count, _): "\(count) epochs"
    case let .steps(count, _): "\(count) steps"
    }
    let schedule = options.learningRateSchedule == .constant ? "" : " (\(options.learningRateSchedule.rawValue))"
    let patience = options.patience > 0 ? ", early stopping after \(options.patience) evaluations without improvement" : ""
    return "batch \(options.batch), \(options.update.summary) lr \(options.learningRate)\(schedule), \(length)\(patience)"
}
