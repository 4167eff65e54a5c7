import Foundation
import RecurrentData
import RecurrentIO
import RecurrentModels
import RecurrentNN
import RecurrentTensor

/// Many-to-one classification of real-vector sequences (`recurrent train classify-series`): the word classifier's
/// model fed standardised vectors instead of embeddings. Shuffled passes over the training split; the best epoch is
/// the one with the highest validation accuracy (ties: lower loss), scored on the test split at the end (test.json).
public final class SeriesClassificationTask: TrainingTask {
    /// What the task needs besides the shared options; recorded so that `eval` finds the same splits.
    public struct Settings: Codable, Equatable, Sendable {
        /// Seed of the validation (and, without a test file, the test) split.
        public var splitSeed: UInt64 = 1
        /// Fraction of the training data held out for validation.
        public var validationFraction = 0.2
        /// How a hyperspectral cube is split (`--bands-as-sequence` only).
        public var cubeSplit = CubeSplit.block
        /// Side of the squares of a block split, in pixels.
        public var blockSize = 8
        /// Standard deviation of Gaussian noise added to the standardised training inputs (0: none), a regulariser
        /// for small sets of recordings; drawn from the data-order stream, so a resumed run draws the same noise.
        public var inputNoise = 0.0
        /// The split's seed, the validation fraction (for data without one), how hyperspectral pixels are split and in what blocks, and the standard deviation of the Gaussian noise added to training inputs.
        public init(splitSeed: UInt64 = 1, validationFraction: Double = 0.2, cubeSplit: CubeSplit = .block, blockSize: Int = 8, inputNoise: Double = 0) {
            self.splitSeed = splitSeed
            self.validationFraction = validationFraction
            self.cubeSplit = cubeSplit
            self.blockSize = blockSize
            self.inputNoise = inputNoise
        }
    }

    /// The test figures of the best checkpoint, as test.json holds them.
    public struct Report: Codable, Sendable {
        /// The epoch whose weights were scored.
        public var epoch: Int
        /// The class names, in id order.
        public var classNames: [String]
        /// Scores on the test split.
        public var test: ClassificationMetrics
        /// Scores on the validation split, when recorded.
        public var validation: ClassificationMetrics?
    }

    /// 60 epochs of 16 sequences, Adam at 3·10⁻³, clipping at norm 5.
    public static let defaultOptions = TrainingOptions(schedule: .epochs(60), batch: 16, learningRate: 3e-3, clipNorm: 5)

    /// The model being trained.
    public let classifier: SequenceClassifier
    /// The sequences, split and standardised.
    public let data: SeriesClassificationData
    /// The task's settings.
    public let settings: Settings
    public let configJSON: String

    /// A task training `model` on `data`.
    /// - Throws: when the model's configuration cannot be encoded as JSON.
    public init(model: SequenceClassifier, data: SeriesClassificationData, settings: Settings = Settings()) throws {
        precondition(data.train.count > 0 && model.config.inputFeatures == data.features, "SeriesClassificationTask: empty training split or feature mismatch")
        classifier = model
        self.data = data
        self.settings = settings
        configJSON = try RunFolder.prettyJSON(model.config)
    }

    public var name: String { SequenceClassifier.seriesTask }
    public var model: Module<Float> { classifier }
    public var epochSize: Int? { data.train.count }

    public func makeBatch(_ indices: ArraySlice<Int>, generator: inout RandomGenerator) -> SeriesBatch {
        var batch = data.train.batch(indices)
        guard settings.inputNoise > 0 else { return batch }
        let B = batch.batch, F = batch.features, sigma = Float(settings.inputNoise)
        for t in 0..<batch.steps {
            for b in 0..<B where t < batch.lengths[b] {              // padding stays zero
                for f in 0..<F { batch.values[(t * B + b) * F + f] += sigma * generator.nextNormal(Float.self) }
            }
        }
        return batch
    }

