import RecurrentTensor

/// RMSprop, PyTorch's `torch.optim.RMSprop`: running mean of g² (α), optional centring by the
/// running mean of g, ε added after the square root, optional momentum.
public final class RMSprop<Scalar: TensorScalar>: Optimizer {
    public let parameters: [Tensor<Scalar>]
    public var learningRate: Scalar
    /// α (decay of the running mean of g²), ε (added after the square root), L2 weight decay, momentum, and whether to centre by the running mean of g.
    public let alpha: Scalar, epsilon: Scalar, weightDecay: Scalar, momentum: Scalar, centered: Bool
    let state: OptimizerBuffers<Scalar>

    /// RMSprop with PyTorch's defaults (`torch.optim.RMSprop`).
    public init(parameters: [Tensor<Scalar>], learningRate: Scalar = 1e-2, alpha: Scalar = 0.99, epsilon: Scalar = 1e-8,
                weightDecay: Scalar = 0, momentum: Scalar = 0, centered: Bool = false) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.alpha = alpha
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.momentum = momentum
        self.centered = centered
        state = OptimizerBuffers(["square_avg"] + (momentum > 0 ? ["momentum_buffer"] : []) + (centered ? ["grad_avg"] : []), like: parameters)
    }

    /// Element-wise over every parameter, split over two cores for large models (`updateElementwise`).
    @_specialize(where Scalar == Float)
    public func step() {
        state.step += 1
        let (learningRate, alpha, epsilon, weightDecay) = (learningRate, alpha, epsilon, weightDecay)
        var slices: [(w: UnsafeMutablePointer<Scalar>, g: UnsafeMutablePointer<Scalar>, sq: UnsafeMutablePointer<Scalar>,
                      buffer: UnsafeMutablePointer<Scalar>?, mean: UnsafeMutablePointer<Scalar>?)] = []
        var counts: [Int] = []
        for (index, p) in parameters.enumerated() {
            guard let grad = p.grad else { continue }
            slices.append((p.data, grad.data, state["square_avg", index], momentum > 0 ? state["momentum_buffer", index] : nil,
                           centered ? state["grad_avg", index] : nil))
            counts.append(p.count)
        }
        let momentum = momentum
        updateElementwise(counts: counts) { k, range in
            let (w, g, sq, buffer, mean) = slices[k]
            for i in range {
                let d = g[i] + weightDecay * w[i]
                sq[i] = sq[i] * alpha + (1 - alpha) * d * d
                var average: Scalar
                if let mean {
                    mean[i] += (d - mean[i]) * (1 - alpha)
                    average = (sq[i] - mean[i] * mean[i]).squareRoot()
                } else {
                    average = sq[i].squareRoot()
                }
                average += epsilon
                if let buffer {
                    buffer[i] = buffer[i] * momentum + d / average
                    w[i] -= learningRate * buffer[i]
                } else {
                    w[i] -= learningRate * d / average
                }
            }
        }
    }

    public func stateTensors() -> [String: Tensor<Scalar>] { state.export() }
    public func loadState(_ s: [String: Tensor<Scalar>]) throws { try state.load(s) }
}

/// Adagrad, PyTorch's `torch.optim.Adagrad`: per-element sum of g², learning-rate decay by step.
public final class Adagrad<Scalar: TensorScalar>: Optimizer {
    public let parameters: [Tensor<Scalar>]
    public var learningRate: Scalar
    /// The decay of the learning rate by step (lr / (1 + (step − 1) · decay)), L2 weight decay, and ε added to the root of the accumulated g².
    public let learningRateDecay: Scalar, weightDecay: Scalar, epsilon: Scalar
    let state: OptimizerBuffers<Scalar>

    /// Adagrad with PyTorch's defaults (`torch.optim.Adagrad`); the accumulator of g² starts at `initialAccumulatorValue`.
    public init(parameters: [Tensor<Scalar>], learningRate: Scalar = 1e-2, learningRateDecay: Scalar = 0, weightDecay: Scalar = 0,
                initialAccumulatorValue: Scalar = 0, epsilon: Scalar = 1e-10) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.learningRateDecay = learningRateDecay
        self.weightDecay = weightDecay
        self.epsilon = epsilon
        state = OptimizerBuffers(["sum"], like: parameters, initialValue: initialAccumulatorValue)
    }

    /// Element-wise over every parameter, split over two cores for large models (`updateElementwise`).
    @_specialize(where Scalar == Float)
    public func step() {
        state.step += 1
        let clr = learningRate / (1 + Scalar(state.step - 1) * learningRateDecay)
        let (weightDecay, epsilon) = (weightDecay, epsilon)
        var slices: [(w: UnsafeMutablePointer<Scalar>, g: UnsafeMutablePointer<Scalar>, sum: UnsafeMutablePointer<Scalar>)] = []
        var counts: [Int] = []
        for (index, p) in parameters.enumerated() {
            guard let grad = p.grad else { continue }
            slices.append((p.data, grad.data, state["sum", index]))
            counts.append(p.count)
        }
        updateElementwise(counts: counts) { k, range in
            let (w, g, sum) = slices[k]
            for i in range {
                let d = g[i] + weightDecay * w[i]
                sum[i] += d * d
                w[i] -= clr * d / (sum[i].squareRoot() + epsilon)
            }
        }
    }

    public func stateTensors() -> [String: Tensor<Scalar>] { state.export() }
    public func loadState(_ s: [String: Tensor<Scalar>]) throws { try state.load(s) }
}
