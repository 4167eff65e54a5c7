import RecurrentModels
import Foundation
import RecurrentIO
import RecurrentNN
import RecurrentTensor

/// One batch's forward pass, as a task hands it to the trainer.
public struct TaskLoss {
    /// The scalar to minimise.
    public var loss: Tensor<Float>
    /// How much this batch counts in the mean training loss (its examples, or 1 for a mean over batches).
    public var weight: Double
    /// Tokens (or samples) the batch trains on, for the throughput column.
    public var tokens: Int
    /// The task's own sums for the training columns (e.g. correct predictions), added up when the update is applied.
    public var tally: [Double]
    /// `loss` as a sum of means, each with the count it is a mean over (examples, tokens; nil and 0 for a
    /// term this batch has nothing for). The replicas of a data-parallel run weigh each term by its share
    /// of the whole batch's count, so that the update is the whole batch's. A task gives the same number
    /// of terms for every batch.
    public var terms: [(loss: Tensor<Float>?, meanOver: Double)]

    /// A loss that is one mean over `meanOver` items (default: `weight`).
    public init(_ loss: Tensor<Float>, weight: Double = 1, tokens: Int, tally: [Double] = [], meanOver: Double? = nil) {
        self.loss = loss
        self.weight = weight
        self.tokens = tokens
        self.tally = tally
        terms = [(loss, meanOver ?? weight)]
    }

    /// A loss that is the sum of the means `terms` (at least one present), in order.
    public init(terms: [(loss: Tensor<Float>?, meanOver: Double)], weight: Double = 1, tokens: Int, tally: [Double] = []) {
        let present = terms.compactMap(\.loss)
        precondition(!present.isEmpty, "TaskLoss: no loss term")
        loss = present.dropFirst().reduce(present[0], +)
        self.weight = weight
        self.tokens = tokens
        self.tally = tally
        self.terms = terms
    }
}

/// Where the run stands at an evaluation or a checkpoint.
public struct RunPosition: Sendable {
    /// The epoch in progress or just ended (1-based; 0 for step schedules).
    public var epoch: Int
    /// Updates made so far.
    public var step: Int
    /// The run's planned updates (after `maxSteps`).
    public var totalSteps: Int
}

/// What the trainer hands a task to build a metrics row: the position, the clock and the window's sums.
public struct RoundSummary: Sendable {
    /// The run's position.
    public var position: RunPosition
    /// Seconds of training so far (including earlier parts of a resumed run).
    public var seconds: Double
    /// Training throughput in the task's tokens (characters, words, steps) per second.
    public var tokensPerSecond: Double
    /// The sums of the training window since the previous evaluation.
    public var window: TrainingWindow
    /// The exponential average of the training loss at this point.
    public var runningLoss: Double
}

/// One evaluation of a run: where it happened, the training figures since the previous one, and the task's scores.
public struct RoundRecord<Evaluation: Codable & Sendable>: Codable, Sendable {
    /// The epoch of the evaluation (0 for step schedules).
    public var epoch: Int
    /// The step of the evaluation.
    public var step: Int
    /// Mean training loss of the window (or the running average, for tasks that log that).
    public var trainLoss: Double
    /// `TrainingWindow.tallyMean` of each tally (e.g. training accuracy).
    public var trainTally: [Double]
    /// Updates of the window whose gradients clipping changed.
    public var clipped: Int
    /// Mean gradient norm before clipping over the window.
    public var gradientNorm: Double
    /// The task's scores.
    public var evaluation: Evaluation
}

/// A kind of training run (character language model, classification, tagging, …) as the one
/// `Trainer` sees it: its data, its loss, its scores and its files. A new task is one type conforming
/// to this protocol; the trainer does the rest (order, updates, clipping, schedules, evaluation rounds,
/// checkpoints, metrics, stopping and resuming).
public protocol TrainingTask: AnyObject {
    /// What `makeBatch` builds and `loss` reads.
    associatedtype Batch
    /// The scores of one evaluation, saved with every record.
    associatedtype Evaluation: Codable & Sendable
    /// What the run returns at the end (the test figures).
    associatedtype Report
    /// The task's own options (data handling, vocabulary thresholds…), saved in options.json beside `TrainingOptions`.
    associatedtype Settings: Codable

    /// The checkpoint's `task` field ("charlm", "classify", …).
    var name: String { get }
    /// The model the trainer updates.
    var model: Module<Float> { get }
    /// config.json's text, also the config of every checkpoint.
    var configJSON: String { get }
    /// The task's settings, saved in options.json.
    var settings: Settings { get }

    // MARK: data
    /// Training examples one epoch visits; nil for tasks whose batches are drawn afresh at every step.
    var epochSize: Int? { get }
    /// The order in which an epoch visits the examples, drawn from `generator` (default: a shuffle of 0..<epochSize).
    func epochOrder(_ generator: inout RandomGenerator) -> [Int]
    /// The batch of the examples `indices` (for tasks without epochs, `0..<batch`: draw that many afresh), drawing what it needs from `generator`.
    func makeBatch(_ indices: ArraySlice<Int>, generator: inout RandomGenerator) -> Batch
    /// Whether the replicas of a data-parallel run can each build a shard of a batch (`makeShard`).
    /// Default: tasks that pass over a data set; a task that draws its batches afresh says so itself.
    var supportsDataParallel: Bool { get }
    /// The rows `rows` of the batch `makeBatch(indices, …)` builds: one replica's shard of a global batch.
    /// It must draw from `generator` exactly what the whole batch draws, so that every replica's
    /// data-order stream stays the same. Default: `makeBatch` of those rows' indices, right for tasks
    /// whose `makeBatch` draws nothing.
    func makeShard(_ indices: ArraySlice<Int>, rows: Range<Int>, generator: inout RandomGenerator) -> Batch
    /// The forward pass of a batch (train mode); `generator` is the data-order stream, for tasks that sample during it.
    func loss(_ batch: Batch, at position: RunPosition, generator: inout RandomGenerator) -> TaskLoss

