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
    public var mean: Double
    public var std: Double

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

    public func normalise(_ x: Double) -> Double { (x - mean) / std }
    public func denormalise(_ z: Double) -> Double { z * std + mean }
}

/// Sliding windows over a series for one-step-ahead forecasting, split chronologically.
///
/// A sample is identified by its target time t. Its inputs are the features at t−W … t−1, where a
/// feature is x[i] (`.level`) or x[i] − x[i−1] (`.difference`). Many-to-one trains on the feature at t
/// only; many-to-many also on every intermediate step (the feature after each input).
///
/// Split (by target time, so nothing of the future leaks into training): the last `testFraction` of the
/// series' time steps are test targets, the `validationFraction` before them validation targets, and
/// every earlier target with a full window is a training target. Validation and test windows may reach
/// back into earlier parts — those values are known at forecast time. The z-score is fitted on the
/// features of the training part only (indices below `validation.lowerBound`).
public struct ForecastDataset: Sendable {
    public let series: [Double]
    public let window: Int
    public let target: ForecastTarget
    /// Lag of the seasonal-naive baseline (12 for monthly data).
    public let season: Int
    public let scaler: ZScore
    /// Target times of each split.
    public let train: Range<Int>, validation: Range<Int>, test: Range<Int>

    /// - Parameters:
    ///   - path: only used in error messages.
    /// - Throws: `DataError.tooFewValues` when the series cannot give every split at least one sample
    ///   (and the test part a value one season earlier).
    public init(series: [Double], window: Int, target: ForecastTarget = .difference, season: Int = 12,
                validationFraction: Double = 0.1, testFraction: Double = 0.1, path: String = "series") throws {
        precondition(window >= 1 && season >= 1, "ForecastDataset: window and season must be positive")
        precondition(validationFraction > 0 && testFraction > 0 && validationFraction + testFraction < 1, "ForecastDataset: bad split fractions")
        let first = window + (target == .difference ? 1 : 0)
        func split(_ n: Int) -> (Range<Int>, Range<Int>, Range<Int>)? {
            let nTest = max(1, Int((Double(n) * testFraction).rounded()))
            let nValidation = max(1, Int((Double(n) * validationFraction).rounded()))
            let testStart = n - nTest, validationStart = testStart - nValidation
            guard validationStart > first, testStart >= season else { return nil }
            return (first..<validationStart, validationStart..<testStart, testStart..<n)
        }
        guard let (train, validation, test) = split(series.count) else {
            let needed = (series.count...).first { split($0) != nil }!
            throw DataError.tooFewValues(path: path, needed: needed, found: series.count,
                                         reason: "a window of \(window) and one sample in each of the training, validation and test parts")
        }
        self.series = series
        self.window = window
        self.target = target
        self.season = season
        self.train = train
        self.validation = validation
        self.test = test
        scaler = ZScore(fitting: ((target == .difference ? 1 : 0)..<validation.lowerBound).map { ForecastDataset.feature(series, $0, target) })
    }

    /// The first target time with a full window.
    public var firstTarget: Int { train.lowerBound }

    static func feature(_ x: [Double], _ i: Int, _ target: ForecastTarget) -> Double {
        target == .difference ? x[i] - x[i - 1] : x[i]
    }

    /// The raw (not normalised) feature at time i.
    public func feature(_ i: Int) -> Double { Self.feature(series, i, target) }

    /// Inputs and normalised targets for the samples with target times `times`, time-major.
    /// - Returns: inputs (W, B) row-major as `inputs[k * B + b]` = z(feature(t_b − W + k)), and targets
    ///   (W, B) = z(feature(t_b − W + k + 1)); the last step's target is the sample's own.
    public func batch(_ times: [Int]) -> (inputs: [Float], targets: [Float]) {
        let B = times.count, W = window
        var inputs = [Float](repeating: 0, count: W * B), targets = inputs
        for (b, t) in times.enumerated() {
            precondition(t >= firstTarget && t < series.count, "ForecastDataset.batch: target time \(t) outside \(firstTarget)..<\(series.count)")
            for k in 0..<W {
                inputs[k * B + b] = Float(scaler.normalise(feature(t - W + k)))
                targets[k * B + b] = Float(scaler.normalise(feature(t - W + k + 1)))
            }
        }
        return (inputs, targets)
    }

    /// The value at time t given the model's normalised prediction of its feature.
    public func value(at t: Int, fromNormalised z: Double) -> Double {
        let predicted = scaler.denormalise(z)
        return target == .difference ? series[t - 1] + predicted : predicted
    }

    /// Seasonal-naive forecast of x[t]: the value one season earlier.
    public func seasonalNaive(_ t: Int) -> Double { series[t - season] }
}

/// Root-mean-square and mean absolute error.
public struct ForecastErrors: Codable, Equatable, Sendable {
    public var rmse: Double
    public var mae: Double

    public init(predictions: [Double], truth: [Double]) {
        precondition(predictions.count == truth.count && !truth.isEmpty, "ForecastErrors: \(predictions.count) predictions for \(truth.count) values")
        let errors = zip(predictions, truth).map { $0 - $1 }
        rmse = (errors.reduce(0) { $0 + $1 * $1 } / Double(errors.count)).squareRoot()
        mae = errors.reduce(0) { $0 + abs($1) } / Double(errors.count)
    }
}
