/// One labelled sequence of F-dimensional real vectors (a recording, an utterance's frames, a pixel's spectrum),
/// as every series reader returns it.
public struct LabelledSeries: Equatable, Sendable {
    /// (T, F) row-major: values[t * F + f]; every value finite.
    public var values: [Float]
    /// T ≥ 1.
    public var steps: Int
    /// F ≥ 1.
    public var features: Int
    /// The class as the data writes it ("3", "Walking"); "" when the data has no labels.
    public var label: String
    /// Where it came from, for messages: "JapaneseVowels_TEST.ts, line 12", "x.npy, index 3", "cube.npy, pixel (4, 7)".
    public var source: String

    /// A sequence of `steps` vectors of `features` values, row-major (`values.count` = steps · features), with its class name and where it came from.
    public init(values: [Float], steps: Int, features: Int, label: String, source: String) {
        precondition(steps >= 1 && features >= 1 && values.count == steps * features,
                     "LabelledSeries: \(values.count) values for \(steps) steps of \(features) features")
        self.values = values
        self.steps = steps
        self.features = features
        self.label = label
        self.source = source
    }
}

extension LabelledSeries {
    /// The sequence read `k` steps at a time: step i of the result is steps i·k ..< (i+1)·k laid side by side, k·F
    /// features (the last patch repeats the final step where T is not a multiple of k). A recurrent network then
    /// runs ⌈T/k⌉ steps instead of T: long univariate recordings (GunPoint's 150 steps) become short sequences of
    /// local shapes, which an LSTM learns where it fails on the raw steps.
    public func patched(_ k: Int) -> LabelledSeries {
        precondition(k >= 1, "LabelledSeries.patched: k must be positive")
        guard k > 1 else { return self }
        let T = (steps + k - 1) / k, F = features
        var out: [Float] = []
        out.reserveCapacity(T * k * F)
        for t in 0..<(T * k) {
            let source = Swift.min(t, steps - 1)
            out += values[(source * F)..<((source + 1) * F)]
        }
        return LabelledSeries(values: out, steps: T, features: k * F, label: label, source: source)
    }
}

/// Per-feature standardisation x' = (x − mean) / std, fitted on the training sequences only (every step of
/// every sequence counts once) and stored in the checkpoint, so that eval and predict see the same inputs.
public struct FeatureScaler: Codable, Equatable, Sendable {
    /// F means.
    public var mean: [Double]
    /// F population standard deviations; a constant feature gets 1.
    public var std: [Double]

    /// A standardisation with the given per-feature means and standard deviations.
    public init(mean: [Double], std: [Double]) {
        self.mean = mean
        self.std = std
    }

    /// Fits mean and standard deviation per feature over every step of `series` (all with the same F).
    public init(fitting series: [LabelledSeries]) {
        precondition(!series.isEmpty, "FeatureScaler: nothing to fit")
        let F = series[0].features
        var sum = [Double](repeating: 0, count: F), squares = [Double](repeating: 0, count: F), count = 0.0
        for s in series {
            precondition(s.features == F, "FeatureScaler: \(s.features) features after \(F)")
            for t in 0..<s.steps { for f in 0..<F { let v = Double(s.values[t * F + f]); sum[f] += v; squares[f] += v * v } }
            count += Double(s.steps)
        }
        let mean = sum.map { $0 / count }
        self.mean = mean
        std = (0..<F).map { f in
            let variance = squares[f] / count - mean[f] * mean[f]
            return variance > 1e-12 * max(1, mean[f] * mean[f]) ? variance.squareRoot() : 1
        }
    }

    /// F, the number of features.
    public var features: Int { mean.count }

    /// Why the scaler cannot be used (a scaler may come from a file), nil when it can: F ≥ 1, both arrays with F
    /// finite values, every std positive.
    public var invalidReason: String? {
        guard !mean.isEmpty, mean.count == std.count else { return "the feature scaler has \(mean.count) means and \(std.count) standard deviations" }
        guard mean.allSatisfy(\.isFinite), std.allSatisfy({ $0.isFinite && $0 > 0 }) else { return "the feature scaler must be finite with every std > 0" }
        return nil
    }

    /// The standardised copy of `series`' values.
    public func apply(_ series: LabelledSeries) -> [Float] {
        let F = features
        precondition(series.features == F, "FeatureScaler: \(series.features) features for a scaler of \(F)")
        var out = series.values
        for t in 0..<series.steps { for f in 0..<F { out[t * F + f] = Float((Double(out[t * F + f]) - mean[f]) / std[f]) } }
        return out
    }
}

/// A padded batch of real-vector sequences for many-to-one classification, time-major (T, B, F) as the recurrent
/// layers expect, with each sequence's length (the layers take per-sequence lengths, so nothing is sorted).
/// T is the longest sequence of the batch; steps past a length are zero.
public struct SeriesBatch: Equatable, Sendable {
    /// (T, B, F) row-major: values[(t * B + b) * F + f].
    public var values: [Float]
    /// B lengths, each in 1...T.
    public var lengths: [Int]
    /// B class ids (empty when unlabelled).
    public var labels: [Int]
    /// T, the longest sequence of the batch; B, the number of sequences; F, the features per step.
    public var steps: Int, batch: Int, features: Int

    /// - Parameters:
    ///   - sequences: B sequences, each (Tᵦ, F) row-major with Tᵦ ≥ 1 steps.
    ///   - labels: B class ids, or empty.
    public init(sequences: [[Float]], features: Int, labels: [Int] = []) {
        precondition(!sequences.isEmpty && features >= 1, "SeriesBatch: no sequences")
        precondition(labels.isEmpty || labels.count == sequences.count, "SeriesBatch: \(labels.count) labels for \(sequences.count) sequences")
        let F = features, B = sequences.count
        let lengths = sequences.map { $0.count / F }
        precondition(sequences.allSatisfy { $0.count % F == 0 && $0.count >= F }, "SeriesBatch: a sequence is not a whole number of \(F)-vectors")
        let T = lengths.max()!
        var values = [Float](repeating: 0, count: T * B * F)
        for (b, sequence) in sequences.enumerated() {
            for t in 0..<lengths[b] { for f in 0..<F { values[(t * B + b) * F + f] = sequence[t * F + f] } }
        }
        self.values = values
        self.lengths = lengths
        self.labels = labels
        steps = T
        batch = B
        self.features = F
    }
}
