import RecurrentTensor

// Single-step recurrent cells: RNNCell (here), LSTMCell, GRUCell, JordanCell.
//
// A cell maps one time step (x, state) → state′ and is meant for hand-written loops (a decoder
// stepping one token at a time); gradients flow through the autograd graph from step to step.
// Every cell is called the same way, `cell(x, state: s)` → s′ (`RecurrentCell`), with the same state
// type as its sequence layer (see RecurrentState.swift).
// Each step of RNNCell/LSTMCell/GRUCell is ONE autograd node: the gate pre-activations come from
// two GEMMs (x·W_ihᵀ + b_ih and h·W_hhᵀ + b_hh), the gate arithmetic is one elementwise pass, and
// the backward is written out by hand next to the forward. A graph of many small ops would give the
// same numbers (the tests check the cells against PyTorch and by finite differences) at several
// times the cost per step.
//
// Parameters, shapes and gate order are PyTorch's RNNCell/LSTMCell/GRUCell, so a PyTorch
// `state_dict()` loads as is: weight_ih (G·H, I), weight_hh (G·H, H), bias_ih (G·H), bias_hh (G·H),
// with G = 1 (RNN), 4 (LSTM: i, f, g, o) or 3 (GRU: r, z, n); all initialised U(−1/√H, 1/√H).

/// Activation of an Elman RNN (and of a Jordan network's hidden layer).
public enum Nonlinearity: String, Sendable, CaseIterable {
    /// tanh(x), or max(x, 0).
    case tanh, relu

    @inlinable @inline(__always)
    func apply<S: TensorScalar>(_ x: S) -> S {
        switch self {
        case .tanh: S.tanh(x)
        case .relu: x > 0 ? x : 0
        }
    }

    /// The derivative expressed through the activation's output y (tanh′ = 1 − y², relu′ = [y > 0]).
    @inlinable @inline(__always)
    func derivative<S: TensorScalar>(output y: S) -> S {
        switch self {
        case .tanh: 1 - y * y
        case .relu: y > 0 ? 1 : 0
        }
    }
}

/// A single-step recurrence, called the same way for every cell: `cell(x, state: s)` → s′, with a nil
/// state standing for zeros. `State` is the cell's one state type, the same its sequence layer takes
/// and returns: `Tensor` h for `RNNCell` and `GRUCell`, `LSTMState` for `LSTMCell`, `Tensor` y for
/// `JordanCell`; one step's shapes, (B, ·).
public protocol RecurrentCell<Scalar>: AnyObject {
    /// The element type.
    associatedtype Scalar: TensorScalar
    /// What the cell carries from step to step: a `Tensor` h, an `LSTMState`, or a Jordan network's `Tensor` y.
    associatedtype State
    /// Features I of x.
    var inputSize: Int { get }
    /// One step.
    /// - Parameters:
    ///   - x: (B, I)
    ///   - state: the previous state, (B, ·) tensors; nil for zeros.
    /// - Returns: the next state.
    func callAsFunction(_ x: Tensor<Scalar>, state: State?) -> State
    /// What a step hands to the layer above: h (Elman, GRU, LSTM) or y (Jordan), (B, ·).
    func output(of state: State) -> Tensor<Scalar>
}

extension RecurrentCell {
    /// Steps the cell over a whole sequence: the loop a sequence layer fuses, with the layer's calling
    /// convention (no lengths: every step of every row).
    /// - Parameters:
    ///   - input: (T, B, I)
    ///   - state: the initial state, (B, ·) tensors; nil for zeros.
    /// - Returns: the output of every step (T, B, ·) and the final state.
    public func unroll(_ input: Tensor<Scalar>, state: State? = nil) -> (output: Tensor<Scalar>, state: State) {
        precondition(input.rank == 3 && input.shape[0] > 0, "\(Self.self).unroll: input must be (T, B, I) with T > 0, got \(input.shape)")
        let (T, B) = (input.shape[0], input.shape[1])
        var s = state, outputs: [Tensor<Scalar>] = []
        for t in 0..<T {
            let next = self(input.slice(axis: 0, t..<(t + 1)).reshaped([B, inputSize]), state: s)
            outputs.append(output(of: next))
            s = next
        }
        return (Tensor.stack(outputs, axis: 0), s!)
    }
}

