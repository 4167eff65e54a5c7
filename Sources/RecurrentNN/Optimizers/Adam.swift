import RecurrentTensor

/// Adam (Kingma & Ba), PyTorch's `torch.optim.Adam`: weight decay as L2 added to the gradient,
/// bias-corrected moments, ε added after √v̂, optional AMSGrad.
public final class Adam<Scalar: TensorScalar>: Optimizer {
    public let parameters: [Tensor<Scalar>]
    public var learningRate: Scalar
    /// β₁ and β₂ (decay of the first and second moment estimates), ε (added to √v̂), and the L2 weight decay added to the gradient.
    public let beta1: Scalar, beta2: Scalar, epsilon: Scalar, weightDecay: Scalar
    /// Whether to divide by the running maximum of v̂ (AMSGrad, Reddi et al. 2018).
    public let amsgrad: Bool
    /// AdamW: decay the weights directly (p ← p·(1 − lr·wd)) instead of adding wd·p to the gradient.
    let decoupledWeightDecay: Bool
    let state: OptimizerBuffers<Scalar>

    /// Adam with PyTorch's defaults.
    /// - Parameters:
    /// - parameters: the tensors to update (each update skips those whose `grad` is nil).
    /// - weightDecay: L2 penalty added to the gradient (coupled, as `torch.optim.Adam`; see `AdamW` for decoupled decay).
    /// - amsgrad: keep the running maximum of the second moment.
    public convenience init(parameters: [Tensor<Scalar>], learningRate: Scalar = 1e-3, beta1: Scalar = 0.9, beta2: Scalar = 0.999,
                epsilon: Scalar = 1e-8, weightDecay: Scalar = 0, amsgrad: Bool = false) {
        self.init(parameters: parameters, learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon,
                  weightDecay: weightDecay, amsgrad: amsgrad, decoupled: false)
    }

    init(parameters: [Tensor<Scalar>], learningRate: Scalar, beta1: Scalar, beta2: Scalar, epsilon: Scalar,
         weightDecay: Scalar, amsgrad: Bool, decoupled: Bool) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.amsgrad = amsgrad
        decoupledWeightDecay = decoupled
        state = OptimizerBuffers(amsgrad ? ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"] : ["exp_avg", "exp_avg_sq"], like: parameters)
    }

    /// Element-wise over every parameter, split over two cores for large models (`updateElementwise`).
    @_specialize(where Scalar == Float)
    public func step() {
        state.step += 1
        let t = Scalar(state.step)
        let biasCorrection1 = 1 - Scalar.pow(beta1, t)
        let biasCorrection2Sqrt = (1 - Scalar.pow(beta2, t)).squareRoot()
        let stepSize = learningRate / biasCorrection1
        let (beta1, beta2, epsilon, weightDecay, amsgrad) = (beta1, beta2, epsilon, weightDecay, amsgrad)
        let decoupled = decoupledWeightDecay, decay = decoupledWeightDecay ? 1 - learningRate * weightDecay : 1
        typealias Slice = (w: UnsafeMutablePointer<Scalar>, g: UnsafeMutablePointer<Scalar>, m: UnsafeMutablePointer<Scalar>,
                           v: UnsafeMutablePointer<Scalar>, vMax: UnsafeMutablePointer<Scalar>)
        var slices: [Slice] = [], counts: [Int] = []
        for (index, p) in parameters.enumerated() {
            guard let grad = p.grad else { continue }
            let v = state["exp_avg_sq", index]
            slices.append((p.data, grad.data, state["exp_avg", index], v, amsgrad ? state["max_exp_avg_sq", index] : v))
            counts.append(p.count)
        }
        updateElementwise(counts: counts) { k, range in
            let (w, g, m, v, vMax) = slices[k]
            for i in range {
                var gi = g[i]
                if weightDecay != 0 {
                    if decoupled { w[i] *= decay } else { gi += weightDecay * w[i] }
                }
                m[i] += (gi - m[i]) * (1 - beta1)
                v[i] = v[i] * beta2 + (1 - beta2) * gi * gi
                if amsgrad { vMax[i] = Swift.max(vMax[i], v[i]) }
                let denominator = vMax[i].squareRoot() / biasCorrection2Sqrt + epsilon
                w[i] -= stepSize * m[i] / denominator
            }
        }
    }

    public func stateTensors() -> [String: Tensor<Scalar>] { state.export() }
    public func loadState(_ s: [String: Tensor<Scalar>]) throws { try state.load(s) }
}

/// AdamW (Loshchilov & Hutter), PyTorch's `torch.optim.AdamW`: Adam with decoupled weight decay.
public final class AdamW<Scalar: TensorScalar>: Optimizer {
    let adam: Adam<Scalar>
    public var parameters: [Tensor<Scalar>] { adam.parameters }
    public var learningRate: Scalar { get { adam.learningRate } set { adam.learningRate = newValue } }

    /// AdamW with PyTorch's defaults: Adam whose weight decay shrinks the parameters directly (lr · λ · θ) instead of adding to the gradient.
    public init(parameters: [Tensor<Scalar>], learningRate: Scalar = 1e-3, beta1: Scalar = 0.9, beta2: Scalar = 0.999,
                epsilon: Scalar = 1e-8, weightDecay: Scalar = 1e-2, amsgrad: Bool = false) {
        adam = Adam(parameters: parameters, learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon,
                    weightDecay: weightDecay, amsgrad: amsgrad, decoupled: true)
    }

    public func step() { adam.step() }
    public func stateTensors() -> [String: Tensor<Scalar>] { adam.stateTensors() }
    public func loadState(_ s: [String: Tensor<Scalar>]) throws { try adam.loadState(s) }
}
