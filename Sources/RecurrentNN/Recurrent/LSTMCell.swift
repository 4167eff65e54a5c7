import RecurrentTensor

/// LSTM cell, as PyTorch's `LSTMCell` (gate order i, f, g, o):
///
///     (i, f, g, o) = (σ, σ, tanh, σ)(x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh)
///     c′ = f ⊙ c + i ⊙ g,    h′ = o ⊙ tanh(c′)
///
/// Parameters: weight_ih (4H, I), weight_hh (4H, H), bias_ih (4H), bias_hh (4H). One autograd node
/// per step with two outputs (h′, c′). Its state is an `LSTMState`, as the `LSTM` layer's.
public final class LSTMCell<Scalar: TensorScalar>: RNNCellBase<Scalar>, RecurrentCell {
    /// - Parameters:
    ///   - inputSize: features I of x.
    ///   - hiddenSize: features H of h and c.
    ///   - bias: whether bias_ih and bias_hh exist.
    ///   - generator: source of the U(−1/√H, 1/√H) initial values, shared with the modules built after this one.
    public init(inputSize: Int, hiddenSize: Int, bias: Bool = true, generator: inout RandomGenerator) {
        super.init(gateCount: 4, inputSize: inputSize, hiddenSize: hiddenSize, bias: bias, generator: &generator)
    }

    /// PyTorch's default initialisation, U(−1/√H, 1/√H), from a generator seeded with `seed`.
    public convenience init(inputSize: Int, hiddenSize: Int, bias: Bool = true, seed: UInt64 = 0) {
        var generator = RandomGenerator(seed: seed)
        self.init(inputSize: inputSize, hiddenSize: hiddenSize, bias: bias, generator: &generator)
    }

    public func output(of state: LSTMState<Scalar>) -> Tensor<Scalar> { state.h }

    /// One step.
    /// - Parameters:
    ///   - x: (B, I)
    ///   - state: h and c, each (B, H); nil for zeros.
    /// - Returns: h′ and c′, each (B, H)
    public func callAsFunction(_ x: Tensor<Scalar>, state: LSTMState<Scalar>? = nil) -> LSTMState<Scalar> {
        let b = checkStep(x, [state?.h, state?.c], "LSTMCell")
        let hn = hiddenSize
        let gates = Tensor<Scalar>(zeros: [b, 4 * hn])            // (B, 4H): pre-activations, then i, f, g, o
        projectInput(x, into: gates.data)
        projectHidden(state?.h, rows: b, into: gates.data, accumulate: true)
        let hOut = Tensor<Scalar>(zeros: [b, hn]), cOut = Tensor<Scalar>(zeros: [b, hn])
        let tanhC = Tensor<Scalar>(zeros: [b, hn])                // (B, H) tanh(c′), saved for backward
        lstmCellForward(gates.data, state?.c.data, hOut.data, cOut.data, tanhC.data, batch: b, hidden: hn)

        let stateInputs = state.map { [$0.h, $0.c] } ?? []
        let outputs = Tensor.record("LSTMCell", inputs: [x] + stateInputs + parameterInputs, outputs: [hOut, cOut]) { [self] grads in
            let dGates = Tensor<Scalar>(zeros: [b, 4 * hn])      // (B, 4H) = ∂L/∂(pre-activations)
            let dc = stateGradient(state?.c), dh = stateGradient(state?.h)
            lstmCellBackward(dh: grads[0]?.data, dc: grads[1]?.data, gates: gates.data, c: state?.c.data, tanhC: tanhC.data,
                             dGates: dGates.data, dcPrev: dc?.data, batch: b, hidden: hn)
            let p = projectionGradients(x: x, h: state?.h, dGi: dGates.data, dGh: dGates.data, dh: dh)
            return [p.x] + (state == nil ? [] : [dh, dc]) + p.parameters
        }
        return LSTMState(h: outputs[0], c: outputs[1])
    }
}

// MARK: kernels

/// In place on `gates` (B, 4H): pre-activations → activated i, f, g, o; writes h′, c′ and tanh(c′).
/// A nil `c` stands for zeros.
@_specialize(where S == Float)
@_specialize(where S == Double)
func lstmCellForward<S: TensorScalar>(_ gates: UnsafeMutablePointer<S>, _ c: UnsafePointer<S>?,
                                      _ hOut: UnsafeMutablePointer<S>, _ cOut: UnsafeMutablePointer<S>,
                                      _ tanhC: UnsafeMutablePointer<S>, batch: Int, hidden h: Int) {
    for r in 0..<batch {
        let gr = gates + r * 4 * h, o = r * h
        for j in 0..<h {
            let i = S.sigmoid(gr[j]), f = S.sigmoid(gr[h + j]), g = S.tanh(gr[2 * h + j]), og = S.sigmoid(gr[3 * h + j])
            gr[j] = i; gr[h + j] = f; gr[2 * h + j] = g; gr[3 * h + j] = og
            let cNew = f * (c?[o + j] ?? 0) + i * g
            let t = S.tanh(cNew)
            cOut[o + j] = cNew
            tanhC[o + j] = t
            hOut[o + j] = og * t
        }
    }
}

/// From ∂L/∂h′ and ∂L/∂c′ (either nil for zero) to ∂L/∂(pre-activations) (B, 4H) and ∂L/∂c (if asked).
@_specialize(where S == Float)
@_specialize(where S == Double)
func lstmCellBackward<S: TensorScalar>(dh: UnsafePointer<S>?, dc: UnsafePointer<S>?, gates: UnsafePointer<S>,
                                       c: UnsafePointer<S>?, tanhC: UnsafePointer<S>,
                                       dGates: UnsafeMutablePointer<S>, dcPrev: UnsafeMutablePointer<S>?,
                                       batch: Int, hidden h: Int) {
    for r in 0..<batch {
        let gr = gates + r * 4 * h, dg = dGates + r * 4 * h, o = r * h
        for j in 0..<h {
            let i = gr[j], f = gr[h + j], g = gr[2 * h + j], og = gr[3 * h + j], t = tanhC[o + j]
            let dhv = dh?[o + j] ?? 0
            let dcv = (dc?[o + j] ?? 0) + dhv * og * (1 - t * t)    // total ∂L/∂c′
            dg[j] = dcv * g * i * (1 - i)
            dg[h + j] = dcv * (c?[o + j] ?? 0) * f * (1 - f)
            dg[2 * h + j] = dcv * i * (1 - g * g)
            dg[3 * h + j] = dhv * t * og * (1 - og)
            dcPrev?[o + j] = dcv * f
        }
    }
}