    /// With input noise the whole global batch draws it (as one process does) and `rows` are kept, so every
    /// data-parallel process's order stream moves alike.
    public func makeShard(_ indices: ArraySlice<Int>, rows: Range<Int>, generator: inout RandomGenerator) -> SeriesBatch {
        let mine = Array(indices)[rows]
        guard settings.inputNoise > 0 else { return data.train.batch(mine) }
        let whole = makeBatch(indices, generator: &generator)
        var shard = data.train.batch(mine)
        let F = shard.features
        for (b, column) in rows.enumerated() {
            for t in 0..<shard.lengths[b] {
                for f in 0..<F { shard.values[(t * shard.batch + b) * F + f] = whole.values[(t * whole.batch + column) * F + f] }
            }
        }
        return shard
    }

    public func loss(_ batch: SeriesBatch, at position: RunPosition, generator: inout RandomGenerator) -> TaskLoss {
        let (loss, logits) = classifier.loss(batch)
        let correct = zip(logits.argmax(axis: 1), batch.labels).filter { $0 == $1 }.count
        return TaskLoss(loss, weight: Double(batch.batch), tokens: batch.lengths.reduce(0, +), tally: [Double(correct)])
    }

    /// The validation split's scores; with no validation split (all data trains), the training split's.
    public func evaluate() -> ClassificationMetrics { classifier.evaluate(on: data.validation.count > 0 ? data.validation : data.train) }

    /// Higher validation accuracy wins; equal accuracy, lower loss.
    public func isBetter(_ m: ClassificationMetrics, than best: ClassificationMetrics) -> Bool {
        m.accuracy > best.accuracy || (m.accuracy == best.accuracy && m.loss < best.loss)
    }

    public func summary(_ m: ClassificationMetrics) -> String { String(format: "val acc %.2f %%", m.accuracy * 100) }

    public let metricsColumns = ["epoch", "step", "seconds", "train_loss", "train_accuracy", "val_loss", "val_accuracy",
                                 "val_macro_f1", "steps_per_second", "clipped"]
    public let plottedColumns = ["train_loss", "val_loss"]

    public func metricsRow(_ r: RoundSummary, _ m: ClassificationMetrics) -> [Double] {
        [Double(r.position.epoch), Double(r.position.step), r.seconds, r.window.meanLoss, r.window.tallyMean(0),
         m.loss, m.accuracy, m.macroF1, r.tokensPerSecond, Double(r.window.clipped)]
    }

    public func checkpointFields(_ position: RunPosition, _ m: ClassificationMetrics?) -> [String: String] {
        var fields = ["task": name, "epoch": "\(position.epoch)", "step": "\(position.step)", "split_seed": "\(settings.splitSeed)",
                      "validation_fraction": "\(settings.validationFraction)", "cube_split": settings.cubeSplit.rawValue,
                      "block_size": "\(settings.blockSize)",
                      "sequences": "\(data.raw.train.count + data.raw.validation.count + data.raw.test.count)"]
        if let m { fields["val_accuracy"] = "\(m.accuracy)"; fields["val_loss"] = "\(m.loss)" }
        return fields
    }

    public func checkResumable(_ checkpoint: Checkpoint) throws {
        let config = try? checkpoint.decodeConfig(SequenceClassifierConfig.self)
        guard config?.scaler == data.scaler, config?.classNames == data.classNames else {
            throw TrainingError.cannotResume("the data's classes or feature statistics differ from the checkpoint's: resume on the same data")
        }
    }

    public var streams: [String: RandomGenerator] {
        get { classifier.dropoutStreams }
        set { classifier.dropoutStreams = newValue }
    }

    public func finish(_ history: [RoundRecord<ClassificationMetrics>], best: RoundRecord<ClassificationMetrics>?, in folder: RunFolder,
                       seconds: Double) throws -> Report {
        let report = Report(epoch: best?.epoch ?? 0, classNames: data.classNames, test: classifier.evaluate(on: data.test),
                            validation: best?.evaluation)
        try folder.writeJSON(report, to: "test.json")
        return report
    }
}