/// Parameters and the two projections shared by RNNCell, LSTMCell and GRUCell (PyTorch's `RNNCellBase`).
///
/// `weightIH` (G·H, I), `weightHH` (G·H, H), `biasIH` (G·H), `biasHH` (G·H), registered as
/// weight_ih, weight_hh, bias_ih, bias_hh.
public class RNNCellBase<Scalar: TensorScalar>: Module<Scalar> {
    /// I, the input features.
    public let inputSize: Int
    /// H, the state features.
    public let hiddenSize: Int
    /// Gate blocks G: 1 (RNN), 3 (GRU), 4 (LSTM).
    public let gateCount: Int
    /// W_ih, (G·H, I): the G gate blocks stacked.
    public let weightIH: Tensor<Scalar>
    /// W_hh, (G·H, H).
    public let weightHH: Tensor<Scalar>
    /// b_ih, (G·H), or nil without biases.
    public let biasIH: Tensor<Scalar>?
    /// b_hh, (G·H), or nil without biases.
    public let biasHH: Tensor<Scalar>?

    init(gateCount: Int, inputSize: Int, hiddenSize: Int, bias: Bool, generator: inout RandomGenerator) {
        precondition(inputSize > 0 && hiddenSize > 0, "\(Self.self): inputSize and hiddenSize must be positive, got \(inputSize) and \(hiddenSize)")
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        self.gateCount = gateCount
        let bound = 1 / Scalar(hiddenSize).squareRoot()
        let gh = gateCount * hiddenSize
        weightIH = .uniform([gh, inputSize], low: -bound, high: bound, generator: &generator)
        weightHH = .uniform([gh, hiddenSize], low: -bound, high: bound, generator: &generator)
        biasIH = bias ? .uniform([gh], low: -bound, high: bound, generator: &generator) : nil
        biasHH = bias ? .uniform([gh], low: -bound, high: bound, generator: &generator) : nil
        super.init()
        registerParameter("weight_ih", weightIH)
        registerParameter("weight_hh", weightHH)
        if let biasIH, let biasHH {
            registerParameter("bias_ih", biasIH)
            registerParameter("bias_hh", biasHH)
        }
    }

    /// The parameters in the order they follow the data inputs of a step node.
    var parameterInputs: [Tensor<Scalar>] { [weightIH, weightHH] + [biasIH, biasHH].compactMap { $0 } }

    /// Checks x (B, I) and each state (B, H); returns B.
    func checkStep(_ x: Tensor<Scalar>, _ states: [Tensor<Scalar>?], _ op: String) -> Int {
        checkShapes("\(op) input", x.shape, [x.shape.first ?? 0, inputSize], x.rank == 2 && x.shape[1] == inputSize)
        let b = x.shape[0]
        for case let s? in states {
            checkShapes("\(op) state", s.shape, [b, hiddenSize], s.shape == [b, hiddenSize])
        }
        return b
    }

    /// out (B, G·H) = x·W_ihᵀ + b_ih.
    func projectInput(_ x: Tensor<Scalar>, into out: UnsafeMutablePointer<Scalar>) {
        affineForward(rows: x.shape[0], inFeatures: inputSize, outFeatures: gateCount * hiddenSize,
                      a: x.data, lda: inputSize, w: weightIH.data, ldw: inputSize, bias: biasIH?.data,
                      c: out, ldc: gateCount * hiddenSize, accumulate: false)
    }

    /// out (B, G·H) (+)= h·W_hhᵀ + b_hh; a nil h stands for zeros (only the bias remains).
    func projectHidden(_ h: Tensor<Scalar>?, rows: Int, into out: UnsafeMutablePointer<Scalar>, accumulate: Bool) {
        affineForward(rows: rows, inFeatures: hiddenSize, outFeatures: gateCount * hiddenSize,
                      a: h?.data, lda: hiddenSize, w: weightHH.data, ldw: hiddenSize, bias: biasHH?.data,
                      c: out, ldc: gateCount * hiddenSize, accumulate: accumulate)
    }

