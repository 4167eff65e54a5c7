import Foundation
import RecurrentData
import RecurrentIO
import RecurrentNN
import RecurrentTensor

/// Hyper-parameters of a forecaster and the normalisation it was trained with; stored in checkpoints as JSON.
public struct ForecasterConfig: Codable, Equatable, Sendable {
    public var cell: CellKind
    public var hiddenSize: Int
    public var layers: Int
    /// Input window W (time steps).
    public var window: Int
    public var target: ForecastTarget
    /// The z-score fitted on the training part's features.
    public var mean: Double
    public var std: Double
    /// The data column trained on, nil for the file's default.
    public var column: String?

    public init(cell: CellKind = .lstm, hiddenSize: Int = 32, layers: Int = 1, window: Int = 24, target: ForecastTarget = .difference,
                scaler: ZScore = ZScore(mean: 0, std: 1), column: String? = nil) {
        self.cell = cell
        self.hiddenSize = hiddenSize
        self.layers = layers
        self.window = window
        self.target = target
        mean = scaler.mean
        std = scaler.std
        self.column = column
    }

    public var scaler: ZScore { ZScore(mean: mean, std: std) }

    /// Checks everything before it is used to allocate (a config may come from a file).
    public func validate() throws {
        for (name, value, limit) in [("hiddenSize", hiddenSize, 65_536), ("layers", layers, 64), ("window", window, 100_000)] where value < 1 || value > limit {
            throw ModelError.badConfig("\(name) must be in 1...\(limit), got \(value)")
        }
        guard mean.isFinite, std.isFinite, std > 0 else { throw ModelError.badConfig("the normalisation must be finite with std > 0, got mean \(mean), std \(std)") }
    }
}

/// Many-to-one / many-to-many regression: a recurrent layer (LSTM, GRU, Elman RNN or Jordan) over a
/// window of one feature per step, then a linear head giving the next normalised feature at every step.
/// Parameter names: `rnn.weight_ih_l0`, …, `head.weight`, `head.bias`.
public final class Forecaster: Module<Float> {
    public let config: ForecasterConfig
    /// The recurrent network (a Jordan network's fed-back output y is H wide and read like a hidden state).
    let rnn: any RecurrentNetwork<Float>
    public let head: Linear<Float>

    public init(_ config: ForecasterConfig, seed: UInt64) {
        self.config = config
        var generator = RandomGenerator(seed: seed)
        let (H, L) = (config.hiddenSize, config.layers)
        rnn = TaskNetwork.make(cell: config.cell, input: 1, hidden: H, layers: L, dropout: 0, bidirectional: false, generator: &generator)
        head = Linear(inputSize: H, outputSize: 1, generator: &generator)
        super.init()
        registerModule("rnn", rnn.module)
        registerModule("head", head)
    }

    /// - Parameter x: (T, B, 1) normalised features.
    /// - Returns: (T, B, 1): the prediction of the next normalised feature after every step.
    public func callAsFunction(_ x: Tensor<Float>) -> Tensor<Float> {
        let h = rnn(x).output                                           // (T, B, H)
        return head(h)
    }

    /// Normalised one-step-ahead predictions for the dataset samples with target times `times` (no gradient).
    public func predictNormalised(_ data: ForecastDataset, times: [Int]) -> [Double] {
        guard !times.isEmpty else { return [] }
        return withoutGrad {
            let wasTraining = isTraining
            eval()
            defer { train(wasTraining) }
            let (inputs, _) = data.batch(times)
            let y = self(Tensor(inputs, shape: [data.window, times.count, 1]))   // (W, B, 1)
            let last = (data.window - 1) * times.count
            return (0..<times.count).map { Double(y.data[last + $0]) }
        }
    }

    /// One-step-ahead forecasts of x[t] in the series' units for each t in `times`.
    public func predict(_ data: ForecastDataset, times: [Int]) -> [Double] {
        zip(times, predictNormalised(data, times: times)).map { data.value(at: $0, fromNormalised: $1) }
    }

    /// Recursive multi-step forecast: predicts the value after `history`, appends it, and repeats.
    /// - Parameter history: at least `window` values (`window + 1` for the difference target).
    /// - Returns: `horizon` values continuing the series.
    public func forecast(history: [Double], horizon: Int) -> [Double] {
        let target = config.target, scaler = config.scaler, W = config.window
        precondition(history.count >= W + (target == .difference ? 1 : 0), "Forecaster.forecast: \(history.count) values cannot fill a window of \(W)")
        var series = history
        return withoutGrad {
            let wasTraining = isTraining
            eval()
            defer { train(wasTraining) }
            var out: [Double] = []
            for _ in 0..<horizon {
                let n = series.count
                let inputs = (n - W..<n).map { i in Float(scaler.normalise(target == .difference ? series[i] - series[i - 1] : series[i])) }
                let y = self(Tensor(inputs, shape: [W, 1, 1]))
                let predicted = scaler.denormalise(Double(y.data[W - 1]))
                let next = target == .difference ? series[n - 1] + predicted : predicted
                series.append(next)
                out.append(next)
            }
            return out
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
