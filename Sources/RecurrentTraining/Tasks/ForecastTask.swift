import Foundation
import RecurrentData
import RecurrentIO
import RecurrentModels
import RecurrentNN
import RecurrentTensor

/// Which steps of a window carry a forecasting target.
public enum ForecastMode: String, Codable, CaseIterable, Sendable {
    /// A target after every input step (many-to-many).
    case many
    /// The window's next value only (many-to-one).
    case one
}

/// Forecasting H steps ahead (`recurrent train forecast`): shuffled passes over the training windows,
/// MSE on normalised targets; the best epoch has the lowest validation RMSE (all H steps pooled), and the
/// test split is scored against persistence, seasonal naive and seasonal naive with drift at the end (test.json).
public final class ForecastTask: TrainingTask {
    public struct Settings: Codable, Equatable, Sendable {
        /// Whether the loss reads every window step (many-to-many) or only the last (many-to-one).
        public var mode = ForecastMode.many
        /// The data file and its target column, recorded for the run folder.
        public var data = ""
        /// The target column as given, or nil for the file's default.
        public var column: String?
        /// The training mode and, for the run folder, where the data came from.
        public init(mode: ForecastMode = .many, data: String = "", column: String? = nil) {
            self.mode = mode
            self.data = data
            self.column = column
        }
    }

    /// 60 epochs of 32 windows, Adam at 3·10⁻³, clipping at norm 1.
    public static let defaultOptions = TrainingOptions(schedule: .epochs(60), batch: 32, learningRate: 3e-3, clipNorm: 1)

    /// The model being trained.
    public let forecaster: Forecaster
    /// The windows, split chronologically.
    public let data: ForecastDataset
    /// The task's settings.
    public let settings: Settings
    public let configJSON: String
    /// One label per series value (for reporting), may be empty strings.
    public let labels: [String]

    /// A task training `model` on `data`; `labels` (the series' dates) name the test origins in reports.
    /// - Throws: when the model's configuration cannot be encoded as JSON.
    public init(model: Forecaster, data: ForecastDataset, settings: Settings = Settings(), labels: [String]? = nil) throws {
        precondition(labels == nil || labels!.count == data.series.count, "ForecastTask: one label per series value")
        precondition(model.config.window == data.window, "ForecastTask: model window \(model.config.window) ≠ data window \(data.window)")
        precondition(model.config.inputCount == data.inputCount && model.config.steps == data.horizon,
                     "ForecastTask: model inputs \(model.config.inputCount), horizon \(model.config.steps) ≠ data \(data.inputCount), \(data.horizon)")
        forecaster = model
        self.data = data
        self.settings = settings
        self.labels = labels ?? Array(repeating: "", count: data.series.count)
        configJSON = try RunFolder.prettyJSON(model.config)
    }

    public var name: String { "forecast" }
    public var model: Module<Float> { forecaster }
    public var epochSize: Int? { data.train.count }

    /// Batches hold target times.
    public func makeBatch(_ indices: ArraySlice<Int>, generator: inout RandomGenerator) -> [Int] {
        indices.map { data.train.lowerBound + $0 }
    }

    /// Mean squared error on normalised targets (all steps, or the last one for many-to-one and the
    /// encoder–decoder, which forecasts from the window's end only).
    public func loss(_ times: [Int], at position: RunPosition, generator: inout RandomGenerator) -> TaskLoss {
        let (inputs, targets) = data.batch(times)
        let (W, B, C, K) = (data.window, times.count, data.inputCount, data.horizon)
        let x = Tensor(inputs, shape: [W, B, C])
        let loss: Tensor<Float>
        if settings.mode == .many, forecaster.config.forecastStrategy == .direct {
            loss = mseLoss(forecaster(x).reshaped([W, B, K]), Tensor(targets, shape: [W, B, K]))            // (W, B, H)
        } else {
            loss = mseLoss(forecaster.lastStep(x), Tensor(Array(targets[((W - 1) * B * K)...]), shape: [B, K]))  // (B, H)
        }
        return TaskLoss(loss, weight: Double(B), tokens: B * W)
    }

    /// Errors of the forecasts from the origins `times`, all H steps pooled.
    public func errors(_ times: Range<Int>) -> ForecastErrors {
        let predictions = forecaster.predictSteps(data, times: Array(times))
        return data.errors({ predictions[$0 - times.lowerBound][$1] }, origins: times)!
    }

    public func evaluate() -> ForecastErrors { errors(data.validation) }
    public func isBetter(_ e: ForecastErrors, than best: ForecastErrors) -> Bool { e.rmse < best.rmse }
    public func summary(_ e: ForecastErrors) -> String { String(format: "val RMSE %.3f", e.rmse) }

    /// The metrics.csv columns.
    public let metricsColumns = ["epoch", "seconds", "train_loss", "val_rmse", "val_mae", "step", "clipped"]
    public let plottedColumns = ["train_loss"]

    /// One metrics.csv row for a round.
    public func metricsRow(_ r: RoundSummary, _ e: ForecastErrors) -> [Double] {
        [Double(r.position.epoch), r.seconds, r.window.meanLoss, e.rmse, e.mae, Double(r.position.step), Double(r.window.clipped)]
    }

    public func checkpointFields(_ position: RunPosition, _ e: ForecastErrors?) -> [String: String] {
        var fields = ["task": name, "epoch": "\(position.epoch)"]
        if let e { fields["val_rmse"] = "\(e.rmse)" }
        return fields
    }

    public var streams: [String: RandomGenerator] { get { [:] } set {} }

    /// Figures on the test split for the current weights.
    public func evaluateTest() -> ForecastEvaluation {
        ForecastEvaluation(data: data, origins: data.test, predictions: forecaster.predictSteps(data, times: Array(data.test)), labels: labels)
    }

    public func finish(_ history: [RoundRecord<ForecastErrors>], best: RoundRecord<ForecastErrors>?, in folder: RunFolder,
                       seconds: Double) throws -> ForecastEvaluation {
        let evaluation = evaluateTest()
        try folder.writeJSON(evaluation, to: "test.json")
        return evaluation
    }
}
