import Foundation
import RecurrentData
import RecurrentIO
import RecurrentNN
import RecurrentTensor

/// How a forecaster gives its H steps.
public enum ForecastStrategy: String, Codable, CaseIterable, Sendable {
    /// A linear head of H outputs on the recurrent layer's state ("direct" multi-step forecasting).
    case direct
    /// An encoder over the window, its last state repeated H times into a decoder recurrent layer, and a
    /// linear head of one output per decoder step (the Keras RepeatVector encoder–decoder).
    case encoderDecoder = "encoder-decoder"
}

/// Hyper-parameters of a forecaster and the normalisation it was trained with; stored in checkpoints as JSON.
/// Fields added by issue 22 are optional so that checkpoints of older runs (one column, one step) still load.
public struct ForecasterConfig: Codable, Equatable, Sendable {
    /// The recurrence.
    public var cell: CellKind
    /// H, the hidden features of each layer.
    public var hiddenSize: Int
    /// L, the number of stacked layers.
    public var layers: Int
    /// Input window W (time steps).
    public var window: Int
    /// Levels, or differences from the last input value.
    public var target: ForecastTarget
    /// The z-score fitted on the training part's features.
    public var mean: Double
    /// The standard deviation of that z-score.
    public var std: Double
    /// The data column trained on, nil for the file's default.
    public var column: String?
    /// Covariate columns (inputs besides the target) and their z-scores; nil: none.
    public var covariates: [String]?
    /// The means of the covariates' z-scores.
    public var covariateMeans: [Double]?
    /// The standard deviations of the covariates' z-scores.
    public var covariateStds: [Double]?
    /// H, the steps forecast at once; nil: 1.
    public var horizon: Int?
    /// nil: direct.
    public var strategy: ForecastStrategy?
    /// The season of the baselines at training time (0: none); nil: not recorded (older runs).
    public var season: Int?
    /// How the data file was read (nil: the defaults).
    public var separator: CSVSeparator?
    /// The date column's name or index, nil for the detected one.
    public var dateColumn: String?
    /// How skipped time steps were filled (nil: none allowed).
    public var fill: GapFill?

    /// A configuration; `mean` and `std` are the target's z-score fitted on the training part.
    public init(cell: CellKind = .lstm, hiddenSize: Int = 32, layers: Int = 1, window: Int = 24, target: ForecastTarget = .difference,
                scaler: ZScore = ZScore(mean: 0, std: 1), column: String? = nil, covariates: [String] = [], covariateScalers: [ZScore] = [],
                horizon: Int = 1, strategy: ForecastStrategy = .direct, season: Int? = nil) {
        precondition(covariates.count == covariateScalers.count, "ForecasterConfig: one scaler per covariate")
        self.cell = cell
        self.hiddenSize = hiddenSize
        self.layers = layers
        self.window = window
        self.target = target
        mean = scaler.mean
        std = scaler.std
        self.column = column
        if !covariates.isEmpty {
            self.covariates = covariates
            covariateMeans = covariateScalers.map(\.mean)
            covariateStds = covariateScalers.map(\.std)
        }
        if horizon != 1 { self.horizon = horizon }
        if strategy != .direct { self.strategy = strategy }
        self.season = season
    }

    /// The target's z-score.
    public var scaler: ZScore { ZScore(mean: mean, std: std) }
    /// The covariates' z-scores, in column order.
    public var covariateScalers: [ZScore] { zip(covariateMeans ?? [], covariateStds ?? []).map { ZScore(mean: $0, std: $1) } }
    /// C: the target and each covariate.
    public var inputCount: Int { 1 + (covariates?.count ?? 0) }
    /// H.
    public var steps: Int { horizon ?? 1 }
    /// The strategy, direct when the checkpoint records none.
    public var forecastStrategy: ForecastStrategy { strategy ?? .direct }

