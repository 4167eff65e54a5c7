import RecurrentModels
import RecurrentNN
import RecurrentTensor

/// The update every trainer makes from one batch's loss: backward, clipping (element-wise to
/// ±`clipValue` when it is positive, then the global norm to `clipNorm` when it is positive),
/// optimizer step. A NaN or infinite loss or gradient stops before the parameters are touched, so no
/// non-finite value reaches the model or a checkpoint.
/// - Returns: the loss value.
@discardableResult
public func applyUpdate<O: Optimizer>(loss: Tensor<Float>, optimizer: O, clipNorm: Double, clipValue: Double = 0, step: Int) throws -> Double where O.Scalar == Float {
    try applyMeasuredUpdate(loss: loss, optimizer: optimizer, clipNorm: clipNorm, clipValue: clipValue, step: step).loss
}

/// What one update did, for trainers that log gradient norms and how often clipping fired.
public struct UpdateOutcome: Sendable {
    /// The batch's loss.
    public let loss: Double
    /// The global gradient norm before any clipping.
    public let gradientNorm: Double
    /// Whether clipping changed the gradients: an element beyond ±clipValue was clamped, or the global
    /// norm was above clipNorm so `clipGradNorm` scaled them down (its coefficient was below 1).
    public let clipped: Bool
}

/// `applyUpdate`, also reporting the gradient norm and whether clipping fired.
func applyMeasuredUpdate<O: Optimizer>(loss: Tensor<Float>, optimizer: O, clipNorm: Double, clipValue: Double = 0,
                                       step: Int) throws -> UpdateOutcome where O.Scalar == Float {
    try applyMeasuredUpdate(lossValue: Double(loss.item), backward: { loss.backward() }, optimizer: optimizer,
                            clipNorm: clipNorm, clipValue: clipValue, step: step)
}

/// The update from a loss value and a `backward` that leaves the gradients to apply in the parameters'
/// `grad` (a data-parallel run's backward also sums them over the replicas, whose loss values agree).
func applyMeasuredUpdate<O: Optimizer>(lossValue value: Double, backward: () throws -> Void, optimizer: O, clipNorm: Double,
                                       clipValue: Double = 0, step: Int) throws -> UpdateOutcome where O.Scalar == Float {
    guard value.isFinite else { throw TrainingError.nonFiniteLoss(step: step) }
    try backward()
    let parameters = optimizer.parameters
    let norm: Double
    var clipped = false
    if clipValue > 0 {
        // Measured before clamping, so that a non-finite gradient is seen even where the clamp would hide it.
        norm = Double(clipGradNorm(parameters, maxNorm: Float.infinity))
        guard norm.isFinite else { throw TrainingError.nonFiniteGradient(step: step) }
        clipped = Double(clipGradNorm(parameters, maxNorm: Float.infinity, normType: .infinity)) > clipValue
        clipGradValue(parameters, clipValue: Float(clipValue))
        if clipNorm > 0 {
            let clamped = Double(clipGradNorm(parameters, maxNorm: Float(clipNorm)))
            clipped = clipped || clipNorm / (clamped + 1e-6) < 1
        }
    } else {
        norm = Double(clipGradNorm(parameters, maxNorm: clipNorm > 0 ? Float(clipNorm) : .infinity))
        guard norm.isFinite else { throw TrainingError.nonFiniteGradient(step: step) }
        clipped = clipNorm > 0 && clipNorm / (norm + 1e-6) < 1
    }
    optimizer.step()
    return UpdateOutcome(loss: value, gradientNorm: norm, clipped: clipped)
}
