import Foundation
import RecurrentData

/// Test-split figures in the series' units (ppm for CO₂): the model and every baseline, all H steps
/// pooled, then step by step.
public struct ForecastEvaluation: Codable, Equatable, Sendable {
    /// The model's errors.
    public var model: ForecastErrors
    /// Persistence's errors (x[t−1]).
    public var persistence: ForecastErrors
    /// nil for a series without a season.
    public var seasonalNaive: ForecastErrors?
    /// Seasonal naive with drift's errors; nil for a series without a season.
    public var seasonalNaiveDrift: ForecastErrors?
    /// Per horizon step (index j: j + 1 steps ahead); one entry for one-step forecasters.
    public var steps: [StepErrors]
    /// Origins scored (each with H targets).
    public var count: Int
    /// Labels of the first and last origins ("2018-04" …).
    public var from: String, to: String
    /// The season of the baselines (nil: none) and MASE's denominator.
    public var season: Int?
    /// MASE's denominator: the in-sample seasonal-naive (or, without a season, persistence) MAE of the training part.
    public var errorScale: Double

    /// One horizon step's figures.
    public struct StepErrors: Codable, Equatable, Sendable {
        /// The model's errors at this step.
        public var model: ForecastErrors
        /// Persistence's errors at this step.
        public var persistence: ForecastErrors
        /// Seasonal naive's errors at this step; nil without a season.
        public var seasonalNaive: ForecastErrors?
        /// Seasonal naive with drift's errors at this step; nil without a season.
        public var seasonalNaiveDrift: ForecastErrors?
    }

    /// Scores `predictions` ([b][j] for origin `origins.lowerBound + b`) and the baselines on `origins`.
    public init(data: ForecastDataset, origins: Range<Int>, predictions: [[Double]], labels: [String]) {
        precondition(!origins.isEmpty && predictions.count == origins.count, "ForecastEvaluation: one row of predictions per origin")
        let model = { (t: Int, j: Int) -> Double? in predictions[t - origins.lowerBound][j] }
        func baseline(_ b: ForecastBaseline) -> (Int, Int) -> Double? { { data.forecast(b, origin: $0, step: $1) } }
        self.model = data.errors(model, origins: origins)!
        persistence = data.errors(baseline(.persistence), origins: origins)!
        seasonalNaive = data.errors(baseline(.seasonalNaive), origins: origins)
        seasonalNaiveDrift = data.errors(baseline(.seasonalNaiveDrift), origins: origins)
        steps = (0..<data.horizon).map { j in
            StepErrors(model: data.errors(model, origins: origins, step: j)!, persistence: data.errors(baseline(.persistence), origins: origins, step: j)!,
                       seasonalNaive: data.errors(baseline(.seasonalNaive), origins: origins, step: j),
                       seasonalNaiveDrift: data.errors(baseline(.seasonalNaiveDrift), origins: origins, step: j))
        }
        count = origins.count
        from = labels.indices.contains(origins.lowerBound) ? labels[origins.lowerBound] : ""
        to = labels.indices.contains(origins.upperBound - 1) ? labels[origins.upperBound - 1] : ""
        season = data.seasonLength
        errorScale = data.errorScale
    }

    /// The baselines that exist for this series, with their errors.
    public var baselines: [(ForecastBaseline, ForecastErrors)] {
        [(.persistence, persistence)] + [(ForecastBaseline.seasonalNaive, seasonalNaive), (.seasonalNaiveDrift, seasonalNaiveDrift)].compactMap { b, e in e.map { (b, $0) } }
    }

    /// Whether the model's RMSE is below every baseline's.
    public var beatsEveryBaseline: Bool { baselines.allSatisfy { model.rmse < $0.1.rmse } }
}
