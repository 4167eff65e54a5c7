import Foundation

/// What a forecaster predicts at each step.
public enum ForecastTarget: String, Codable, Sendable, CaseIterable {
    /// The change from the last value, x[t] − x[t−1]; the inputs are past changes too. Removes the trend
    /// (CO₂ rises about 2 ppm a year), so the test part, which lies above every training value, looks
    /// like the training part to the network.
    case difference
    /// The value x[t] itself; the inputs are past values.
    case level
}

/// Z-score normalisation, z = (x − mean) / std.
public struct ZScore: Codable, Equatable, Sendable {
    /// The mean subtracted.
    public var mean: Double
    /// The standard deviation divided by.
    public var std: Double

    /// A z-score with the given mean and standard deviation.
    public init(mean: Double, std: Double) {
        self.mean = mean
        self.std = std
    }

    /// Fits mean and (population) standard deviation; a constant input gets std 1.
    public init(fitting values: [Double]) {
        precondition(!values.isEmpty, "ZScore: nothing to fit")
        let mean = values.reduce(0, +) / Double(values.count)
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)
        self.init(mean: mean, std: variance > 0 ? variance.squareRoot() : 1)
    }

    /// z = (x − mean) / std.
    public func normalise(_ x: Double) -> Double { (x - mean) / std }
    /// x = z · std + mean.
    public func denormalise(_ z: Double) -> Double { z * std + mean }
}

/// Sliding windows over a series (and its covariates) for forecasting `horizon` steps ahead, split chronologically.
///
/// A sample is identified by its origin t, the first forecast time. Its inputs are the features at t−W … t−1,
/// one per column (the target first, then each covariate), where a feature is x[i] (`.level`) or
/// x[i] − x[i−1] (`.difference`); each column has its own z-score. It forecasts x[t] … x[t+H−1].
/// Many-to-one trains on the last window step only; many-to-many also on every earlier step (the H values
/// after each input).
///
/// Split (by target time, so nothing of the future leaks into training): the last `testFraction` of the
/// series' time steps are test targets, the `validationFraction` before them validation targets, and
/// every earlier target with a full window is a training target; an origin belongs to a part when all its
/// H targets do. Validation and test windows may reach back into earlier parts — those values are known
/// at forecast time. The z-scores are fitted on the training part only (indices below `validation.lowerBound`).
public struct ForecastDataset: Sendable {
    /// The target series, in its own units.
    public let series: [Double]
    /// Input columns besides the target, each as long as `series`.
    public let covariates: [[Double]]
    /// W, the input steps of each sample.
    public let window: Int
    /// Whether the model predicts levels or differences from the last input value.
    public let target: ForecastTarget
    /// Steps forecast from each origin.
    public let horizon: Int
    /// Lag of the seasonal baselines (12 for monthly data); nil for a series without a season.
    public let seasonLength: Int?
    /// The z-score of the target's inputs and outputs, fitted on the training part.
    public let scaler: ZScore
    /// The z-score of each covariate, fitted on the training part.
    public let covariateScalers: [ZScore]
    /// Origins of each split.
    public let train: Range<Int>, validation: Range<Int>, test: Range<Int>
    /// The in-sample mean absolute error of seasonal naive (of persistence without a season) on the training
    /// part: MASE's denominator.
    public let errorScale: Double

    /// - Parameters:
    ///   - path: only used in error messages.
    /// - Throws: `DataError.tooFewValues` when the series cannot give every split at least one sample
    ///   (and the test part the values the seasonal baselines need).
    public init(series: [Double], covariates: [[Double]] = [], window: Int, target: ForecastTarget = .difference, season: Int? = 12, horizon: Int = 1,
                validationFraction: Double = 0.1, testFraction: Double = 0.1, path: String = "series") throws {
        precondition(window >= 1 && (season ?? 1) >= 1 && horizon >= 1, "ForecastDataset: window, season and horizon must be positive")
        precondition(validationFraction > 0 && testFraction > 0 && validationFraction + testFraction < 1, "ForecastDataset: bad split fractions")
        precondition(covariates.allSatisfy { $0.count == series.count }, "ForecastDataset: every covariate needs one value per series value")
        let first = window + (target == .difference ? 1 : 0)
        let lag = season ?? 1
        func split(_ n: Int) -> (Range<Int>, Range<Int>, Range<Int>)? {
            let nTest = max(1, Int((Double(n) * testFraction).rounded()))
            let nValidation = max(1, Int((Double(n) * validationFraction).rounded()))
            let testStart = n - nTest, validationStart = testStart - nValidation
            guard nTest >= horizon, nValidation >= horizon, validationStart - horizon + 1 > first, testStart > lag, validationStart > lag else { return nil }
            return (first..<(validationStart - horizon + 1), validationStart..<(testStart - horizon + 1), testStart..<(n - horizon + 1))
        }
        guard let (train, validation, test) = split(series.count) else {
            let needed = (series.count...).first { split($0) != nil }!
            var reason = "a window of \(window) and one sample in each of the training, validation and test parts"
            if horizon > 1 { reason += " with a horizon of \(horizon)" }
            if let season, season > 1 { reason += " (and a season of \(season) before the test part)" }
            throw DataError.tooFewValues(path: path, needed: needed, found: series.count, reason: reason)
        }
        self.series = series
        self.covariates = covariates
        self.window = window
        self.target = target
        self.horizon = horizon
        self.seasonLength = season
        self.train = train
        self.validation = validation
        self.test = test
        let fitted = (target == .difference ? 1 : 0)..<validation.lowerBound
        scaler = ZScore(fitting: fitted.map { ForecastDataset.feature(series, $0, target) })
        covariateScalers = covariates.map { c in ZScore(fitting: fitted.map { ForecastDataset.feature(c, $0, target) }) }
        let scale = (lag..<validation.lowerBound).reduce(0.0) { $0 + abs(series[$1] - series[$1 - lag]) } / Double(validation.lowerBound - lag)
        errorScale = scale > 0 ? scale : 1
    }