    /// Checks everything before it is used to allocate (a config may come from a file).
    public func validate() throws {
        for (name, value, limit) in [("hiddenSize", hiddenSize, 65_536), ("layers", layers, 64), ("window", window, 100_000), ("horizon", steps, 10_000),
                                     ("covariates", inputCount - 1, 10_000)] where value < (name == "covariates" ? 0 : 1) || value > limit {
            throw ModelError.badConfig("\(name) must be in \(name == "covariates" ? 0 : 1)...\(limit), got \(value)")
        }
        guard mean.isFinite, std.isFinite, std > 0 else { throw ModelError.badConfig("the normalisation must be finite with std > 0, got mean \(mean), std \(std)") }
        let k = covariates?.count ?? 0
        guard (covariateMeans?.count ?? 0) == k, (covariateStds?.count ?? 0) == k else {
            throw ModelError.badConfig("\(k) covariates need \(k) means and standard deviations, got \(covariateMeans?.count ?? 0) and \(covariateStds?.count ?? 0)")
        }
        for s in covariateScalers where !(s.mean.isFinite && s.std.isFinite && s.std > 0) {
            throw ModelError.badConfig("a covariate's normalisation must be finite with std > 0, got mean \(s.mean), std \(s.std)")
        }
        if let season, season < 0 || season > 100_000 { throw ModelError.badConfig("season must be in 0...100000, got \(season)") }
    }
}

/// Many-to-one / many-to-many regression: a recurrent layer (LSTM, GRU, Elman RNN or Jordan) over a
/// window of C features per step (the target and its covariates), then either a linear head giving the
/// next H normalised values at every step (`.direct`), or a decoder recurrent layer over H steps fed the
/// encoder's last output and a head of one value per step (`.encoderDecoder`).
/// Parameter names: `rnn.weight_ih_l0`, …, `decoder.weight_ih_l0`, …, `head.weight`, `head.bias`.
public final class Forecaster: Module<Float> {
    /// The configuration the model was built from.
    public let config: ForecasterConfig
    /// The recurrent network (a Jordan network's fed-back output y is H wide and read like a hidden state).
    public let rnn: any RecurrentNetwork<Float>
    /// The encoder–decoder strategy's decoder network, run over the encoder's last output repeated H times; nil for direct.
    public let decoder: (any RecurrentNetwork<Float>)?
    /// The linear output: H values per step (direct), or one per decoder step (encoder–decoder).
    public let head: Linear<Float>

    /// A forecaster with random initial values drawn from a generator seeded with `seed`.
    public init(_ config: ForecasterConfig, seed: UInt64) {
        self.config = config
        var generator = RandomGenerator(seed: seed)
        let (H, L) = (config.hiddenSize, config.layers)
        rnn = TaskNetwork.make(cell: config.cell, input: config.inputCount, hidden: H, layers: L, dropout: 0, bidirectional: false, generator: &generator)
        switch config.forecastStrategy {
        case .direct:
            decoder = nil
            head = Linear(inputSize: rnn.outputFeatures, outputSize: config.steps, generator: &generator)
        case .encoderDecoder:
            let d = TaskNetwork.make(cell: config.cell, input: rnn.outputFeatures, hidden: H, layers: L, dropout: 0, bidirectional: false, generator: &generator)
            decoder = d
            head = Linear(inputSize: d.outputFeatures, outputSize: 1, generator: &generator)
        }
        super.init()
        registerModule("rnn", rnn.module)
        if let decoder { registerModule("decoder", decoder.module) }
        registerModule("head", head)
    }

    /// - Parameter x: (T, B, C) normalised features.
    /// - Returns: (T, B, H): the normalised next H values after every step (`.direct`; the encoder–decoder
    ///   forecasts from the last step only, see `lastStep`).
    public func callAsFunction(_ x: Tensor<Float>) -> Tensor<Float> {
        let h = rnn(x).output                                           // (T, B, Hd)
        return head(h)
    }

    /// - Parameter x: (W, B, C) normalised features.
    /// - Returns: (B, H): the normalised forecasts of the H values after the window.
    public func lastStep(_ x: Tensor<Float>) -> Tensor<Float> {
        let (W, B, K) = (x.shape[0], x.shape[1], config.steps)
        switch config.forecastStrategy {
        case .direct:
            return self(x).slice(axis: 0, (W - 1)..<W).reshaped([B, K])
        case .encoderDecoder:
            let encoded = rnn(x).output                                 // (W, B, Hd)
            let last = encoded.slice(axis: 0, (W - 1)..<W).reshaped([B, encoded.shape[2]])
            let repeated = Tensor.stack(Array(repeating: last, count: K), axis: 0)   // (K, B, Hd)
            let y = head(decoder!(repeated).output)                     // (K, B, 1)
            return y.reshaped([K, B]).transposed(0, 1)                  // (B, K)
        }
    }

