import Foundation

/// The forecasts every forecasting evaluation prints beside the model's.
public enum ForecastBaseline: String, Codable, CaseIterable, Sendable {
    /// The last known value, x[t−1].
    case persistence
    /// The value one season earlier, x[t−s] (for step j ≥ s, whole seasons further back).
    case seasonalNaive = "seasonal-naive"
    /// Seasonal naive plus the last year-over-year change: x[t−s] + x[t−1] − x[t−s−1].
    case seasonalNaiveDrift = "seasonal-naive-drift"

    /// The baseline's name in reports ("persistence", "seasonal naive", …).
    public var title: String {
        switch self {
        case .persistence: "persistence"
        case .seasonalNaive: "seasonal naive"
        case .seasonalNaiveDrift: "seasonal naive + drift"
        }
    }
}

/// Point-forecast errors in the series' units: RMSE, MAE, MASE (MAE over the in-sample seasonal-naive MAE
/// of the training part) and sMAPE (percent, 0…200).
public struct ForecastErrors: Codable, Equatable, Sendable {
    /// Root mean squared error.
    public var rmse: Double
    /// Mean absolute error.
    public var mae: Double
    /// Mean absolute scaled error: MAE over the in-sample seasonal-naive MAE of the training part.
    public var mase: Double
    /// Symmetric mean absolute percentage error, in percent (0…200).
    public var smape: Double

    /// - Parameter scale: MASE's denominator (`ForecastDataset.errorScale`); 1 makes MASE the MAE.
    public init(predictions: [Double], truth: [Double], scale: Double = 1) {
        precondition(predictions.count == truth.count && !truth.isEmpty, "ForecastErrors: \(predictions.count) predictions for \(truth.count) values")
        precondition(scale > 0 && scale.isFinite, "ForecastErrors: the MASE scale must be positive")
        let errors = zip(predictions, truth).map { $0 - $1 }
        let n = Double(errors.count)
        rmse = (errors.reduce(0) { $0 + $1 * $1 } / n).squareRoot()
        mae = errors.reduce(0) { $0 + abs($1) } / n
        mase = mae / scale
        smape = zip(predictions, truth).reduce(0.0) { sum, pair in
            let denominator = abs(pair.0) + abs(pair.1)
            return sum + (denominator > 0 ? 200 * abs(pair.0 - pair.1) / denominator : 0)
        } / n
    }
}
