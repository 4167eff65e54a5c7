import RecurrentTensor

// Elementwise losses between a prediction and a target of the same shape: MSE, L1, Huber.
// Each item is one element; both inputs receive gradients (the target's is the negative).

/// Shared forward: per-element loss and its derivative with respect to d = input − target.
func elementwiseLoss<Scalar: TensorScalar>(
    _ name: String, _ input: Tensor<Scalar>, _ target: Tensor<Scalar>, reduction: Reduction,
    _ f: (Scalar) -> (loss: Scalar, derivative: Scalar)
) -> Tensor<Scalar> {
    checkShapes(name, input.shape, target.shape, input.shape == target.shape)
    var items = [Scalar](repeating: 0, count: input.count)
    let dInput = Tensor<Scalar>(zeros: input.shape), dTarget = Tensor<Scalar>(zeros: input.shape)
    for i in 0..<input.count {
        let (l, d) = f(input.data[i] - target.data[i])
        items[i] = l
        dInput.data[i] = d
        dTarget.data[i] = -d
    }
    return lossNode(name, inputs: [input, target], items: items, itemShape: input.shape, divisor: Scalar(input.count),
                    localGradients: [dInput, dTarget], reduction: reduction)
}

/// Mean squared error, PyTorch's `F.mse_loss`: (input − target)².
public func mseLoss<Scalar: TensorScalar>(_ input: Tensor<Scalar>, _ target: Tensor<Scalar>, reduction: Reduction = .mean) -> Tensor<Scalar> {
    elementwiseLoss("mseLoss", input, target, reduction: reduction) { d in (d * d, 2 * d) }
}

/// Mean absolute error, PyTorch's `F.l1_loss`: |input − target| (gradient 0 at 0, as PyTorch's sign).
public func l1Loss<Scalar: TensorScalar>(_ input: Tensor<Scalar>, _ target: Tensor<Scalar>, reduction: Reduction = .mean) -> Tensor<Scalar> {
    elementwiseLoss("l1Loss", input, target, reduction: reduction) { d in (Swift.abs(d), d > 0 ? 1 : (d < 0 ? -1 : 0)) }
}

/// Huber loss, PyTorch's `F.huber_loss`: ½d² where |d| < δ, else δ(|d| − ½δ).
public func huberLoss<Scalar: TensorScalar>(_ input: Tensor<Scalar>, _ target: Tensor<Scalar>, delta: Scalar = 1, reduction: Reduction = .mean) -> Tensor<Scalar> {
    precondition(delta > 0, "huberLoss: delta must be positive")
    return elementwiseLoss("huberLoss", input, target, reduction: reduction) { d in
        Swift.abs(d) < delta ? (d * d / 2, d) : (delta * (Swift.abs(d) - delta / 2), d > 0 ? delta : -delta)
    }
}
