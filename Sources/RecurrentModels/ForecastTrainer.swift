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
    public var clipNorm = 1.0
    /// "many" (a target after every input step) or "one" (the window's next value only).
    public var mode = "many"
    public var seed: UInt64 = 1
    /// The data file and its column, recorded for the run folder.
    public var data = ""
    public var column: String?
    public init() {}

    public static let modes = ["many", "one"]
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
/// model against the seasonal-naive baseline). metrics.csv and last.safetensors are rewritten every 10 epochs
/// and after the last one; best.safetensors whenever the validation RMSE improves.
public final class ForecastTrainer {
    public let model: Forecaster
    public let data: ForecastDataset
    public let options: ForecastTrainingOptions
    public let runFolder: URL
    /// One label per series value (for reporting), may be empty strings.
    public let labels: [String]
    public private(set) var bestValidationRMSE = Double.infinity
    public private(set) var history: [(epoch: Int, trainLoss: Double, validation: ForecastErrors)] = []

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
    @discardableResult
    public func run(progress: Bool = true) throws -> ForecastEvaluation {
        try FileManager.default.createDirectory(at: runFolder, withIntermediateDirectories: true)
        let configJSON = try jsonText(model.config)
        try atomicWrite(Data(try jsonText(options).utf8), to: runFolder.appendingPathComponent("options.json"))
        try atomicWrite(Data(configJSON.utf8), to: runFolder.appendingPathComponent("config.json"))
        let log = try RunLog(folder: runFolder, columns: ["epoch", "seconds", "train_loss", "val_rmse", "val_mae"], plotted: ["train_loss"])

        let parameters = model.parameters()
        _ = ParameterBuffer(parameters)
        let optimizer = Adam(parameters: parameters, learningRate: Float(options.learningRate))
        var generator = RandomGenerator(seed: options.seed)
        let batchesPerEpoch = (data.train.count + options.batch - 1) / options.batch
        let reporter = ProgressReporter(total: options.epochs * batchesPerEpoch)
        let start = Date()
        var best = model.stateDict()
        model.train()
        var step = 0
        for epoch in 1...options.epochs {
            var order = Array(data.train)
            order.shuffle(using: &generator)
            var total = 0.0
            for first in stride(from: 0, to: order.count, by: options.batch) {
                step += 1
                let times = Array(order[first..<min(first + options.batch, order.count)])
                optimizer.zeroGrad()
                let loss = self.loss(times)
                let value = try applyUpdate(loss: loss, optimizer: optimizer, clipNorm: options.clipNorm, step: step)
                total += value * Double(times.count)
                if progress {
                    let elapsed = Date().timeIntervalSince(start)
                    reporter.update(step: step, loss: total / Double(first + times.count),
                                    tokensPerSecond: Double(step * options.batch * data.window) / max(elapsed, 1e-9),
                                    extra: bestValidationRMSE.isFinite ? String(format: "val RMSE %.3f", bestValidationRMSE) : "")
                }
            }
            let trainLoss = total / Double(order.count)
            let validation = errors(data.validation)
            history.append((epoch, trainLoss, validation))
            try log.record([Double(epoch), Date().timeIntervalSince(start), trainLoss, validation.rmse, validation.mae])
            let checkpoint = Checkpoint(tensors: model.stateDict(), config: configJSON,
                                        extra: ["task": "forecast", "epoch": "\(epoch)", "val_rmse": "\(validation.rmse)"])
            if validation.rmse < bestValidationRMSE {
                bestValidationRMSE = validation.rmse
                best = model.stateDict()
                try checkpoint.save(to: runFolder.appendingPathComponent("best.safetensors"))
            }
            if epoch == options.epochs || epoch % 10 == 0 {
                try checkpoint.save(to: runFolder.appendingPathComponent("last.safetensors"))
            }
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
