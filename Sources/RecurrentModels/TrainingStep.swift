import RecurrentNN
import RecurrentTensor

/// The update every trainer makes from one batch's loss: backward, clipping (element-wise to
/// ±`clipValue` when it is positive, then the global norm to `clipNorm` when it is positive),
/// optimizer step. A NaN or infinite loss or gradient stops before the parameters are touched, so no
/// non-finite value reaches the model or a checkpoint.
/// - Returns: the loss value.
@discardableResult
func applyUpdate<O: Optimizer>(loss: Tensor<Float>, optimizer: O, clipNorm: Double, clipValue: Double = 0, step: Int) throws -> Double where O.Scalar == Float {
    let value = Double(loss.item)
    guard value.isFinite else { throw TrainingError.nonFiniteLoss(step: step) }
    loss.backward()
    if clipValue > 0 {
        // Measured before clamping, so that a non-finite gradient is seen even where the clamp would hide it.
        guard clipGradNorm(optimizer.parameters, maxNorm: Float.infinity).isFinite else { throw TrainingError.nonFiniteGradient(step: step) }
        clipGradValue(optimizer.parameters, clipValue: Float(clipValue))
        if clipNorm > 0 { clipGradNorm(optimizer.parameters, maxNorm: Float(clipNorm)) }
    } else {
        let norm = clipGradNorm(optimizer.parameters, maxNorm: clipNorm > 0 ? Float(clipNorm) : .infinity)
        guard norm.isFinite else { throw TrainingError.nonFiniteGradient(step: step) }
    }
    optimizer.step()
    return value
}
