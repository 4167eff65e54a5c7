import RecurrentNN
import RecurrentTensor

/// The update every trainer makes from one batch's loss: backward, global-norm clipping, optimizer step.
/// A NaN or infinite loss or gradient stops before the parameters are touched, so no non-finite value
/// reaches the model or a checkpoint.
/// - Returns: the loss value.
@discardableResult
func applyUpdate<O: Optimizer>(loss: Tensor<Float>, optimizer: O, clipNorm: Double, step: Int) throws -> Double where O.Scalar == Float {
    let value = Double(loss.item)
    guard value.isFinite else { throw TrainingError.nonFiniteLoss(step: step) }
    loss.backward()
    guard clipGradNorm(optimizer.parameters, maxNorm: Float(clipNorm)).isFinite else { throw TrainingError.nonFiniteGradient(step: step) }
    optimizer.step()
    return value
}
