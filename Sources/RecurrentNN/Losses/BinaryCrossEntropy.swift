import RecurrentTensor

/// Binary cross-entropy from logits, PyTorch's `F.binary_cross_entropy_with_logits`:
/// loss = −[w_pos·y·log σ(x) + (1 − y)·log(1 − σ(x))], computed with softplus so it stays finite
/// for any logit: log σ(x) = −softplus(−x), log(1 − σ(x)) = −softplus(x).
/// - Parameters:
///   - logits, targets: same shape; targets are probabilities in [0, 1].
///   - posWeight: weight of positive examples, broadcast over the last axis (C) when given.
public func bceWithLogits<Scalar: TensorScalar>(
    _ logits: Tensor<Scalar>, _ targets: Tensor<Scalar>, posWeight: Tensor<Scalar>? = nil, reduction: Reduction = .mean
) -> Tensor<Scalar> {
    checkShapes("bceWithLogits", logits.shape, targets.shape, logits.shape == targets.shape)
    if let w = posWeight { checkShapes("bceWithLogits posWeight", logits.shape, w.shape, w.count == 1 || w.count == logits.shape.last) }
    func softplus(_ x: Scalar) -> Scalar { Swift.max(x, 0) + Scalar.log1p(Scalar.exp(-Swift.abs(x))) }
    let n = logits.count, width = logits.shape.last ?? 1
    var items = [Scalar](repeating: 0, count: n)
    let dx = Tensor<Scalar>(zeros: logits.shape), dy = Tensor<Scalar>(zeros: logits.shape)
    for i in 0..<n {
        let x = logits.data[i], y = targets.data[i]
        let pw = posWeight.map { $0.count == 1 ? $0.data[0] : $0.data[i % width] } ?? 1
        let spNeg = softplus(-x), spPos = softplus(x)
        items[i] = pw * y * spNeg + (1 - y) * spPos
        let s = Scalar.sigmoid(x)
        dx.data[i] = -pw * y * (1 - s) + (1 - y) * s
        dy.data[i] = pw * spNeg - spPos
    }
    return lossNode("bceWithLogits", inputs: [logits, targets], items: items, itemShape: logits.shape, divisor: Scalar(n),
                    localGradients: [dx, dy], reduction: reduction)
}
