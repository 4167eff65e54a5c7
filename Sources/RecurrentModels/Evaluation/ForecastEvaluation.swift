import Foundation
import RecurrentData

/// Test-split figures, one-step-ahead, in the series' units (ppm for CO₂).
public struct ForecastEvaluation: Codable, Equatable, Sendable {
    public var model: ForecastErrors
    public var seasonalNaive: ForecastErrors
    /// Samples scored.
    public var count: Int
    /// Labels of the first and last test targets ("2018-04" …).
    public var from: String, to: String

    public init(model: ForecastErrors, seasonalNaive: ForecastErrors, count: Int, from: String, to: String) {
        self.model = model
        self.seasonalNaive = seasonalNaive
        self.count = count
        self.from = from
        self.to = to
    }
}