    /// Gradients of the parameters and of x and h, given the gradients of the two projections:
    /// dGi = ∂L/∂(x·W_ihᵀ + b_ih) and dGh = ∂L/∂(h·W_hhᵀ + b_hh), both (B, G·H). `dh` may already hold
    /// a direct contribution (GRU's z ⊙ h term); the projection's part is added to it.
    func projectionGradients(x: Tensor<Scalar>, h: Tensor<Scalar>?, dGi: UnsafePointer<Scalar>, dGh: UnsafePointer<Scalar>,
                             dh: Tensor<Scalar>?) -> ProjectionGradients<Scalar> {
        let b = x.shape[0], n = gateCount * hiddenSize
        let grads = ProjectionGradients(cell: self, x: x)
        affineBackward(rows: b, inFeatures: inputSize, outFeatures: n, dc: dGi, ldd: n,
                       a: x.data, lda: inputSize, w: weightIH.data, ldw: inputSize,
                       da: grads.x?.data, ldda: inputSize, dw: grads.weightIH?.data, lddw: inputSize, dbias: grads.biasIH?.data)
        // With h = nil the recurrent GEMMs vanish (h = 0) and only b_hh receives a gradient.
        affineBackward(rows: b, inFeatures: hiddenSize, outFeatures: n, dc: dGh, ldd: n,
                       a: h?.data, lda: hiddenSize, w: weightHH.data, ldw: hiddenSize,
                       da: h == nil ? nil : dh?.data, ldda: hiddenSize,
                       dw: h == nil ? nil : grads.weightHH?.data, lddw: hiddenSize, dbias: grads.biasHH?.data)
        return grads
    }
}

/// Gradients of a step node's x and parameters, allocated (zeroed) only where the input needs one.
struct ProjectionGradients<Scalar: TensorScalar> {
    let x, weightIH, weightHH, biasIH, biasHH: Tensor<Scalar>?
    let hasBias: Bool

    init(cell: RNNCellBase<Scalar>, x: Tensor<Scalar>) {
        hasBias = cell.biasIH != nil
        func zeros(_ t: Tensor<Scalar>?) -> Tensor<Scalar>? { t.flatMap { $0.requiresGrad ? Tensor(zeros: $0.shape) : nil } }
        self.x = zeros(x)
        weightIH = zeros(cell.weightIH)
        weightHH = zeros(cell.weightHH)
        biasIH = zeros(cell.biasIH)
        biasHH = zeros(cell.biasHH)
    }

    /// In the order of `RNNCellBase.parameterInputs`.
    var parameters: [Tensor<Scalar>?] {
        hasBias ? [weightIH, weightHH, biasIH, biasHH] : [weightIH, weightHH]
    }
}

/// Allocates a zero (B, H) gradient for a state input that needs one.
func stateGradient<Scalar: TensorScalar>(_ state: Tensor<Scalar>?) -> Tensor<Scalar>? {
    guard let state, state.requiresGrad else { return nil }
    return Tensor(zeros: state.shape)
}

/// Elman cell: h′ = act(x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh), as PyTorch's `RNNCell`.
///
/// Parameters: weight_ih (H, I), weight_hh (H, H), bias_ih (H), bias_hh (H).
public final class RNNCell<Scalar: TensorScalar>: RNNCellBase<Scalar>, RecurrentCell {
    /// The activation φ of hₜ = φ(W_ih xₜ + b_ih + W_hh hₜ₋₁ + b_hh).
    public let nonlinearity: Nonlinearity

    /// - Parameters:
    ///   - inputSize: features I of x.
    ///   - hiddenSize: features H of the state.
    ///   - bias: whether bias_ih and bias_hh exist.
    ///   - nonlinearity: `.tanh` (default) or `.relu`.
    ///   - generator: source of the U(−1/√H, 1/√H) initial values, shared with the modules built after this one.
    public init(inputSize: Int, hiddenSize: Int, bias: Bool = true, nonlinearity: Nonlinearity = .tanh,
                generator: inout RandomGenerator) {
        self.nonlinearity = nonlinearity
        super.init(gateCount: 1, inputSize: inputSize, hiddenSize: hiddenSize, bias: bias, generator: &generator)
    }

    /// PyTorch's default initialisation, U(−1/√H, 1/√H), from a generator seeded with `seed`.
    public convenience init(inputSize: Int, hiddenSize: Int, bias: Bool = true, nonlinearity: Nonlinearity = .tanh, seed: UInt64 = 0) {
        var generator = RandomGenerator(seed: seed)
        self.init(inputSize: inputSize, hiddenSize: hiddenSize, bias: bias, nonlinearity: nonlinearity, generator: &generator)
    }

    public func output(of state: Tensor<Scalar>) -> Tensor<Scalar> { state }

