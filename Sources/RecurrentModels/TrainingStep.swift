import RecurrentNN
import RecurrentTensor

/// The update every trainer makes from one batch's loss: backward, global-norm clipping, optimizer step.
/// A NaN or infinite loss or gradient stops before the parameters are touched, so no non-finite value
/// reaches the model or a checkpoint.
/// - Returns: the loss value.
@discardableResult
func applyUpdate<O: Optimizer>(loss: Tensor<Float>, optimizer: O, clipNorm: Double, step: Int) throws -> Double where O.Scalar == Float {
    try applyMeasuredUpdate(loss: loss, optimizer: optimizer, clipNorm: clipNorm, step: step).loss
}

/// What one update did, for trainers that log gradient norms and clipping.
struct UpdateOutcome {
    let loss: Double
    /// The global gradient norm before clipping.
    let gradientNorm: Double
    /// Whether clipping scaled the gradients down (`clip_grad_norm_`'s coefficient was below 1).
    let clipped: Bool
}

/// `applyUpdate`, also reporting the gradient norm and whether clipping fired. `clipNorm` nil: no clipping.
func applyMeasuredUpdate<O: Optimizer>(loss: Tensor<Float>, optimizer: O, clipNorm: Double?, step: Int) throws -> UpdateOutcome where O.Scalar == Float {
    let value = Double(loss.item)
    guard value.isFinite else { throw TrainingError.nonFiniteLoss(step: step) }
    loss.backward()
    let maxNorm = clipNorm ?? .infinity
    let norm = Double(clipGradNorm(optimizer.parameters, maxNorm: Float(maxNorm)))
    guard norm.isFinite else { throw TrainingError.nonFiniteGradient(step: step) }
    optimizer.step()
    return UpdateOutcome(loss: value, gradientNorm: norm, clipped: maxNorm / (norm + 1e-6) < 1)
}