    // MARK: evaluation
    /// Scores of the current weights on the validation split (the task switches to eval mode and back).
    func evaluate() -> Evaluation
    /// `evaluate()` computed in parts: each replica of a data-parallel run scores `shard.range(of:)` of the
    /// examples and the parts are added with `shard.sum`. Default: every replica scores everything.
    func evaluate(_ shard: EvaluationShard) throws -> Evaluation
    /// Whether `candidate` beats `best` (the best checkpoint is kept by this).
    func isBetter(_ candidate: Evaluation, than best: Evaluation) -> Bool
    /// A few words for progress lines: "val F1 0.912".
    func summary(_ evaluation: Evaluation) -> String

    // MARK: files
    /// The metrics.csv columns, in order.
    var metricsColumns: [String] { get }
    /// The columns drawn in loss_curve.svg.
    var plottedColumns: [String] { get }
    /// One metrics.csv row for a round, in `metricsColumns` order.
    func metricsRow(_ round: RoundSummary, _ evaluation: Evaluation) -> [Double]
    /// The mean training loss a record keeps for this round (default: the window's mean).
    func trainLoss(_ round: RoundSummary) -> Double
    /// The vocabulary stored in checkpoints (nil: none).
    var vocabulary: [String]? { get }
    /// Fields of the best and last checkpoints that describe the model and its data (`evaluation` nil for a
    /// checkpoint saved on a stop request, between evaluations).
    func checkpointFields(_ position: RunPosition, _ evaluation: Evaluation?) -> [String: String]
    /// Files written at the start besides config.json and options.json (vocabulary.json…).
    func runFiles() throws -> [String: Data]
    /// Throws `TrainingError.cannotResume` when `checkpoint` was trained on other data.
    func checkResumable(_ checkpoint: Checkpoint) throws
    /// The task's random streams besides the data order (dropout masks…), saved and restored by name.
    var streams: [String: RandomGenerator] { get set }

    /// After training, with the best weights loaded: the final figures (test split), written to the run folder.
    func finish(_ history: [RoundRecord<Evaluation>], best: RoundRecord<Evaluation>?, in folder: RunFolder, seconds: Double) throws -> Report
    /// Told when the run stops on a NaN or infinite loss or gradient, before the error is thrown
    /// (default: nothing), e.g. to record the divergence.
    func diverged(at step: Int, _ history: [RoundRecord<Evaluation>], window: TrainingWindow, log: RunLog, seconds: Double) throws
}

extension TrainingTask {
    public func epochOrder(_ generator: inout RandomGenerator) -> [Int] {
        var order = Array(0..<(epochSize ?? 0))
        order.shuffle(using: &generator)
        return order
    }
    public var supportsDataParallel: Bool { epochSize != nil }
    public func makeShard(_ indices: ArraySlice<Int>, rows: Range<Int>, generator: inout RandomGenerator) -> Batch {
        makeBatch(indices[(indices.startIndex + rows.lowerBound)..<(indices.startIndex + rows.upperBound)], generator: &generator)
    }
    public func evaluate(_ shard: EvaluationShard) throws -> Evaluation { evaluate() }
    public func trainLoss(_ round: RoundSummary) -> Double { round.window.meanLoss }
    public var vocabulary: [String]? { nil }
    public func runFiles() throws -> [String: Data] { [:] }
    public func checkResumable(_ checkpoint: Checkpoint) throws {}
    public func diverged(at step: Int, _ history: [RoundRecord<Evaluation>], window: TrainingWindow, log: RunLog, seconds: Double) throws {}
}

/// What a running trainer tells whoever watches it (the command line draws a progress bar from these).
public enum TrainingEvent: Sendable {
    /// After each update (or skipped batch).
    case step(TrainingProgress)
    /// After each evaluation, with the task's `summary` of it.
    case evaluated(position: RunPosition, summary: String, improved: Bool)
    /// A batch with a NaN or infinite loss or gradient was dropped (`NonFinitePolicy.skip`); the parameters are unchanged.
    case skippedBatch(step: Int, cause: TrainingError)
    /// The loop has ended (finished, stopped or failed).
    case ended
}

/// Progress after one step.
public struct TrainingProgress: Sendable {
    /// Updates made so far.
    public var step: Int
    /// Updates the run will make.
    public var totalSteps: Int
    /// Fraction of the run done (by steps, or by the clock when a time limit comes first).
    public var fraction: Double
    /// The epoch in progress (0 for step schedules).
    public var epoch: Int
    /// Epochs planned (0 for step schedules).
    public var epochs: Int
    /// This update's loss (over the whole batch, in a data-parallel run) and gradient norm before clipping; NaN for a skipped batch.
    public var loss: Double
    /// The global gradient norm before clipping.
    public var gradientNorm: Double
    /// The learning rate this update used.
    public var learningRate: Double
    /// The exponential average of the training loss.
    public var runningLoss: Double
    /// Training throughput in the task's tokens per second.
    public var tokensPerSecond: Double
    /// The task's summary of the best evaluation so far (empty before the first).
    public var best: String
}
