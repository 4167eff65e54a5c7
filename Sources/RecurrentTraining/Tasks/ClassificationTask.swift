import Foundation
import RecurrentData
import RecurrentIO
import RecurrentModels
import RecurrentNN
import RecurrentTensor

/// Many-to-one sentence classification (`recurrent train classify`): shuffled passes over the training
/// split; the best epoch is the one with the highest validation accuracy (ties: lower loss), scored on
/// the test split at the end (test.json).
public final class ClassificationTask: TrainingTask {
    /// What the task needs besides the shared options; recorded so that `eval` finds the same test split.
    public struct Settings: Codable, Equatable, Sendable {
        /// Seed of the train / validation / test split.
        public var splitSeed: UInt64 = 1
        /// Words seen fewer times in the training split map to `<unk>`.
        public var minCount = 2
        /// The split's seed and the minimum count of a word in the vocabulary.
        public init(splitSeed: UInt64 = 1, minCount: Int = 2) {
            self.splitSeed = splitSeed
            self.minCount = minCount
        }
    }

    /// The test figures of the best checkpoint, as test.json holds them.
    public struct Report: Codable, Sendable {
        /// The epoch whose weights were scored.
        public var epoch: Int
        /// Scores on the test split.
        public var test: ClassificationMetrics
        /// Scores on the validation split, when recorded.
        public var validation: ClassificationMetrics?
    }

    /// 20 epochs of 32 sentences, Adam at 2·10⁻³, clipping at norm 5.
    public static let defaultOptions = TrainingOptions(schedule: .epochs(20), batch: 32, learningRate: 2e-3, clipNorm: 5)

    /// The model being trained.
    public let classifier: SequenceClassifier
    /// The sentences, split and encoded.
    public let data: SentenceClassificationData
    /// The task's settings.
    public let settings: Settings
    public let configJSON: String

    /// A task training `model` on `data` (whose training split must not be empty).
    /// - Throws: when the model's configuration cannot be encoded as JSON.
    public init(model: SequenceClassifier, data: SentenceClassificationData, settings: Settings = Settings()) throws {
        precondition(data.train.count > 0, "ClassificationTask: empty training split")
        classifier = model
        self.data = data
        self.settings = settings
        configJSON = try RunFolder.prettyJSON(model.config)
    }

    public var name: String { SequenceClassifier.task }
    public var model: Module<Float> { classifier }
    public var epochSize: Int? { data.train.count }
    public var vocabulary: [String]? { data.vocabulary.tokens }

    public func epochOrder(_ generator: inout RandomGenerator) -> [Int] { generator.permutation(data.train.count) }

    public func makeBatch(_ indices: ArraySlice<Int>, generator: inout RandomGenerator) -> ClassificationBatch {
        data.train.batches(size: indices.count, order: Array(indices), paddingId: 0)[0]
    }

    public func loss(_ batch: ClassificationBatch, at position: RunPosition, generator: inout RandomGenerator) -> TaskLoss {
        let (loss, logits) = classifier.loss(batch)
        let correct = zip(logits.argmax(axis: 1), batch.labels).filter { $0 == $1 }.count
        return TaskLoss(loss, weight: Double(batch.batch), tokens: batch.lengths.reduce(0, +), tally: [Double(correct)])
    }

    public func evaluate() -> ClassificationMetrics { classifier.evaluate(on: data.validation) }

    /// Each process scores its part of the validation batches; the predictions are gathered and the losses summed.
    public func evaluate(_ shard: EvaluationShard) throws -> ClassificationMetrics {
        let validation = data.validation
        let part = classifier.partialEvaluation(on: validation, part: shard.range(of:))
        let predictions = try shard.gather(part.predictions.map(Double.init), at: part.sentences, count: validation.count)
        let lossSum = try shard.sum([part.lossSum])[0]
        return ClassificationMetrics(predictions: predictions.map { Int($0) }, labels: validation.labels, classes: classifier.config.classes,
                                     loss: validation.count > 0 ? lossSum / Double(validation.count) : .nan)
    }

    /// Higher validation accuracy wins; equal accuracy, lower loss.
    public func isBetter(_ m: ClassificationMetrics, than best: ClassificationMetrics) -> Bool {
        m.accuracy > best.accuracy || (m.accuracy == best.accuracy && m.loss < best.loss)
    }

    public func summary(_ m: ClassificationMetrics) -> String { String(format: "val acc %.2f %%", m.accuracy * 100) }

    public let metricsColumns = ["epoch", "step", "seconds", "train_loss", "train_accuracy", "val_loss", "val_accuracy",
                                 "val_f1", "val_macro_f1", "tokens_per_second", "clipped"]
    public let plottedColumns = ["train_loss", "val_loss"]

    public func metricsRow(_ r: RoundSummary, _ m: ClassificationMetrics) -> [Double] {
        [Double(r.position.epoch), Double(r.position.step), r.seconds, r.window.meanLoss, r.window.tallyMean(0),
         m.loss, m.accuracy, m.f1, m.macroF1, r.tokensPerSecond, Double(r.window.clipped)]
    }

    public func checkpointFields(_ position: RunPosition, _ m: ClassificationMetrics?) -> [String: String] {
        var fields = ["task": name, "epoch": "\(position.epoch)", "step": "\(position.step)", "split_seed": "\(data.splitSeed)",
                      "sentences": "\(data.sentences.train.count + data.sentences.validation.count + data.sentences.test.count)"]
        if let m { fields["val_accuracy"] = "\(m.accuracy)"; fields["val_loss"] = "\(m.loss)" }
        return fields
    }

    public func runFiles() throws -> [String: Data] { ["vocabulary.json": Data(data.vocabulary.jsonString().utf8)] }

    public func checkResumable(_ checkpoint: Checkpoint) throws {
        guard checkpoint.vocabulary == data.vocabulary.tokens else {
            throw TrainingError.cannotResume("the data's vocabulary differs from the checkpoint's: resume on the same data")
        }
    }

    public var streams: [String: RandomGenerator] {
        get { classifier.dropoutStreams }
        set { classifier.dropoutStreams = newValue }
    }

    public func finish(_ history: [RoundRecord<ClassificationMetrics>], best: RoundRecord<ClassificationMetrics>?, in folder: RunFolder,
                       seconds: Double) throws -> Report {
        let report = Report(epoch: best?.epoch ?? 0, test: classifier.evaluate(on: data.test), validation: best?.evaluation)
        try folder.writeJSON(report, to: "test.json")
        return report
    }
}

extension SequenceClassifier {
    /// The dropout streams both classification tasks save and restore: the feature dropout's and the layers'.
    var dropoutStreams: [String: RandomGenerator] {
        get { ["dropout": dropout.generator, "rnn_dropout": rnn.dropoutGenerator] }
        set { dropout.generator = newValue["dropout"]!; rnn.dropoutGenerator = newValue["rnn_dropout"]! }
    }
}