    /// The seasonal lag (12 when built with the old default); kept for callers of the one-step API.
    public var season: Int { seasonLength ?? 1 }

    /// Input features per step: the target and each covariate.
    public var inputCount: Int { 1 + covariates.count }

    /// The first target time with a full window.
    public var firstTarget: Int { train.lowerBound }

    static func feature(_ x: [Double], _ i: Int, _ target: ForecastTarget) -> Double {
        target == .difference ? x[i] - x[i - 1] : x[i]
    }

    /// The raw (not normalised) feature at time i.
    public func feature(_ i: Int) -> Double { Self.feature(series, i, target) }

    /// Inputs and normalised targets for the samples with origins `times`, time-major.
    /// - Returns: inputs (W, B, C) row-major as `inputs[(k * B + b) * C + c]` = z_c(feature_c(t_b − W + k)), and
    ///   targets (W, B, H): after input step k (time u = t_b − W + k), target j is the normalised value
    ///   `normalised(u, j)` of x[u + 1 + j]; the last step's targets are the sample's own.
    public func batch(_ times: [Int]) -> (inputs: [Float], targets: [Float]) {
        let B = times.count, W = window, C = inputCount, H = horizon
        var inputs = [Float](repeating: 0, count: W * B * C), targets = [Float](repeating: 0, count: W * B * H)
        for (b, t) in times.enumerated() {
            precondition(t >= firstTarget && t + H <= series.count, "ForecastDataset.batch: origin \(t) outside \(firstTarget)..<\(series.count - H + 1)")
            for k in 0..<W {
                let u = t - W + k
                inputs[(k * B + b) * C] = Float(scaler.normalise(feature(u)))
                for (c, column) in covariates.enumerated() {
                    inputs[(k * B + b) * C + 1 + c] = Float(covariateScalers[c].normalise(Self.feature(column, u, target)))
                }
                for j in 0..<H { targets[(k * B + b) * H + j] = Float(normalised(x: series[u + 1 + j], after: u, step: j)) }
            }
        }
        return (inputs, targets)
    }

    /// The normalised target of x[u + 1 + j] given the last known time u: the level's z-score, or the change
    /// since x[u] less j + 1 mean changes, over the one-step spread.
    func normalised(x: Double, after u: Int, step j: Int) -> Double {
        target == .difference ? (x - series[u] - Double(j + 1) * scaler.mean) / scaler.std : scaler.normalise(x)
    }

    /// The value j steps after origin t (x[t + j]) given the model's normalised prediction.
    public func value(at t: Int, step j: Int = 0, fromNormalised z: Double) -> Double {
        Self.value(last: series[t - 1], step: j, fromNormalised: z, target: target, scaler: scaler)
    }

    /// The inverse of `normalised` for a forecast made after the value `last`.
    public static func value(last: Double, step j: Int, fromNormalised z: Double, target: ForecastTarget, scaler: ZScore) -> Double {
        target == .difference ? last + z * scaler.std + Double(j + 1) * scaler.mean : scaler.denormalise(z)
    }

    /// Seasonal-naive forecast of x[t]: the value one season earlier.
    public func seasonalNaive(_ t: Int) -> Double { series[t - season] }

    /// Forecasts of x[t + j] made at origin t (knowing x[..< t]) by `baseline`; nil for a seasonal one without a season.
    public func forecast(_ baseline: ForecastBaseline, origin t: Int, step j: Int) -> Double? {
        let last = series[t - 1]
        switch baseline {
        case .persistence: return last
        case .seasonalNaive, .seasonalNaiveDrift:
            // Both need x[t−1−s] (the drift) or at least x[t−s]; origins too early for them have no baseline.
            guard let s = seasonLength, t - 1 - s >= 0 else { return nil }
            let m = j / s + 1                       // seasons back so that the value is known
            let naive = series[t + j - s * m]
            return baseline == .seasonalNaive ? naive : naive + Double(m) * (last - series[t - 1 - s])
        }
    }

    /// Errors of forecasts against the truth at origins `origins`, step j (nil: all steps pooled).
    public func errors(_ predictions: (Int, Int) -> Double?, origins: Range<Int>, step: Int? = nil) -> ForecastErrors? {
        var p: [Double] = [], y: [Double] = []
        for t in origins {
            for j in step.map({ [$0] }) ?? Array(0..<horizon) {
                guard let v = predictions(t, j) else { return nil }
                p.append(v)
                y.append(series[t + j])
            }
        }
        return p.isEmpty ? nil : ForecastErrors(predictions: p, truth: y, scale: errorScale)
    }
}
