import Foundation
import RecurrentData
import RecurrentIO
import RecurrentModels
import RecurrentNN
import RecurrentTensor

/// What a memory-task run ended with; written to result.json.
public struct MemoryTaskResult: Codable, Equatable, Sendable {
    /// The adding problem or the copy task.
    public var task: MemoryTaskKind
    /// The recurrence.
    public var cell: CellKind
    /// The adding problem's length, or the copy task's delay.
    public var lag: Int
    /// Updates made (fewer than asked when the run diverged).
    public var steps: Int
    /// Validation loss after the last evaluation (MSE for adding, recall cross-entropy for copy).
    public var validationLoss: Double
    /// The lowest validation loss of the run.
    public var bestValidationLoss: Double
    /// Copy task: fraction of recall steps right. Nil for adding.
    public var validationAccuracy: Double?
    /// The loss of a model that learnt nothing (1/6 for adding, log K for copy).
    public var baselineLoss: Double
    /// Seconds of training.
    public var seconds: Double
    /// Updates whose gradients clipping changed (norm above `clipNorm`, or an element beyond ±clipValue).
    public var clippedSteps: Int
    /// The step at which the loss or a gradient became NaN or infinite, if it did.
    public var divergedAtStep: Int?
}

/// Scores of a memory-task model on its validation set.
public struct MemoryTaskEvaluation: Codable, Equatable, Sendable {
    /// Mean validation loss (MSE for adding, recall cross-entropy for copy).
    public var loss: Double
    /// Copy task: the fraction of recall steps right; nil for adding.
    public var accuracy: Double?
}

/// A long-range memory benchmark (`recurrent train adding` / `copy`): every update on a freshly drawn
/// batch of the task; every `evaluateEvery` steps a fixed validation set (drawn from its own stream) is
/// scored, with the mean gradient norm before clipping in the metrics. result.json sums the run up, also
/// when it diverged.
public final class MemoryTaskTraining: TrainingTask {
    public struct Settings: Codable, Equatable, Sendable {
        /// Sequences in the fixed validation set.
        public var validationSize = 256
        /// The number of validation sequences.
        public init(validationSize: Int = 256) { self.validationSize = validationSize }
    }

    /// 2000 steps with an evaluation every 100, 32 sequences per batch, Adam at 10⁻³, clipping at norm 1.
    public static let defaultOptions = TrainingOptions(schedule: .steps(2000, evaluateEvery: 100), batch: 32, learningRate: 1e-3, clipNorm: 1)

    /// The model being trained.
    public let memoryModel: MemoryTaskModel
    /// The task's settings.
    public let settings: Settings
    public let configJSON: String
    let validation: MemoryTaskBatch

    /// - Parameter seed: the run's seed; the validation set is drawn from a stream derived from it.
    public init(model: MemoryTaskModel, settings: Settings = Settings(), seed: UInt64) throws {
        guard settings.validationSize >= 1, settings.validationSize <= 1_000_000 else {
            throw TrainingError.badOptions("the validation set must hold 1...1000000 sequences, got \(settings.validationSize)")
        }
        memoryModel = model
        self.settings = settings
        configJSON = try RunFolder.prettyJSON(model.config)
        validation = Self.validationBatch(model.task, size: settings.validationSize, seed: seed)
    }

    /// The fixed validation set: drawn from its own stream, so it never overlaps the training stream's order.
    public static func validationBatch(_ task: MemoryTask, size: Int, seed: UInt64) -> MemoryTaskBatch {
        var generator = RandomGenerator(seed: seed ^ 0xA5A5_5A5A_0F0F_F0F0)
        return MemoryTaskBatch(task, size: size, generator: &generator)
    }

    public var name: String { memoryModel.config.task.rawValue }
    public var model: Module<Float> { memoryModel }
    public var epochSize: Int? { nil }

    public func makeBatch(_ indices: ArraySlice<Int>, generator: inout RandomGenerator) -> MemoryTaskBatch {
        MemoryTaskBatch(memoryModel.task, size: indices.count, generator: &generator)
    }

    public func loss(_ batch: MemoryTaskBatch, at position: RunPosition, generator: inout RandomGenerator) -> TaskLoss {
        TaskLoss(memoryModel.loss(batch), tokens: batch.batch * batch.steps)
    }

    public func evaluate() -> MemoryTaskEvaluation {
        let (loss, accuracy) = memoryModel.evaluate(validation)
        return MemoryTaskEvaluation(loss: loss, accuracy: accuracy)
    }

    public func isBetter(_ e: MemoryTaskEvaluation, than best: MemoryTaskEvaluation) -> Bool { e.loss < best.loss || (best.loss.isNaN && !e.loss.isNaN) }
    public func summary(_ e: MemoryTaskEvaluation) -> String { String(format: "val %.4f", e.loss) }

    public let metricsColumns = ["step", "seconds", "train_loss", "val_loss", "val_accuracy", "grad_norm", "clipped"]
    public let plottedColumns = ["train_loss", "val_loss"]

    public func metricsRow(_ r: RoundSummary, _ e: MemoryTaskEvaluation) -> [Double] {
        [Double(r.position.step), r.seconds, r.window.meanLoss, e.loss, e.accuracy ?? .nan, r.window.meanGradientNorm, Double(r.window.clipped)]
    }

    public func checkpointFields(_ position: RunPosition, _ e: MemoryTaskEvaluation?) -> [String: String] {
        var fields = ["task": name, "step": "\(position.step)"]
        if let e { fields["val_loss"] = "\(e.loss)" }
        return fields
    }

    public var streams: [String: RandomGenerator] { get { [:] } set {} }

    func result(_ history: [RoundRecord<MemoryTaskEvaluation>], seconds: Double) -> MemoryTaskResult {
        let c = memoryModel.config
        return MemoryTaskResult(task: c.task, cell: c.cell, lag: c.lag, steps: history.last?.step ?? 0,
                                validationLoss: history.last?.evaluation.loss ?? .nan,
                                bestValidationLoss: history.map(\.evaluation.loss).filter { !$0.isNaN }.min() ?? .infinity,
                                validationAccuracy: history.last?.evaluation.accuracy, baselineLoss: memoryModel.task.baselineLoss,
                                seconds: seconds, clippedSteps: history.reduce(0) { $0 + $1.clipped }, divergedAtStep: nil)
    }

    public func finish(_ history: [RoundRecord<MemoryTaskEvaluation>], best: RoundRecord<MemoryTaskEvaluation>?, in folder: RunFolder,
                       seconds: Double) throws -> MemoryTaskResult {
        let summary = result(history, seconds: seconds)
        try folder.writeJSON(summary, to: "result.json")
        return summary
    }

    /// Logs the divergence (a row of +∞ training loss) and writes result.json, without evaluating or
    /// checkpointing the broken model.
    public func diverged(at step: Int, _ history: [RoundRecord<MemoryTaskEvaluation>], window: TrainingWindow, log: RunLog,
                         seconds: Double) throws {
        var summary = result(history, seconds: seconds)
        summary.divergedAtStep = step
        summary.steps = step - 1
        summary.clippedSteps += window.clipped
        try log.record([Double(step), seconds, .infinity, .nan, .nan, .nan, Double(window.clipped)])
        try RunFolder(log.folder).writeJSON(summary, to: "result.json")
    }
}
