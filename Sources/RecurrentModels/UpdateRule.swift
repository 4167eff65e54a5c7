import RecurrentNN
import RecurrentTensor

/// How a trainer turns gradients into an update, chosen on the command line (`--optimizer`,
/// `--momentum`, `--weight-decay`, `--clip-value`); the learning rate and the global-norm clipping
/// threshold sit in each task's options because their good defaults differ by task.
public struct UpdateRule: Codable, Equatable, Sendable {
    public static let optimizers = ["adam", "adamw", "sgd", "rmsprop", "adagrad"]

    /// One of `optimizers`, with PyTorch's update rules and default hyper-parameters.
    public var optimizer = "adam"
    /// Momentum of SGD and RMSprop (ignored by the others).
    public var momentum = 0.0
    /// L2 weight decay (Adam, SGD, RMSprop, Adagrad) or decoupled decay (AdamW).
    public var weightDecay = 0.0
    /// Clamp every gradient element to [−clipValue, clipValue] before the norm clipping (0: off).
    public var clipValue = 0.0

    public init(optimizer: String = "adam", momentum: Double = 0, weightDecay: Double = 0, clipValue: Double = 0) {
        self.optimizer = optimizer
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.clipValue = clipValue
    }

    /// Checks a rule that may come from a file or the command line.
    public func validate() throws {
        guard Self.optimizers.contains(optimizer) else {
            throw TrainingError.badOptions("optimizer must be one of \(Self.optimizers.joined(separator: ", ")), got '\(optimizer)'")
        }
        guard momentum >= 0, momentum < 1 else { throw TrainingError.badOptions("momentum must be in [0, 1), got \(momentum)") }
        guard weightDecay >= 0, weightDecay.isFinite else { throw TrainingError.badOptions("weight decay must not be negative, got \(weightDecay)") }
        guard clipValue >= 0, clipValue.isFinite else { throw TrainingError.badOptions("clip value must not be negative, got \(clipValue)") }
    }

    /// The optimizer over `parameters`.
    public func makeOptimizer(_ parameters: [Tensor<Float>], learningRate: Double) -> any Optimizer<Float> {
        let (lr, wd, m) = (Float(learningRate), Float(weightDecay), Float(momentum))
        switch optimizer {
        case "adamw": return AdamW(parameters: parameters, learningRate: lr, weightDecay: wd)
        case "sgd": return SGD(parameters: parameters, learningRate: lr, momentum: m, weightDecay: wd)
        case "rmsprop": return RMSprop(parameters: parameters, learningRate: lr, weightDecay: wd, momentum: m)
        case "adagrad": return Adagrad(parameters: parameters, learningRate: lr, weightDecay: wd)
        default: return Adam(parameters: parameters, learningRate: lr, weightDecay: wd)
        }
    }

    /// A short description for the log line: "Adam", "SGD (momentum 0.9)".
    public var summary: String {
        let name = ["adam": "Adam", "adamw": "AdamW", "sgd": "SGD", "rmsprop": "RMSprop", "adagrad": "Adagrad"][optimizer] ?? optimizer
        var details: [String] = []
        if momentum > 0, optimizer == "sgd" || optimizer == "rmsprop" { details.append("momentum \(momentum)") }
        if weightDecay > 0 { details.append("weight decay \(weightDecay)") }
        if clipValue > 0 { details.append("gradients clamped to ±\(clipValue)") }
        return details.isEmpty ? name : "\(name) (\(details.joined(separator: ", ")))"
    }
}
