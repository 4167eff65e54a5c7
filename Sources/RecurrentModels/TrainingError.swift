// Shared by the models (resume checks, memory estimates) and RecurrentTraining, which sits above them.

/// Training stopped for a reason the caller can act on. The messages name no command-line flag: the
/// command line adds its own words.
public enum TrainingError: Error, CustomStringConvertible, Equatable {
    /// The loss was NaN or infinite at this step.
    case nonFiniteLoss(step: Int)
    /// A gradient held NaN or infinity at this step.
    case nonFiniteGradient(step: Int)
    /// The run folder cannot be continued (no last checkpoint, another model or data set, an unreadable state).
    case cannotResume(String)
    /// An option is out of range (from the command line, a file or code).
    case badOptions(String)
    /// The processes of a data-parallel run do not run the same job (data, options, vocabulary or build differ).
    case replicasDisagree(String)

    public var description: String {
        switch self {
        case let .nonFiniteLoss(step):
            "the loss became NaN or infinite at step \(step); the last good checkpoint is kept. Try a lower learning rate or gradient-norm clipping."
        case let .nonFiniteGradient(step):
            "the gradients became NaN or infinite at step \(step); the parameters were not updated and the last good checkpoint is kept. Try a lower learning rate or gradient-norm clipping."
        case let .cannotResume(reason):
            "cannot resume: \(reason)"
        case let .badOptions(reason):
            "bad training options: \(reason)"
        case let .replicasDisagree(reason):
            "the processes of this run disagree: \(reason)"
        }
    }
}
