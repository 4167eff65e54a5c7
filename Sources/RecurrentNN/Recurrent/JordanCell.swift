import RecurrentTensor

// Jordan network (Jordan, 1986): the previous step's OUTPUT y, not its hidden state, is fed back.
//
//     h_t = act(x_t·W_ihᵀ + y_{t−1}·W_yhᵀ + b_ih)        act ∈ {tanh, relu}
//     y_t = act_out(h_t·W_hoᵀ + b_ho)                    act_out ∈ {identity, tanh, sigmoid}
//
// Parameter names follow PyTorch's pattern weight_{from}{to}:
//     weight_ih (H, I)   input → hidden           bias_ih (H)   hidden bias
//     weight_yh (H, O)   previous output → hidden
//     weight_ho (O, H)   hidden → output          bias_ho (O)   output bias
// all initialised U(−1/√H, 1/√H). `Jordan` (Jordan.swift) stores the same tensors per layer and
// direction with PyTorch's suffixes: weight_ih_l0, weight_yh_l1_reverse, …

/// Activation of a Jordan network's output y.
public enum OutputActivation: String, Sendable, CaseIterable {
    /// No activation (y = h W_hoᵀ + b_ho), tanh, or the logistic sigmoid.
    case identity, tanh, sigmoid

    @inlinable @inline(__always)
    func apply<S: TensorScalar>(_ x: S) -> S {
        switch self {
        case .identity: x
        case .tanh: S.tanh(x)
        case .sigmoid: S.sigmoid(x)
        }
    }

    /// The derivative expressed through the activation's output y.
    @inlinable @inline(__always)
    func derivative<S: TensorScalar>(output y: S) -> S {
        switch self {
        case .identity: 1
        case .tanh: 1 - y * y
        case .sigmoid: y * (1 - y)
        }
    }

    /// The activation as an autograd op.
    func apply<S: TensorScalar>(_ t: Tensor<S>) -> Tensor<S> {
        switch self {
        case .identity: t
        case .tanh: t.tanh()
        case .sigmoid: t.sigmoid()
        }
    }
}

/// One step of a Jordan network, composed from autograd ops (matmul, add, activations).
///
/// For hand-written loops (generation one step at a time) and as the independent reference the
/// fused `Jordan` layer is tested against. Parameters: weight_ih (H, I), weight_yh (H, O),
/// weight_ho (O, H), bias_ih (H), bias_ho (O). Its state is the fed-back output y, as the `Jordan` layer's.
public final class JordanCell<Scalar: TensorScalar>: Module<Scalar>, RecurrentCell {
    /// I, the input features; H, the hidden features; O, the output features that are fed back.
    public let inputSize: Int, hiddenSize: Int, outputSize: Int
    /// The hidden layer's activation φ.
    public let activation: Nonlinearity
    /// The output's activation ψ.
    public let outputActivation: OutputActivation
    /// W_ih (H, I), W_yh (H, O) and W_ho (O, H): input to hidden, previous output to hidden, hidden to output.
    public let weightIH: Tensor<Scalar>, weightYH: Tensor<Scalar>, weightHO: Tensor<Scalar>
    /// b_ih (H) and b_ho (O), or nil without biases.
    public let biasIH: Tensor<Scalar>?, biasHO: Tensor<Scalar>?

    /// - Parameters:
    ///   - inputSize: features I of x.
    ///   - hiddenSize: features H of the hidden layer.
    ///   - outputSize: features O of the output y (what is fed back).
    ///   - bias: whether bias_ih and bias_ho exist.
    ///   - activation: of the hidden layer, `.tanh` (default) or `.relu`.
    ///   - outputActivation: of the output, `.tanh` (default), `.sigmoid` or `.identity`.
    ///   - generator: source of the U(−1/√H, 1/√H) initial values, shared with the modules built after this one.
    public convenience init(inputSize: Int, hiddenSize: Int, outputSize: Int, bias: Bool = true,
                            activation: Nonlinearity = .tanh, outputActivation: OutputActivation = .tanh,
                            generator: inout RandomGenerator) {
        let w = JordanWeights<Scalar>(inputSize: inputSize, hiddenSize: hiddenSize, outputSize: outputSize, bias: bias,
                                      generator: &generator)
        self.init(sharing: w, activation: activation, outputActivation: outputActivation)
    }

