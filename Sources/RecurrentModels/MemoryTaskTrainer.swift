import Foundation
import RecurrentData
import RecurrentIO
import RecurrentNN
import RecurrentTensor

/// Options of `recurrent train adding` and `recurrent train copy`.
public struct MemoryTaskOptions: Codable, Equatable, Sendable {
    /// Updates; every batch is freshly drawn, so there are no epochs.
    public var steps = 2000
    public var batch = 32
    public var learningRate = 1e-3
    /// Global-norm clipping threshold (0: off).
    public var clipNorm = 1.0
    /// Optimizer, momentum, weight decay, element-wise clipping. Plain SGD shows exploding gradients;
    /// Adam's step size hides their scale.
    public var update = UpdateRule()
    /// Evaluate, log and checkpoint every N steps (and after the last).
    public var evalEvery = 100
    /// Sequences in the fixed validation set.
    public var validationSize = 256
    public var seed: UInt64 = 1
    public init() {}

    /// Checks values that may come from the command line or a file.
    public func validate() throws {
        guard steps >= 1, batch >= 1, evalEvery >= 1, validationSize >= 1 else {
            throw TrainingError.badOptions("steps, batch, evalEvery and validationSize must be positive")
        }
        guard batch <= 1_000_000, validationSize <= 1_000_000 else { throw TrainingError.badOptions("batch or validationSize is too large") }
        guard learningRate > 0, learningRate.isFinite else { throw TrainingError.badOptions("learningRate must be a positive number, got \(learningRate)") }
        guard clipNorm >= 0, clipNorm.isFinite else { throw TrainingError.badOptions("clipNorm must not be negative (0: off), got \(clipNorm)") }
        try update.validate()
    }
}

/// What a memory-task run ended with; written to result.json.
public struct MemoryTaskResult: Codable, Equatable, Sendable {
    public var task: String
    public var cell: String
    public var lag: Int
    /// Updates made (fewer than asked when the run diverged).
    public var steps: Int
    /// Validation loss after the last update (MSE for adding, recall cross-entropy for copy).
    public var validationLoss: Double
    public var bestValidationLoss: Double
    /// Copy task: fraction of recall steps right. Nil for adding.
    public var validationAccuracy: Double?
    /// The loss of a model that learnt nothing (1/6 for adding, log K for copy).
    public var baselineLoss: Double
    public var seconds: Double
    /// Updates whose gradients clipping changed (norm above `clipNorm`, or an element beyond ±clipValue).
    public var clippedSteps: Int
    /// The step at which the loss or a gradient became NaN or infinite, if it did.
    public var divergedAtStep: Int?
}

/// Trains a `MemoryTaskModel` on freshly drawn batches of its task, with the optimizer and clipping
/// of its `UpdateRule` and optional global-norm clipping, evaluating on a fixed validation set every `evalEvery` steps.
///
/// Writes into the run folder: config.json, options.json, metrics.csv (step, seconds, train loss,
/// validation loss and accuracy, mean gradient norm before clipping, and `clipped`, how many of the
/// interval's updates clipping scaled down), loss_curve.svg, TensorBoard events, best.safetensors
/// (lowest validation loss), last.safetensors and result.json.
public final class MemoryTaskTrainer {
    public let model: MemoryTaskModel
    public let options: MemoryTaskOptions
    public let runFolder: URL
    /// The training loss of every update, in order (for pictures of single steps, e.g. divergence).
    public private(set) var stepLosses: [Double] = []
    /// The result so far (complete after `run`, also when it threw because the run diverged).
    public private(set) var result: MemoryTaskResult

    /// - Precondition: `options.validate()` passed.
    public init(model: MemoryTaskModel, options: MemoryTaskOptions, runFolder: URL) {
        self.model = model
        self.options = options
        self.runFolder = runFolder
        result = MemoryTaskResult(task: model.config.task, cell: model.config.cell, lag: model.config.lag, steps: 0,
                                  validationLoss: .nan, bestValidationLoss: .infinity, validationAccuracy: nil,
                                  baselineLoss: model.task.baselineLoss, seconds: 0, clippedSteps: 0, divergedAtStep: nil)
    }

    /// The fixed validation set: drawn from its own stream, so it never overlaps the training stream's order.
    public func validationBatch() -> MemoryTaskBatch {
        var generator = RandomGenerator(seed: options.seed ^ 0xA5A5_5A5A_0F0F_F0F0)
        return MemoryTaskBatch(model.task, size: options.validationSize, generator: &generator)
    }

