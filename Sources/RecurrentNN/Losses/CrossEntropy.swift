import RecurrentTensor

/// Cross-entropy from logits with a fused log-softmax, PyTorch's `F.cross_entropy`.
///
/// loss_i = (1 − ε)·(−log p_i[y_i]) + (ε / C)·Σ_c −log p_i[c], with p = softmax(logits_i).
/// Items whose target is `ignoreIndex` (padding) contribute nothing and are not counted by `.mean`.
/// - Parameters:
///   - logits: (…, C)
///   - targets: one class id per row of `logits` (the product of the leading dimensions), in 0..<C or `ignoreIndex`.
///   - labelSmoothing: ε in [0, 1].
/// - Returns: a scalar, or the leading shape for `.none`.
@_specialize(where Scalar == Float)
public func crossEntropy<Scalar: TensorScalar>(
    _ logits: Tensor<Scalar>, targets: [Int], ignoreIndex: Int? = nil, labelSmoothing: Scalar = 0, reduction: Reduction = .mean
) -> Tensor<Scalar> {
    let C = logits.shape.last ?? 0, N = logits.count / Swift.max(C, 1)
    precondition(targets.count == N, "crossEntropy: \(targets.count) targets for logits of shape \(logits.shape)")
    precondition(labelSmoothing >= 0 && labelSmoothing <= 1, "crossEntropy: label smoothing must be in [0, 1]")
    var items = [Scalar](repeating: 0, count: N)
    let grad = Tensor<Scalar>(zeros: logits.shape)       // (N, C) ∂item/∂logits = p − (1 − ε)·onehot − ε/C
    var counted = 0
    let x = logits.data, dx = grad.data
    let smooth = labelSmoothing / Scalar(C)
    for i in 0..<N {
        let y = targets[i]
        if y == ignoreIndex { continue }
        precondition(y >= 0 && y < C, "crossEntropy: target \(y) outside 0..<\(C)")
        counted += 1
        let row = x + i * C, drow = dx + i * C
        var m = row[0]
        for c in 1..<C where row[c] > m { m = row[c] }
        var sum: Scalar = 0
        for c in 0..<C { sum += Scalar.exp(row[c] - m) }
        let logZ = m + Scalar.log(sum)
        var nll = logZ - row[y], mean: Scalar = 0
        for c in 0..<C {
            mean += logZ - row[c]
            drow[c] = Scalar.exp(row[c] - logZ) - smooth
        }
        drow[y] -= 1 - labelSmoothing
        if labelSmoothing > 0 { nll = (1 - labelSmoothing) * nll + smooth * mean }
        items[i] = nll
    }
    return lossNode("crossEntropy", inputs: [logits], items: items, itemShape: Array(logits.shape.dropLast()),
                    divisor: Scalar(counted), localGradients: [grad], reduction: reduction)
}

/// Negative log-likelihood of log-probabilities, PyTorch's `F.nll_loss`: loss_i = −logProbs_i[y_i].
/// - Parameters:
///   - logProbs: (…, C), typically from `logSoftmax`.
///   - targets: one class id per row, in 0..<C or `ignoreIndex`.
public func nllLoss<Scalar: TensorScalar>(
    _ logProbs: Tensor<Scalar>, targets: [Int], ignoreIndex: Int? = nil, reduction: Reduction = .mean
) -> Tensor<Scalar> {
    let C = logProbs.shape.last ?? 0, N = logProbs.count / Swift.max(C, 1)
    precondition(targets.count == N, "nllLoss: \(targets.count) targets for input of shape \(logProbs.shape)")
    var items = [Scalar](repeating: 0, count: N)
    let grad = Tensor<Scalar>(zeros: logProbs.shape)
    var counted = 0
    for (i, y) in targets.enumerated() where y != ignoreIndex {
        precondition(y >= 0 && y < C, "nllLoss: target \(y) outside 0..<\(C)")
        counted += 1
        items[i] = -logProbs.data[i * C + y]
        grad.data[i * C + y] = -1
    }
    return lossNode("nllLoss", inputs: [logProbs], items: items, itemShape: Array(logProbs.shape.dropLast()),
                    divisor: Scalar(counted), localGradients: [grad], reduction: reduction)
}