    /// The default initialisation, U(−1/√H, 1/√H), from a generator seeded with `seed`.
    public convenience init(inputSize: Int, hiddenSize: Int, outputSize: Int, bias: Bool = true,
                            activation: Nonlinearity = .tanh, outputActivation: OutputActivation = .tanh, seed: UInt64 = 0) {
        var generator = RandomGenerator(seed: seed)
        self.init(inputSize: inputSize, hiddenSize: hiddenSize, outputSize: outputSize, bias: bias, activation: activation,
                  outputActivation: outputActivation, generator: &generator)
    }

    /// A cell over existing parameter tensors (shared, not copied): `Jordan.cell(layer:direction:)`.
    init(sharing w: JordanWeights<Scalar>, activation: Nonlinearity, outputActivation: OutputActivation) {
        inputSize = w.weightIH.shape[1]
        hiddenSize = w.weightIH.shape[0]
        outputSize = w.weightHO.shape[0]
        self.activation = activation
        self.outputActivation = outputActivation
        weightIH = w.weightIH; weightYH = w.weightYH; weightHO = w.weightHO
        biasIH = w.biasIH; biasHO = w.biasHO
        super.init()
        for (name, tensor) in w.named(suffix: "") { registerParameter(name, tensor) }
    }

    public func output(of state: Tensor<Scalar>) -> Tensor<Scalar> { state }

    /// One step.
    /// - Parameters:
    ///   - x: (B, I)
    ///   - state: the previous output y (B, O), or nil for zeros.
    /// - Returns: the new output y′ (B, O), which the next step takes as its state.
    public func callAsFunction(_ x: Tensor<Scalar>, state y: Tensor<Scalar>? = nil) -> Tensor<Scalar> {
        step(x, state: y).y
    }

    /// One step, with the hidden layer it went through.
    /// - Parameters:
    ///   - x: (B, I)
    ///   - state: the previous output y (B, O), or nil for zeros.
    /// - Returns: h (B, H) and the new output y′ (B, O).
    public func step(_ x: Tensor<Scalar>, state y: Tensor<Scalar>? = nil) -> (h: Tensor<Scalar>, y: Tensor<Scalar>) {
        checkShapes("JordanCell input", x.shape, [x.shape.first ?? 0, inputSize], x.rank == 2 && x.shape[1] == inputSize)
        var pre = x.matmul(weightIH, transposeOther: true)                       // (B, H)
        if let y {
            checkShapes("JordanCell previous output", y.shape, [x.shape[0], outputSize], y.shape == [x.shape[0], outputSize])
            pre = pre + y.matmul(weightYH, transposeOther: true)
        }
        if let biasIH { pre = pre + biasIH }
        let h = activation == .tanh ? pre.tanh() : pre.relu()
        var out = h.matmul(weightHO, transposeOther: true)                       // (B, O)
        if let biasHO { out = out + biasHO }
        return (h, outputActivation.apply(out))
    }
}

/// The parameters of one Jordan layer in one direction: weight_ih (H, I), weight_yh (H, O),
/// weight_ho (O, H), bias_ih (H), bias_ho (O).
struct JordanWeights<Scalar: TensorScalar> {
    let weightIH: Tensor<Scalar>, weightYH: Tensor<Scalar>, weightHO: Tensor<Scalar>
    let biasIH: Tensor<Scalar>?, biasHO: Tensor<Scalar>?

    init(inputSize: Int, hiddenSize: Int, outputSize: Int, bias: Bool, generator: inout RandomGenerator) {
        precondition(inputSize > 0 && hiddenSize > 0 && outputSize > 0,
                     "Jordan: sizes must be positive, got input \(inputSize), hidden \(hiddenSize), output \(outputSize)")
        let bound = 1 / Scalar(hiddenSize).squareRoot()
        func make(_ shape: [Int]) -> Tensor<Scalar> { .uniform(shape, low: -bound, high: bound, generator: &generator) }
        weightIH = make([hiddenSize, inputSize])
        weightYH = make([hiddenSize, outputSize])
        weightHO = make([outputSize, hiddenSize])
        biasIH = bias ? make([hiddenSize]) : nil
        biasHO = bias ? make([outputSize]) : nil
    }

    /// Names (weights first, then biases, as PyTorch orders its RNN parameters) with `suffix` appended.
    func named(suffix: String) -> [(String, Tensor<Scalar>)] {
        var list = [("weight_ih", weightIH), ("weight_yh", weightYH), ("weight_ho", weightHO)]
        if let biasIH { list.append(("bias_ih", biasIH)) }
        if let biasHO { list.append(("bias_ho", biasHO)) }
        return list.map { ($0.0 + suffix, $0.1) }
    }

    /// The tensors in the order of `named`.
    var all: [Tensor<Scalar>] { named(suffix: "").map(\.1) }
}