    /// One step.
    /// - Parameters:
    ///   - x: (B, I)
    ///   - state: h (B, H), or nil for zeros.
    /// - Returns: h′ (B, H)
    public func callAsFunction(_ x: Tensor<Scalar>, state h: Tensor<Scalar>? = nil) -> Tensor<Scalar> {
        let b = checkStep(x, [h], "RNNCell")
        let hn = hiddenSize
        let out = Tensor<Scalar>(zeros: [b, hn])                   // (B, H): pre-activation, then h′ in place
        projectInput(x, into: out.data)
        projectHidden(h, rows: b, into: out.data, accumulate: true)
        rnnCellActivate(out.data, count: b * hn, nonlinearity)

        let saved = out.detached()                                  // a view: capturing `out` would be a cycle
        let act = nonlinearity
        return Tensor.record("RNNCell", inputs: [x] + (h.map { [$0] } ?? []) + parameterInputs, outputs: [out]) { [self] grads in
            let g = grads[0] ?? Tensor(zeros: [b, hn])
            let dPre = Tensor<Scalar>(zeros: [b, hn])              // (B, H) = ∂L/∂(pre-activation)
            rnnCellBackward(g.data, saved.data, dPre.data, count: b * hn, act)
            let dh = stateGradient(h)
            let p = projectionGradients(x: x, h: h, dGi: dPre.data, dGh: dPre.data, dh: dh)
            return [p.x] + (h == nil ? [] : [dh]) + p.parameters
        }[0]
    }
}

// MARK: kernels

@_specialize(where S == Float)
@_specialize(where S == Double)
func rnnCellActivate<S: TensorScalar>(_ v: UnsafeMutablePointer<S>, count: Int, _ act: Nonlinearity) {
    for i in 0..<count { v[i] = act.apply(v[i]) }
}

/// dPre = dh′ ⊙ act′, from the saved output h′.
@_specialize(where S == Float)
@_specialize(where S == Double)
func rnnCellBackward<S: TensorScalar>(_ g: UnsafePointer<S>, _ out: UnsafePointer<S>, _ dPre: UnsafeMutablePointer<S>,
                                      count: Int, _ act: Nonlinearity) {
    for i in 0..<count { dPre[i] = g[i] * act.derivative(output: out[i]) }
}

/// c (m, n; row stride ldc) = [c +] a·wᵀ [+ bias], with a (m, k; stride lda) and w (n, k; stride ldw).
/// A nil `a` stands for zeros: only the bias is added.
@_specialize(where S == Float)
@_specialize(where S == Double)
func affineForward<S: TensorScalar>(rows m: Int, inFeatures k: Int, outFeatures n: Int,
                                    a: UnsafePointer<S>?, lda: Int, w: UnsafePointer<S>, ldw: Int, bias: UnsafePointer<S>?,
                                    c: UnsafeMutablePointer<S>, ldc: Int, accumulate: Bool) {
    if !accumulate {
        for r in 0..<m { (c + r * ldc).update(repeating: 0, count: n) }
    }
    if let a, k > 0 {
        S.gemm(transA: false, transB: true, m: m, n: n, k: k, alpha: 1, a: a, lda: lda, b: w, ldb: ldw,
               beta: 1, c: c, ldc: ldc)
    }
    if let bias {
        for r in 0..<m {
            let row = c + r * ldc
            for j in 0..<n { row[j] += bias[j] }
        }
    }
}

/// Backward of `affineForward`, accumulating: given dc = ∂L/∂c (m, n; stride ldd),
/// da (m, k) += dc·w,  dw (n, k) += dcᵀ·a,  dbias (n) += Σ_rows dc. Nil destinations are skipped;
/// a nil `a` (zeros) contributes no dw.
@_specialize(where S == Float)
@_specialize(where S == Double)
func affineBackward<S: TensorScalar>(rows m: Int, inFeatures k: Int, outFeatures n: Int,
                                     dc: UnsafePointer<S>, ldd: Int, a: UnsafePointer<S>?, lda: Int,
                                     w: UnsafePointer<S>, ldw: Int,
                                     da: UnsafeMutablePointer<S>?, ldda: Int,
                                     dw: UnsafeMutablePointer<S>?, lddw: Int, dbias: UnsafeMutablePointer<S>?) {
    if let da, k > 0, n > 0 {
        S.gemm(transA: false, transB: false, m: m, n: k, k: n, alpha: 1, a: dc, lda: ldd, b: w, ldb: ldw,
               beta: 1, c: da, ldc: ldda)
    }
    if let dw, let a, k > 0, m > 0 {
        S.gemm(transA: true, transB: false, m: n, n: k, k: m, alpha: 1, a: dc, lda: ldd, b: a, ldb: lda,
               beta: 1, c: dw, ldc: lddw)
    }
    if let dbias {
        for r in 0..<m {
            let row = dc + r * ldd
            for j in 0..<n { dbias[j] += row[j] }
        }
    }
}
