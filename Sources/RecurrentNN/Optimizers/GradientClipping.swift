import RecurrentTensor

/// Scales all gradients together so their global norm is at most `maxNorm`, PyTorch's
/// `clip_grad_norm_`: coefficient maxNorm / (total + 1e-6), applied only when below 1.
/// - Parameter normType: 2 (Euclidean) or `.infinity` (largest magnitude).
/// - Returns: the total norm before clipping (NaN or infinity when a gradient is not finite).
@discardableResult
@_specialize(where Scalar == Float)
public func clipGradNorm<Scalar: TensorScalar>(_ parameters: [Tensor<Scalar>], maxNorm: Scalar, normType: Scalar = 2) -> Scalar {
    let grads = parameters.compactMap(\.grad)
    var total: Double = 0
    for g in grads {
        for i in 0..<g.count {
            let x = Double(Swift.abs(g.data[i]))
            if normType == .infinity { total = x.isNaN || total.isNaN ? .nan : Swift.max(total, x) } else if normType == 2 { total += x * x } else { total += Double.pow(x, Double(normType)) }
        }
    }
    if normType != .infinity { total = Double.pow(total, 1 / Double(normType)) }
    let coefficient = Double(maxNorm) / (total + 1e-6)
    // `!(c >= 1)` rather than `c < 1`: a NaN norm makes every gradient NaN, as in PyTorch, so the
    // non-finite step is visible to the caller instead of half-applied.
    if !(coefficient >= 1) {
        let c = Scalar(coefficient)
        for g in grads { for i in 0..<g.count { g.data[i] *= c } }
    }
    return Scalar(total)
}

/// Clamps every gradient element to [−clipValue, clipValue], PyTorch's `clip_grad_value_`.
public func clipGradValue<Scalar: TensorScalar>(_ parameters: [Tensor<Scalar>], clipValue: Scalar) {
    precondition(clipValue >= 0, "clipGradValue: clipValue must not be negative")
    for g in parameters.compactMap(\.grad) {
        for i in 0..<g.count { g.data[i] = Swift.min(Swift.max(g.data[i], -clipValue), clipValue) }
    }
}
