import RecurrentTensor

/// How per-item losses become the returned tensor (PyTorch's `reduction`).
public enum Reduction: String, Sendable, CaseIterable {
    /// Mean over the items that count (for cross-entropy: those not ignored).
    case mean
    /// Sum over the items that count.
    case sum
    /// One loss per item, shaped like the items.
    case none
}

/// Builds a loss as one autograd node from per-item losses and their local derivatives.
///
/// Every loss in this folder computes, in its forward, each item's loss and the derivative of that
/// item's loss with respect to each input (laid out like the input: item k owns `input.count / items`
/// consecutive elements). The backward then only scales those derivatives by the upstream gradient.
/// - Parameters:
///   - items: per-item losses, row-major over `itemShape`.
///   - divisor: what `.mean` divides by.
///   - localGradients: for each input, ∂item/∂input (nil where the input needs no gradient).
func lossNode<Scalar: TensorScalar>(
    _ name: String, inputs: [Tensor<Scalar>], items: [Scalar], itemShape: [Int], divisor: Scalar,
    localGradients: [Tensor<Scalar>?], reduction: Reduction
) -> Tensor<Scalar> {
    let output: Tensor<Scalar>
    switch reduction {
    case .none: output = Tensor(items, shape: itemShape)
    case .sum: output = Tensor(scalar: items.reduce(0, +))
    case .mean: output = Tensor(scalar: items.reduce(0, +) / divisor)
    }
    return Tensor.record(name, inputs: inputs, output: output) { g in
        localGradients.map { local -> Tensor<Scalar>? in
            guard let local else { return nil }
            let result = local.clone()
            let width = items.isEmpty ? 0 : local.count / items.count
            let r = result.data
            for k in 0..<items.count {
                let scale: Scalar = switch reduction {
                case .none: g.data[k]
                case .sum: g.data[0]
                case .mean: g.data[0] / divisor
                }
                for j in 0..<width { r[k * width + j] *= scale }
            }
            return result
        }
    }
}
