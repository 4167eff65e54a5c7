import Foundation
import RecurrentData
import RecurrentIO
import RecurrentModels
import RecurrentNN
import RecurrentTensor

/// A character-level language model (`recurrent train charlm`, char-rnn's task): each update on
/// `batch` windows of `seqLen` characters drawn at random from the training text; every
/// `evaluateEvery` steps the first `evalCharacters` of the validation split are scored (nats per
/// character, state carried across chunks), and the lowest validation loss is kept as best.
public final class LanguageModelTask: TrainingTask {
    public struct Settings: Codable, Equatable, Sendable {
        /// Characters per training window (truncated BPTT length).
        public var seqLen = 64
        /// Validation characters scored at each evaluation (the first ones of the split).
        public var evalCharacters = 32768
        /// Window length in characters, and how many validation characters each evaluation scores.
        public init(seqLen: Int = 64, evalCharacters: Int = 32768) {
            self.seqLen = seqLen
            self.evalCharacters = evalCharacters
        }
    }

    /// 2000 steps with an evaluation every 200, 32 windows per batch, Adam at 2·10⁻³, clipping at norm 5 (char-rnn's settings).
    public static let defaultOptions = TrainingOptions(schedule: .steps(2000, evaluateEvery: 200), batch: 32, learningRate: 2e-3, clipNorm: 5)

    /// The model being trained.
    public let languageModel: LanguageModel
    /// The text, as ids.
    public let corpus: TextCorpus
    /// The task's settings.
    public let settings: Settings
    public let configJSON: String
    /// Parallel streams of the validation pass (the command line uses the training batch).
    let evaluationStreams: Int

    /// A task training `model` on `corpus`; evaluation runs `evaluationStreams` contiguous streams of the validation text side by side.
    /// - Throws: `TrainingError.badOptions` when a setting is not positive; an error when the model's configuration cannot be encoded as JSON.
    public init(model: LanguageModel, corpus: TextCorpus, settings: Settings = Settings(), evaluationStreams: Int = 32) throws {
        guard settings.seqLen > 0, settings.evalCharacters > 0, evaluationStreams > 0 else {
            throw TrainingError.badOptions("the sequence length, evaluation characters and evaluation streams must be positive")
        }
        languageModel = model
        self.corpus = corpus
        self.settings = settings
        self.evaluationStreams = evaluationStreams
        configJSON = try RunFolder.prettyJSON(model.config)
    }

    public var name: String { "charlm" }
    public var model: Module<Float> { languageModel }
    public var epochSize: Int? { nil }
    public var vocabulary: [String]? { corpus.vocabulary.tokens }

    public func makeBatch(_ indices: ArraySlice<Int>, generator: inout RandomGenerator) -> LanguageModelBatch {
        LanguageModelBatch.random(from: corpus.train, steps: settings.seqLen, batch: indices.count, generator: &generator)
    }

    /// Draws every window of the global batch (so every process's stream moves alike) and keeps `rows`.
    public func makeShard(_ indices: ArraySlice<Int>, rows: Range<Int>, generator: inout RandomGenerator) -> LanguageModelBatch {
        let starts = LanguageModelBatch.randomStarts(in: corpus.train, steps: settings.seqLen, batch: indices.count, generator: &generator)
        return LanguageModelBatch.windows(from: corpus.train, starts: Array(starts[rows]), steps: settings.seqLen)
    }
    public var supportsDataParallel: Bool { true }

    public func loss(_ batch: LanguageModelBatch, at position: RunPosition, generator: inout RandomGenerator) -> TaskLoss {
        TaskLoss(languageModel.loss(batch).loss, tokens: batch.targets.count)
    }

    /// Mean nats per character over the first `evalCharacters` of the validation split.
    public func evaluate() -> Double {
        languageModel.meanLoss(on: Array(corpus.validation.prefix(settings.evalCharacters + 1)), seqLen: settings.seqLen, streams: evaluationStreams)
    }

    /// Each process scores its part of the parallel streams.
    public func evaluate(_ shard: EvaluationShard) throws -> Double {
        let part = languageModel.partialLoss(on: Array(corpus.validation.prefix(settings.evalCharacters + 1)), seqLen: settings.seqLen,
                                             streams: evaluationStreams, part: shard.range(of:))
        let sum = try shard.sum([part.sum])[0]
        return part.batches > 0 ? sum / Double(part.batches) : .nan
    }

    public func isBetter(_ loss: Double, than best: Double) -> Bool { loss < best || (best.isNaN && !loss.isNaN) }
    public func summary(_ loss: Double) -> String { String(format: "val %.3f", loss) }

    public let metricsColumns = ["step", "seconds", "train_loss", "val_loss", "val_bpc", "tokens_per_second", "clipped"]
    public let plottedColumns = ["train_loss", "val_loss"]

    /// The running average of the training loss, as char-rnn logs it.
    public func trainLoss(_ r: RoundSummary) -> Double { r.runningLoss }

    public func metricsRow(_ r: RoundSummary, _ loss: Double) -> [Double] {
        [Double(r.position.step), r.seconds, r.runningLoss, loss, loss / M_LN2, r.tokensPerSecond, Double(r.window.clipped)]
    }

    public func checkpointFields(_ position: RunPosition, _ loss: Double?) -> [String: String] {
        var fields = ["task": name, "step": "\(position.step)"]
        if let loss { fields["val_loss"] = "\(loss)" }
        return fields
    }

    public func runFiles() throws -> [String: Data] { ["vocabulary.json": Data(corpus.vocabulary.jsonString().utf8)] }

    public func checkResumable(_ checkpoint: Checkpoint) throws {
        guard checkpoint.vocabulary == corpus.vocabulary.tokens else {
            throw TrainingError.cannotResume("the data's vocabulary differs from the checkpoint's: resume on the same text")
        }
    }

    public var streams: [String: RandomGenerator] {
        get { ["dropout": languageModel.rnn.dropoutGenerator] }
        set { languageModel.rnn.dropoutGenerator = newValue["dropout"]! }
    }

    /// The validation loss of the last evaluation (NaN when there was none).
    public func finish(_ history: [RoundRecord<Double>], best: RoundRecord<Double>?, in folder: RunFolder, seconds: Double) throws -> Double {
        history.last?.evaluation ?? .nan
    }
}
