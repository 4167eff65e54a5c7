// Pointwise nonlinearities: tanh, sigmoid, relu, exp, log. Each backward uses the saved output
// where the derivative is cheaper from it (tanh′ = 1 − y², σ′ = y(1 − y), exp′ = y).

extension Tensor {
    /// Element-wise hyperbolic tangent; the backward multiplies by 1 − y².
    @_specialize(where Scalar == Float)
    public func tanh() -> Tensor {
        let out = map { Scalar.tanh($0) }
        return Tensor.record("tanh", inputs: [self], output: out) { [out = out.detached()] g in
            [Tensor.broadcastMap("tanhBackward", g, out, { gi, y in gi * (1 - y * y) })]
        }
    }

    /// Element-wise logistic sigmoid 1 / (1 + e⁻ˣ); the backward multiplies by y (1 − y).
    @_specialize(where Scalar == Float)
    public func sigmoid() -> Tensor {
        let out = map { Scalar.sigmoid($0) }
        return Tensor.record("sigmoid", inputs: [self], output: out) { [out = out.detached()] g in
            [Tensor.broadcastMap("sigmoidBackward", g, out, { gi, y in gi * y * (1 - y) })]
        }
    }

    /// Element-wise max(x, 0); the backward passes the gradient where x > 0.
    @_specialize(where Scalar == Float)
    public func relu() -> Tensor {
        let out = map { Swift.max($0, 0) }
        return Tensor.record("relu", inputs: [self], output: out) { [out = out.detached()] g in
            [Tensor.broadcastMap("reluBackward", g, out, { gi, y in y > 0 ? gi : 0 })]
        }
    }

    /// Element-wise eˣ; the backward multiplies by y.
    @_specialize(where Scalar == Float)
    public func exp() -> Tensor {
        let out = map { Scalar.exp($0) }
        return Tensor.record("exp", inputs: [self], output: out) { [out = out.detached()] g in
            [Tensor.broadcastMap("expBackward", g, out, *)]
        }
    }

    /// Element-wise natural logarithm; the backward divides by x.
    @_specialize(where Scalar == Float)
    public func log() -> Tensor {
        let out = map { Scalar.log($0) }
        return Tensor.record("log", inputs: [self], output: out) { [self] g in
            [Tensor.broadcastMap("logBackward", g, self, /)]
        }
    }
}
