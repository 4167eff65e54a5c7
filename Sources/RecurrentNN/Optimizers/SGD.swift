import RecurrentTensor

/// Stochastic gradient descent, PyTorch's `torch.optim.SGD`: L2 weight decay, momentum with
/// dampening (the buffer starts as the first gradient), Nesterov momentum.
public final class SGD<Scalar: TensorScalar>: Optimizer {
    public let parameters: [Tensor<Scalar>]
    public var learningRate: Scalar
    /// Momentum factor, dampening of the gradient in the momentum buffer, L2 weight decay, and whether to use Nesterov momentum.
    public let momentum: Scalar, dampening: Scalar, weightDecay: Scalar, nesterov: Bool
    let state: OptimizerBuffers<Scalar>

    /// SGD with PyTorch's update rule (`torch.optim.SGD`); Nesterov needs momentum > 0 and zero dampening.
    public init(parameters: [Tensor<Scalar>], learningRate: Scalar, momentum: Scalar = 0, dampening: Scalar = 0,
                weightDecay: Scalar = 0, nesterov: Bool = false) {
        precondition(!nesterov || (momentum > 0 && dampening == 0), "SGD: Nesterov momentum requires momentum > 0 and zero dampening")
        self.parameters = parameters
        self.learningRate = learningRate
        self.momentum = momentum
        self.dampening = dampening
        self.weightDecay = weightDecay
        self.nesterov = nesterov
        state = OptimizerBuffers(momentum != 0 ? ["momentum_buffer"] : [], like: parameters)
    }

    /// Element-wise over every parameter, split over two cores for large models (`updateElementwise`).
    @_specialize(where Scalar == Float)
    public func step() {
        let first = state.step == 0
        state.step += 1
        let (learningRate, momentum, dampening, weightDecay, nesterov) = (learningRate, momentum, dampening, weightDecay, nesterov)
        var slices: [(w: UnsafeMutablePointer<Scalar>, g: UnsafeMutablePointer<Scalar>, buffer: UnsafeMutablePointer<Scalar>?)] = []
        var counts: [Int] = []
        for (index, p) in parameters.enumerated() {
            guard let grad = p.grad else { continue }
            slices.append((p.data, grad.data, momentum != 0 ? state["momentum_buffer", index] : nil))
            counts.append(p.count)
        }
        updateElementwise(counts: counts) { k, range in
            let (w, g, buffer) = slices[k]
            for i in range {
                var d = g[i] + weightDecay * w[i]
                if let buffer {
                    buffer[i] = first ? d : momentum * buffer[i] + (1 - dampening) * d
                    d = nesterov ? d + momentum * buffer[i] : buffer[i]
                }
                w[i] -= learningRate * d
            }
        }
    }

    public func stateTensors() -> [String: Tensor<Scalar>] { state.export() }
    public func loadState(_ s: [String: Tensor<Scalar>]) throws { try state.load(s) }
}
