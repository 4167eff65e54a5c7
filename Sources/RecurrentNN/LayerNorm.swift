import RecurrentTensor

/// Layer normalisation over the last axis: y = (x − mean)/√(var + ε) · weight + bias, biased
/// variance as PyTorch. One fused node: forward saves the normalised x̂ and 1/σ per row.
public final class LayerNorm<Scalar: TensorScalar>: UnaryModule<Scalar> {
    /// The per-feature scale γ, (F), starting at 1.
    public let weight: Tensor<Scalar>
    /// The per-feature shift β, (F), starting at 0.
    public let bias: Tensor<Scalar>
    /// Added to the variance before the square root.
    public let epsilon: Scalar

    /// - Parameters:
    ///   - features: F, the width of the last axis (PyTorch's `normalized_shape`); weight starts at 1, bias at 0.
    ///   - epsilon: added to the variance.
    public init(features: Int, epsilon: Scalar = 1e-5) {
        weight = .ones([features])
        bias = .zeros([features])
        self.epsilon = epsilon
        super.init()
        registerParameter("weight", weight)
        registerParameter("bias", bias)
    }

    /// - Parameter x: (…, F) → (…, F)
    public override func forward(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        let f = weight.count
        checkShapes("LayerNorm", x.shape, weight.shape, x.shape.last == f)
        let rows = x.count / f
        let xhat = Tensor<Scalar>(zeros: x.shape), out = Tensor<Scalar>(zeros: x.shape)
        var invStd = [Scalar](repeating: 0, count: rows)
        let w = weight.data, b = bias.data
        for r in 0..<rows {
            let src = x.data + r * f, h = xhat.data + r * f, y = out.data + r * f
            var mean: Scalar = 0
            for j in 0..<f { mean += src[j] }
            mean /= Scalar(f)
            var variance: Scalar = 0
            for j in 0..<f { variance += (src[j] - mean) * (src[j] - mean) }
            let s = 1 / (variance / Scalar(f) + epsilon).squareRoot()
            invStd[r] = s
            for j in 0..<f { h[j] = (src[j] - mean) * s; y[j] = h[j] * w[j] + b[j] }
        }
        return Tensor.record("layerNorm", inputs: [x, weight, bias], output: out) { [weight] g in
            let gx = Tensor<Scalar>(zeros: x.shape), gw = Tensor<Scalar>(zeros: [f]), gb = Tensor<Scalar>(zeros: [f])
            let w = weight.data
            for r in 0..<rows {
                let gy = g.data + r * f, h = xhat.data + r * f, dx = gx.data + r * f
                // dx̂ = gy ⊙ w;  dx = (dx̂ − mean(dx̂) − x̂ · mean(dx̂ ⊙ x̂)) / σ
                var meanG: Scalar = 0, meanGH: Scalar = 0
                for j in 0..<f {
                    let dh = gy[j] * w[j]
                    meanG += dh; meanGH += dh * h[j]
                    gw.data[j] += gy[j] * h[j]; gb.data[j] += gy[j]
                }
                meanG /= Scalar(f); meanGH /= Scalar(f)
                for j in 0..<f { dx[j] = (gy[j] * w[j] - meanG - h[j] * meanGH) * invStd[r] }
            }
            return [gx, gw, gb]
        }
    }
}
