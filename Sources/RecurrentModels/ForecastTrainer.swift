import Foundation
import RecurrentData
import RecurrentIO
import RecurrentNN
import RecurrentTensor

/// Options of `recurrent train forecast`.
public struct ForecastTrainingOptions: Codable, Sendable {
    public var epochs = 60
    public var batch = 32
    public var learningRate = 3e-3
    /// Global-norm clipping threshold (0: off).
    public var clipNorm = 1.0
    /// Optimizer, momentum, weight decay and element-wise clipping.
    public var update = UpdateRule()
    /// "many" (a target after every input step) or "one" (the window's next value only).
    public var mode = "many"
    public var seed: UInt64 = 1
    /// The data file and its column, recorded for the run folder.
    public var data = ""
    public var column: String?
    /// Stop after this many batches in all (0: no limit). The epoch cut short is still evaluated and
    /// checkpointed; a resumed run continues at the next epoch.
    public var maxSteps = 0
    public init() {}

    /// Checks options read from a run folder's options.json before they drive the loop.
    public func validate() throws {
        guard epochs > 0, batch > 0, maxSteps >= 0, Self.modes.contains(mode), learningRate > 0, learningRate.isFinite, clipNorm >= 0, clipNorm.isFinite else {
            throw TrainingError.badOptions("options.json has an out-of-range value (epochs, batch, learningRate, clipNorm…)")
        }
        try update.validate()
    }


    public static let modes = ["many", "one"]
}

/// One epoch of a forecaster's training.
public struct ForecastEpochRecord: Codable, Sendable {
    public var epoch: Int
    public var trainLoss: Double
    public var validation: ForecastErrors
}

/// Test-split figures, one-step-ahead, in the series' units (ppm for CO₂).
public struct ForecastEvaluation: Codable, Equatable, Sendable {
    public var model: ForecastErrors
    public var seasonalNaive: ForecastErrors
    /// Samples scored.
    public var count: Int
    /// Labels of the first and last test targets ("2018-04" …).
    public var from: String, to: String
}

/// Trains a `Forecaster` on a `ForecastDataset` with Adam (MSE on normalised targets, global-norm
/// clipping), evaluating one-step-ahead RMSE on the validation split every epoch. Writes into the run
/// folder: config.json, options.json, metrics.csv (epoch, seconds, train loss, validation RMSE and MAE),
/// best.safetensors (lowest validation RMSE), last.safetensors, and test.json (test figures of the best
/// model against the seasonal-naive baseline). metrics.csv and last.safetensors are rewritten every epoch
/// (last.safetensors also holds the optimizer state, the generator and the history, so `run(resume: true)`
/// continues bit-identically); best.safetensors whenever the validation RMSE improves.
public final class ForecastTrainer {
    public let model: Forecaster
    public let data: ForecastDataset
    public let options: ForecastTrainingOptions
    public let runFolder: URL
    /// Polled before every step; when it returns true the run stops there and throws
    /// `TrainingError.stopped` (the epoch in progress is lost; `last.safetensors` holds the ones before).
    /// The CLI wires it to `StopSignal` for SIGINT/SIGTERM.
    public var stopRequested: () -> Bool = { false }
    /// What a batch with a NaN or infinite loss or gradient does: stop the run (default) or be skipped.
    public var onNonFinite = NonFinitePolicy.stop
    /// Tests: steps whose loss is made NaN, to exercise `onNonFinite`.
    var injectNonFiniteLossAtSteps: Set<Int> = []
    /// One label per series value (for reporting), may be empty strings.
    public let labels: [String]
    public private(set) var bestValidationRMSE = Double.infinity
    public private(set) var history: [ForecastEpochRecord] = []

    public init(model: Forecaster, data: ForecastDataset, options: ForecastTrainingOptions, runFolder: URL, labels: [String]? = nil) {
        precondition(options.epochs >= 1 && options.batch >= 1, "ForecastTrainer: epochs and batch must be positive")
        precondition(labels == nil || labels!.count == data.series.count, "ForecastTrainer: one label per series value")
        precondition(model.config.window == data.window, "ForecastTrainer: model window \(model.config.window) ≠ data window \(data.window)")
        self.model = model
        self.data = data
        self.options = options
        self.runFolder = runFolder
        self.labels = labels ?? Array(repeating: "", count: data.series.count)
    }

    /// One-step-ahead errors on the target times `times`.
    public func errors(_ times: Range<Int>) -> ForecastErrors {
        ForecastErrors(predictions: model.predict(data, times: Array(times)), truth: times.map { data.series[$0] })
    }

    /// Figures on the test split for the current weights.
    public func evaluateTest() -> ForecastEvaluation {
        let times = data.test
        return ForecastEvaluation(model: errors(times),
                                  seasonalNaive: ForecastErrors(predictions: times.map(data.seasonalNaive), truth: times.map { data.series[$0] }),
                                  count: times.count, from: labels[times.lowerBound], to: labels[times.upperBound - 1])
    }

    /// Mean squared error on normalised targets for one batch (all steps, or the last one for many-to-one).
    func loss(_ times: [Int]) -> Tensor<Float> {
        let (inputs, targets) = data.batch(times)
        let (W, B) = (data.window, times.count)
        let y = model(Tensor(inputs, shape: [W, B, 1]))                     // (W, B, 1)
        if options.mode == "one" {
            return mseLoss(y.slice(axis: 0, (W - 1)..<W).reshaped([B]), Tensor(Array(targets[((W - 1) * B)...]), shape: [B]))
        }
        return mseLoss(y.reshaped([W, B]), Tensor(targets, shape: [W, B]))
    }