    /// Runs the training loop. A non-finite loss or gradient stops it with `TrainingError` (the logs and
    /// result.json are written first, with `divergedAtStep` set).
    @discardableResult
    public func run(progress: Bool = true) throws -> MemoryTaskResult {
        try FileManager.default.createDirectory(at: runFolder, withIntermediateDirectories: true)
        let configJSON = try jsonText(model.config)
        try atomicWrite(Data(try jsonText(options).utf8), to: runFolder.appendingPathComponent("options.json"))
        try atomicWrite(Data(configJSON.utf8), to: runFolder.appendingPathComponent("config.json"))
        let log = try RunLog(folder: runFolder, columns: ["step", "seconds", "train_loss", "val_loss", "val_accuracy", "grad_norm", "clipped"],
                             plotted: ["train_loss", "val_loss"])

        let parameters = model.parameters()
        _ = ParameterBuffer(parameters)
        try train(options.update.makeOptimizer(parameters, learningRate: options.learningRate), log: log, configJSON: configJSON, progress: progress)
        try atomicWrite(Data(try jsonText(result).utf8), to: runFolder.appendingPathComponent("result.json"))
        return result
    }

    private func train<O: Optimizer>(_ optimizer: O, log: RunLog, configJSON: String, progress: Bool) throws where O.Scalar == Float {
        var generator = RandomGenerator(seed: options.seed)
        let validation = validationBatch()
        let reporter = ProgressReporter(total: options.steps)
        let start = Date()
        model.train()
        var (intervalLoss, intervalNorm, intervalClipped, intervalCount) = (0.0, 0.0, 0, 0)

        func record(step: Int) throws {
            let (valLoss, accuracy) = model.evaluate(validation)
            result.steps = step
            result.validationLoss = valLoss
            result.validationAccuracy = accuracy
            result.seconds = Date().timeIntervalSince(start)
            let n = Double(max(intervalCount, 1))
            try log.record([Double(step), result.seconds, intervalLoss / n, valLoss, accuracy ?? .nan, intervalNorm / n, Double(intervalClipped)])
            (intervalLoss, intervalNorm, intervalClipped, intervalCount) = (0, 0, 0, 0)
            let checkpoint = Checkpoint(tensors: model.stateDict(), config: configJSON,
                                        extra: ["task": model.config.task, "step": "\(step)", "val_loss": "\(valLoss)"])
            if valLoss < result.bestValidationLoss {
                result.bestValidationLoss = valLoss
                try checkpoint.save(to: runFolder.appendingPathComponent("best.safetensors"))
            }
            if step == options.steps { try checkpoint.save(to: runFolder.appendingPathComponent("last.safetensors")) }
        }

        for step in 1...options.steps {
            let batch = MemoryTaskBatch(model.task, size: options.batch, generator: &generator)
            optimizer.zeroGrad()
            let outcome: UpdateOutcome
            do {
                outcome = try applyMeasuredUpdate(loss: model.loss(batch), optimizer: optimizer, clipNorm: options.clipNorm,
                                                  clipValue: options.update.clipValue, step: step)
            } catch let error as TrainingError {
                // Log what happened, without evaluating or checkpointing the broken model.
                stepLosses.append(.infinity)
                result.divergedAtStep = step
                result.steps = step - 1
                result.seconds = Date().timeIntervalSince(start)
                try log.record([Double(step), result.seconds, .infinity, .nan, .nan, .nan, Double(intervalClipped)])
                try atomicWrite(Data(try jsonText(result).utf8), to: runFolder.appendingPathComponent("result.json"))
                if progress { reporter.finish() }
                throw error
            }
            stepLosses.append(outcome.loss)
            intervalLoss += outcome.loss
            intervalNorm += outcome.gradientNorm
            intervalCount += 1
            if outcome.clipped { intervalClipped += 1; result.clippedSteps += 1 }
            if progress {
                reporter.update(step: step, loss: outcome.loss,
                                tokensPerSecond: Double(step * options.batch * model.task.steps) / max(Date().timeIntervalSince(start), 1e-9),
                                extra: result.validationLoss.isNaN ? "" : String(format: "val %.4f", result.validationLoss))
            }
            if step % options.evalEvery == 0 || step == options.steps { try record(step: step) }
        }
        if progress { reporter.finish() }
    }

    func jsonText<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
