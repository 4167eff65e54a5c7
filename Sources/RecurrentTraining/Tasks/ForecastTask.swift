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

/// One-step-ahead forecasting (`recurrent train forecast`): shuffled passes over the training windows,
/// MSE on normalised targets; the best epoch has the lowest validation RMSE, and the test split is scored
/// against the seasonal-naive baseline at the end (test.json).
public final class ForecastTask: TrainingTask {
    public struct Settings: Codable, Equatable, Sendable {
        public var mode = ForecastMode.many
        /// The data file and its column, recorded for the run folder.
        public var data = ""
        public var column: String?
        public init(mode: ForecastMode = .many, data: String = "", column: String? = nil) {
            self.mode = mode
            self.data = data
            self.column = column
        }
    }

    public static let defaultOptions = TrainingOptions(schedule: .epochs(60), batch: 32, learningRate: 3e-3, clipNorm: 1)

    public let forecaster: Forecaster
    public let data: ForecastDataset
    public let settings: Settings
    public let configJSON: String
    /// One label per series value (for reporting), may be empty strings.
    public let labels: [String]

    public init(model: Forecaster, data: ForecastDataset, settings: Settings = Settings(), labels: [String]? = nil) throws {
        precondition(labels == nil || labels!.count == data.series.count, "ForecastTask: one label per series value")
        precondition(model.config.window == data.window, "ForecastTask: model window \(model.config.window) ≠ data window \(data.window)")
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

    /// Mean squared error on normalised targets (all steps, or the last one for many-to-one).
    public func loss(_ times: [Int], at position: RunPosition, generator: inout RandomGenerator) -> TaskLoss {
        let (inputs, targets) = data.batch(times)
        let (W, B) = (data.window, times.count)
        let y = forecaster(Tensor(inputs, shape: [W, B, 1]))                     // (W, B, 1)
        let loss = switch settings.mode {
        case .one: mseLoss(y.slice(axis: 0, (W - 1)..<W).reshaped([B]), Tensor(Array(targets[((W - 1) * B)...]), shape: [B]))
        case .many: mseLoss(y.reshaped([W, B]), Tensor(targets, shape: [W, B]))
        }
        return TaskLoss(loss, weight: Double(B), tokens: B * W)
    }

    /// One-step-ahead errors on the target times `times`.
    public func errors(_ times: Range<Int>) -> ForecastErrors {
        ForecastErrors(predictions: forecaster.predict(data, times: Array(times)), truth: times.map { data.series[$0] })
    }

    public func evaluate() -> ForecastErrors { errors(data.validation) }
    public func isBetter(_ e: ForecastErrors, than best: ForecastErrors) -> Bool { e.rmse < best.rmse }
    public func summary(_ e: ForecastErrors) -> String { String(format: "val RMSE %.3f", e.rmse) }

    public let metricsColumns = ["epoch", "seconds", "train_loss", "val_rmse", "val_mae", "step", "clipped"]
    public let plottedColumns = ["train_loss"]

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
        let times = data.test
        return ForecastEvaluation(model: errors(times),
                                  seasonalNaive: ForecastErrors(predictions: times.map(data.seasonalNaive), truth: times.map { data.series[$0] }),
                                  count: times.count, from: labels[times.lowerBound], to: labels[times.upperBound - 1])
    }

    public func finish(_ history: [RoundRecord<ForecastErrors>], best: RoundRecord<ForecastErrors>?, in folder: RunFolder,
                       seconds: Double) throws -> ForecastEvaluation {
        let evaluation = evaluateTest()
        try folder.writeJSON(evaluation, to: "test.json")
        return evaluation
    }
}