    /// Runs the training loop, then loads the best weights (lowest validation RMSE) and scores the test split.
    /// - Parameter resume: continue from the run folder's `last.safetensors` (weights, optimizer state,
    ///   generator, history), giving the numbers an uninterrupted run with the same seed gives.
    @discardableResult
    public func run(progress: Bool = true, resume: Bool = false) throws -> ForecastEvaluation {
        try FileManager.default.createDirectory(at: runFolder, withIntermediateDirectories: true)
        let configJSON = try jsonText(model.config)
        let parameters = model.parameters()
        _ = ParameterBuffer(parameters)
        let optimizer = options.update.makeOptimizer(parameters, learningRate: options.learningRate)
        var generator = RandomGenerator(seed: options.seed)
        var position = ResumeState()
        var best = model.stateDict()
        var previousRows: [[Double]] = []
        if resume {
            let resumed = try ResumedEpochRun<ForecastEpochRecord>(runFolder: runFolder, task: "forecast", configJSON: configJSON, model: model,
                                                                  optimizer: optimizer, generatorNames: ["order"], secondsColumn: 1)
            (position, history, previousRows) = (resumed.position, resumed.history, resumed.previousRows)
            generator = position.generators["order"]!
            bestValidationRMSE = history.map(\.validation.rmse).min() ?? .infinity
            if let weights = resumed.bestWeights { best = weights }
        }
        try atomicWrite(Data(try jsonText(options).utf8), to: runFolder.appendingPathComponent("options.json"))
        try atomicWrite(Data(configJSON.utf8), to: runFolder.appendingPathComponent("config.json"))
        let log = try RunLog(folder: runFolder, columns: ["epoch", "seconds", "train_loss", "val_rmse", "val_mae", "step", "clipped"], plotted: ["train_loss"],
                             previousRows: previousRows)

        let batchesPerEpoch = (data.train.count + options.batch - 1) / options.batch
        let totalSteps = options.maxSteps > 0 ? min(options.maxSteps, options.epochs * batchesPerEpoch) : options.epochs * batchesPerEpoch
        let reporter = ProgressReporter(total: totalSteps)
        let start = Date().addingTimeInterval(-position.seconds)
        model.train()
        var step = position.step
        var nonFinite = NonFiniteGuard(policy: onNonFinite)
        for epoch in stride(from: position.epoch + 1, through: options.epochs, by: 1) {
            if step >= totalSteps { break }
            var order = Array(data.train)
            order.shuffle(using: &generator)
            var total = 0.0, seen = 0
            var clipped = 0   // updates clipping changed in this epoch
            for first in stride(from: 0, to: order.count, by: options.batch) {
                if step >= totalSteps { break }
                if stopRequested() { throw TrainingError.stopped(epoch: epoch) }
                step += 1
                let times = Array(order[first..<min(first + options.batch, order.count)])
                optimizer.zeroGrad()
                var loss = self.loss(times)
                if injectNonFiniteLossAtSteps.contains(step) { loss = loss * .nan }
                guard let outcome = try nonFinite.update(loss: loss, optimizer: optimizer, clipNorm: options.clipNorm, clipValue: options.update.clipValue, step: step) else { continue }
                let value = outcome.loss
                if outcome.clipped { clipped += 1 }
                total += value * Double(times.count)
                seen += times.count
                if progress {
                    let elapsed = Date().timeIntervalSince(start)
                    reporter.update(step: step, loss: total / Double(seen),
                                    tokensPerSecond: Double(step * options.batch * data.window) / max(elapsed, 1e-9),
                                    extra: bestValidationRMSE.isFinite ? String(format: "val RMSE %.3f", bestValidationRMSE) : "")
                }
            }
            let trainLoss = total / Double(seen)
            let validation = errors(data.validation)
            history.append(ForecastEpochRecord(epoch: epoch, trainLoss: trainLoss, validation: validation))
            let elapsed = Date().timeIntervalSince(start)
            try log.record([Double(epoch), elapsed, trainLoss, validation.rmse, validation.mae, Double(step), Double(clipped)])
            let checkpoint = Checkpoint(tensors: model.stateDict(), config: configJSON,
                                        extra: ["task": "forecast", "epoch": "\(epoch)", "val_rmse": "\(validation.rmse)"])
            // best before last: an interruption between the two repeats this epoch, which rewrites best identically.
            if validation.rmse < bestValidationRMSE {
                bestValidationRMSE = validation.rmse
                best = checkpoint.tensors
                try checkpoint.save(to: runFolder.appendingPathComponent("best.safetensors"))
            }
            (position.epoch, position.step, position.seconds) = (epoch, step, elapsed)
            position.tokens = step * options.batch * data.window
            position.generators = ["order": generator]
            position.history = try ResumeState.json(history)
            try position.saveLast(checkpoint, optimizer: optimizer, in: runFolder)
        }
        if progress { reporter.finish() }
        try model.loadParameters(best)
        let evaluation = evaluateTest()
        try atomicWrite(Data(try jsonText(evaluation).utf8), to: runFolder.appendingPathComponent("test.json"))
        return evaluation
    }

    func jsonText<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