    /// Normalised forecasts for the dataset samples with origins `times` (no gradient): [b][j].
    public func predictNormalised(_ data: ForecastDataset, times: [Int]) -> [[Double]] {
        guard !times.isEmpty else { return [] }
        return withoutGrad {
            let wasTraining = isTraining
            eval()
            defer { train(wasTraining) }
            let (inputs, _) = data.batch(times)
            let y = lastStep(Tensor(inputs, shape: [data.window, times.count, data.inputCount]))   // (B, H)
            let K = config.steps
            return (0..<times.count).map { b in (0..<K).map { Double(y.data[b * K + $0]) } }
        }
    }

    /// Forecasts in the series' units: [b][j] is x[t_b + j].
    public func predictSteps(_ data: ForecastDataset, times: [Int]) -> [[Double]] {
        zip(times, predictNormalised(data, times: times)).map { t, z in z.enumerated().map { data.value(at: t, step: $0, fromNormalised: $1) } }
    }

    /// One-step-ahead forecasts of x[t] in the series' units for each t in `times`.
    public func predict(_ data: ForecastDataset, times: [Int]) -> [Double] {
        predictSteps(data, times: times).map { $0[0] }
    }

    /// Forecast after the end of `history`: H values at once (the trained horizon); a longer `horizon`
    /// appends them and forecasts again (possible without covariates only, whose future is unknown).
    /// - Parameters:
    ///   - history: at least `window` values (`window + 1` for the difference target).
    ///   - covariates: the covariates' values over the same times, one array per covariate.
    /// - Returns: `horizon` values continuing the series.
    public func forecast(history: [Double], covariates: [[Double]] = [], horizon: Int) -> [Double] {
        let target = config.target, scaler = config.scaler, W = config.window, C = config.inputCount, K = config.steps
        let covariateScalers = config.covariateScalers
        precondition(history.count >= W + (target == .difference ? 1 : 0), "Forecaster.forecast: \(history.count) values cannot fill a window of \(W)")
        precondition(covariates.count == C - 1 && covariates.allSatisfy { $0.count == history.count }, "Forecaster.forecast: one covariate history per covariate")
        precondition(horizon <= K || C == 1, "Forecaster.forecast: with covariates the horizon cannot exceed the trained \(K)")
        var series = history
        return withoutGrad {
            let wasTraining = isTraining
            eval()
            defer { train(wasTraining) }
            var out: [Double] = []
            while out.count < horizon {
                let n = series.count
                var inputs = [Float](repeating: 0, count: W * C)
                for (k, i) in (n - W..<n).enumerated() {
                    inputs[k * C] = Float(scaler.normalise(target == .difference ? series[i] - series[i - 1] : series[i]))
                    for (c, column) in covariates.enumerated() {
                        inputs[k * C + 1 + c] = Float(covariateScalers[c].normalise(target == .difference ? column[i] - column[i - 1] : column[i]))
                    }
                }
                let y = lastStep(Tensor(inputs, shape: [W, 1, C]))      // (1, H)
                let last = series[n - 1]
                let chunk = (0..<K).map { ForecastDataset.value(last: last, step: $0, fromNormalised: Double(y.data[$0]), target: target, scaler: scaler) }
                series += chunk
                out += chunk
            }
            return Array(out.prefix(horizon))
        }
    }
}

extension Forecaster {
    /// Loads a checkpoint written by `ForecastTrainer`, validating everything that came from the file.
    public static func load(from url: URL) throws -> Forecaster {
        try load(checkpoint: Checkpoint.load(from: url))
    }

    /// Builds the model from a checkpoint already read, validating everything that came from it;
    /// a config that asks for more parameters than the checkpoint holds is refused before allocation.
    public static func load(checkpoint: Checkpoint) throws -> Forecaster {
        try checkpoint.require(task: "forecast")
        let config = try checkpoint.validatedConfig(ForecasterConfig.self, what: "a forecaster") { try $0.validate() }
        try checkpoint.requireParameters(atLeast: config.minimumParameterCount)
        if let bad = checkpoint.nonFiniteTensorNames.first { throw ModelError.nonFiniteParameters(bad) }
        let model = Forecaster(config, seed: 0)
        try model.loadParameters(checkpoint.modelTensors)  // last.safetensors also holds optimizer state
        return model
    }
}

extension ForecasterConfig {
    /// How to read the data file the way it was read for training.
    public var reading: TimeSeriesReading {
        TimeSeriesReading(target: column.map(TimeSeriesColumn.init(parsing:)), covariates: (covariates ?? []).map(TimeSeriesColumn.init(parsing:)),
                          date: dateColumn.map(TimeSeriesColumn.init(parsing:)), separator: separator ?? .auto, fill: fill ?? .none)
    }
}
