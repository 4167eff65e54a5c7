import RecurrentModels
import RecurrentNN
import RecurrentTensor

/// The optimizers a run can use, with PyTorch's update rules and default hyper-parameters.
public enum OptimizerKind: String, Codable, CaseIterable, Sendable {
    /// Adam, AdamW, SGD (with momentum), RMSprop, Adagrad.
    case adam, adamw, sgd, rmsprop, adagrad

    /// "Adam", "AdamW", "SGD"…
    public var displayName: String {
        switch self {
        case .adam: "Adam"
        case .adamw: "AdamW"
        case .sgd: "SGD"
        case .rmsprop: "RMSprop"
        case .adagrad: "Adagrad"
        }
    }
}

/// How a trainer turns gradients into an update; the learning rate and the global-norm clipping
/// threshold sit in `TrainingOptions` because their good defaults differ by task.
public struct UpdateRule: Codable, Equatable, Sendable {
    /// The optimizer.
    public var optimizer = OptimizerKind.adam
    /// Momentum of SGD and RMSprop (ignored by the others).
    public var momentum = 0.0
    /// L2 weight decay (Adam, SGD, RMSprop, Adagrad) or decoupled decay (AdamW).
    public var weightDecay = 0.0
    /// Clamp every gradient element to [−clipValue, clipValue] before the norm clipping (0: off).
    public var clipValue = 0.0

    /// An update rule; the defaults are Adam without decay or element-wise clipping.
    public init(optimizer: OptimizerKind = .adam, momentum: Double = 0, weightDecay: Double = 0, clipValue: Double = 0) {
        self.optimizer = optimizer
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.clipValue = clipValue
    }

    /// Checks a rule that may come from a file or the command line.
    public func validate() throws {
        guard momentum >= 0, momentum < 1 else { throw TrainingError.badOptions("momentum must be in [0, 1), got \(momentum)") }
        guard weightDecay >= 0, weightDecay.isFinite else { throw TrainingError.badOptions("weight decay must not be negative, got \(weightDecay)") }
        guard clipValue >= 0, clipValue.isFinite else { throw TrainingError.badOptions("clip value must not be negative, got \(clipValue)") }
    }

    /// The optimizer over `parameters`.
    public func makeOptimizer(_ parameters: [Tensor<Float>], learningRate: Double) -> any Optimizer<Float> {
        let (lr, wd, m) = (Float(learningRate), Float(weightDecay), Float(momentum))
        switch optimizer {
        case .adam: return Adam(parameters: parameters, learningRate: lr, weightDecay: wd)
        case .adamw: return AdamW(parameters: parameters, learningRate: lr, weightDecay: wd)
        case .sgd: return SGD(parameters: parameters, learningRate: lr, momentum: m, weightDecay: wd)
        case .rmsprop: return RMSprop(parameters: parameters, learningRate: lr, weightDecay: wd, momentum: m)
        case .adagrad: return Adagrad(parameters: parameters, learningRate: lr, weightDecay: wd)
        }
    }

    /// A short description for the log line: "Adam", "SGD (momentum 0.9)".
    public var summary: String {
        var details: [String] = []
        if momentum > 0, optimizer == .sgd || optimizer == .rmsprop { details.append("momentum \(momentum)") }
        if weightDecay > 0 { details.append("weight decay \(weightDecay)") }
        if clipValue > 0 { details.append("gradients clamped to ±\(clipValue)") }
        return details.isEmpty ? optimizer.displayName : "\(optimizer.displayName) (\(details.joined(separator: ", ")))"
    }
}
