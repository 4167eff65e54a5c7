import RecurrentTensor

// Single-step cells, composed from autograd ops so they work in any hand-written loop (a decoder
// stepping one token at a time). Parameter names and shapes as PyTorch's RNNCell/LSTMCell/GRUCell:
// weight_ih (G·H, I), weight_hh (G·H, H), bias_ih (G·H), bias_hh (G·H); init U(−1/√H, 1/√H).
// The fused sequence layers compute the same recurrences; tests check that they agree.

/// Shared parameters of a cell with G gate blocks.
open class RecurrentCell<Scalar: TensorScalar>: Module<Scalar> {
    public let inputSize: Int, hiddenSize: Int
    public let weightIH: Tensor<Scalar>, weightHH: Tensor<Scalar>
    public let biasIH: Tensor<Scalar>?, biasHH: Tensor<Scalar>?

    init(gates: Int, inputSize: Int, hiddenSize: Int, bias: Bool, generator: inout RandomGenerator) {
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        let bound = 1 / Scalar(hiddenSize).squareRoot()
        func make(_ shape: [Int]) -> Tensor<Scalar> { .uniform(shape, low: -bound, high: bound, generator: &generator) }
        weightIH = make([gates * hiddenSize, inputSize])
        weightHH = make([gates * hiddenSize, hiddenSize])
        biasIH = bias ? make([gates * hiddenSize]) : nil
        biasHH = bias ? make([gates * hiddenSize]) : nil
        super.init()
        registerParameter("weight_ih", weightIH)
        registerParameter("weight_hh", weightHH)
        if let biasIH, let biasHH { registerParameter("bias_ih", biasIH); registerParameter("bias_hh", biasHH) }
    }

    /// x·W_ihᵀ + b_ih: (B, I) → (B, G·H)
    func inputProjection(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        let p = x.matmul(weightIH, transposeOther: true)
        return biasIH.map { p + $0 } ?? p
    }

    /// h·W_hhᵀ + b_hh: (B, H) → (B, G·H)
    func hiddenProjection(_ h: Tensor<Scalar>) -> Tensor<Scalar> {
        let p = h.matmul(weightHH, transposeOther: true)
        return biasHH.map { p + $0 } ?? p
    }

    func zeroState(_ x: Tensor<Scalar>) -> Tensor<Scalar> { .zeros([x.shape[0], hiddenSize]) }

    /// Gate block k of a (B, G·H) tensor: (B, H).
    func block(_ t: Tensor<Scalar>, _ k: Int) -> Tensor<Scalar> { t.slice(axis: 1, k * hiddenSize..<((k + 1) * hiddenSize)) }
}

/// Elman cell: h' = act(W_ih x + b_ih + W_hh h + b_hh).
public final class RNNCell<Scalar: TensorScalar>: RecurrentCell<Scalar> {
    public let nonlinearity: Nonlinearity

    public init(inputSize: Int, hiddenSize: Int, bias: Bool = true, nonlinearity: Nonlinearity = .tanh, generator: inout RandomGenerator) {
        self.nonlinearity = nonlinearity
        super.init(gates: 1, inputSize: inputSize, hiddenSize: hiddenSize, bias: bias, generator: &generator)
    }

    /// - Parameters: x (B, I), h (B, H) or nil for zeros. - Returns: h' (B, H)
    public func callAsFunction(_ x: Tensor<Scalar>, _ h: Tensor<Scalar>? = nil) -> Tensor<Scalar> {
        let pre = inputProjection(x) + hiddenProjection(h ?? zeroState(x))
        return nonlinearity == .tanh ? pre.tanh() : pre.relu()
    }
}

/// LSTM cell, gates i, f, g, o: c' = f ⊙ c + i ⊙ g, h' = o ⊙ tanh(c').
public final class LSTMCell<Scalar: TensorScalar>: RecurrentCell<Scalar> {
    public init(inputSize: Int, hiddenSize: Int, bias: Bool = true, generator: inout RandomGenerator) {
        super.init(gates: 4, inputSize: inputSize, hiddenSize: hiddenSize, bias: bias, generator: &generator)
    }

    /// - Parameters: x (B, I), state (h, c) each (B, H), nil for zeros. - Returns: (h', c')
    public func callAsFunction(_ x: Tensor<Scalar>, _ state: (h: Tensor<Scalar>, c: Tensor<Scalar>)? = nil) -> (h: Tensor<Scalar>, c: Tensor<Scalar>) {
        let (h, c) = state ?? (zeroState(x), zeroState(x))
        let gates = inputProjection(x) + hiddenProjection(h)        // (B, 4H)
        let i = block(gates, 0).sigmoid(), f = block(gates, 1).sigmoid()
        let g = block(gates, 2).tanh(), o = block(gates, 3).sigmoid()
        let cNext = f * c + i * g
        return (o * cNext.tanh(), cNext)
    }
}

/// GRU cell, gates r, z, n. With `resetAfter` (PyTorch): n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn));
/// without (the original paper): n = tanh(W_in x + b_in + W_hn (r ⊙ h) + b_hn). h' = (1 − z) ⊙ n + z ⊙ h.
public final class GRUCell<Scalar: TensorScalar>: RecurrentCell<Scalar> {
    public let resetAfter: Bool

    public init(inputSize: Int, hiddenSize: Int, bias: Bool = true, resetAfter: Bool = true, generator: inout RandomGenerator) {
        self.resetAfter = resetAfter
        super.init(gates: 3, inputSize: inputSize, hiddenSize: hiddenSize, bias: bias, generator: &generator)
    }

    /// - Parameters: x (B, I), h (B, H) or nil for zeros. - Returns: h' (B, H)
    public func callAsFunction(_ x: Tensor<Scalar>, _ h: Tensor<Scalar>? = nil) -> Tensor<Scalar> {
        let h = h ?? zeroState(x)
        let xg = inputProjection(x)                                   // (B, 3H)
        let hg = hiddenProjection(h)                                  // (B, 3H)
        let r = (block(xg, 0) + block(hg, 0)).sigmoid()
        let z = (block(xg, 1) + block(hg, 1)).sigmoid()
        let n: Tensor<Scalar>
        if resetAfter {
            n = (block(xg, 2) + r * block(hg, 2)).tanh()
        } else {
            let H = hiddenSize
            let wHn = weightHH.slice(axis: 0, 2 * H..<(3 * H))        // (H, H)
            var recurrent = (r * h).matmul(wHn, transposeOther: true)
            if let biasHH { recurrent = recurrent + biasHH.slice(axis: 0, 2 * H..<(3 * H)) }
            n = (block(xg, 2) + recurrent).tanh()
        }
        return (1 - z) * n + z * h
    }
}
