import RecurrentModels
import Foundation
import RecurrentNN
import RecurrentTensor

/// What a trainer does with a batch whose loss or gradients are NaN or infinite. Either way the
/// parameters and the optimizer state are not touched by that batch (see `applyUpdate`), so no
/// non-finite value reaches the model or a checkpoint.
public enum NonFinitePolicy: String, CaseIterable, Codable, Sendable {
    /// End the run with `TrainingError.nonFiniteLoss` / `.nonFiniteGradient` naming the step (the default).
    case stop
    /// Drop the batch (reported as `TrainingEvent.skippedBatch`) and go on; after
    /// `NonFiniteGuard.maxConsecutiveSkips` bad batches in a row the run stops anyway, as the problem is
    /// then not one odd batch.
    case skip
}

/// `applyUpdate` under a `NonFinitePolicy`, counting the batches it skipped.
struct NonFiniteGuard {
    static let maxConsecutiveSkips = 20
    var policy: NonFinitePolicy
    /// Steps whose batch was skipped.
    private(set) var skippedSteps: [Int] = []
    private var consecutive = 0

    init(policy: NonFinitePolicy) { self.policy = policy }

    /// Backward, clipping and optimizer step for one batch (`applyMeasuredUpdate`). Returns what the
    /// update did, or nil when the batch was skipped (`onSkip` is told why); throws when the policy (or a
    /// long run of bad batches) says stop.
    mutating func update<O: Optimizer>(loss: Tensor<Float>, optimizer: O, clipNorm: Double, clipValue: Double = 0, step: Int,
                                       onSkip: (TrainingError) -> Void) throws -> UpdateOutcome? where O.Scalar == Float {
        try update(lossValue: Double(loss.item), backward: { loss.backward() }, optimizer: optimizer, clipNorm: clipNorm,
                   clipValue: clipValue, step: step, onSkip: onSkip)
    }

    /// `update` from a loss value and a backward that leaves the gradients to apply (see `applyMeasuredUpdate`).
    mutating func update<O: Optimizer>(lossValue: Double, backward: () throws -> Void, optimizer: O, clipNorm: Double, clipValue: Double = 0,
                                       step: Int, onSkip: (TrainingError) -> Void) throws -> UpdateOutcome? where O.Scalar == Float {
        do {
            let outcome = try applyMeasuredUpdate(lossValue: lossValue, backward: backward, optimizer: optimizer, clipNorm: clipNorm,
                                                  clipValue: clipValue, step: step)
            consecutive = 0
            return outcome
        } catch let error as TrainingError {
            switch error {
            case .nonFiniteLoss, .nonFiniteGradient: break
            default: throw error
            }
            consecutive += 1
            guard policy == .skip, consecutive <= Self.maxConsecutiveSkips else { throw error }
            skippedSteps.append(step)
            optimizer.zeroGrad()   // whatever the backward left must not leak into the next step
            onSkip(error)
            return nil
        }
    }
}
