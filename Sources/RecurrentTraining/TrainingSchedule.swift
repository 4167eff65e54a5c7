import RecurrentModels
import RecurrentNN

/// How long a run trains and when it stops to evaluate: passes over a data set, or updates on freshly
/// drawn batches. Either can be cut short by `TrainingOptions.maxSteps` and `TrainingOptions.minutes`.
public enum TrainingSchedule: Equatable, Sendable {
    /// `count` passes over the training split, evaluating after each; `maxBatchesPerEpoch` (0: all)
    /// shortens every pass.
    case epochs(Int, maxBatchesPerEpoch: Int = 0)
    /// `count` updates, each on a freshly drawn batch, evaluating every `evaluateEvery` updates and after the last.
    case steps(Int, evaluateEvery: Int)

    /// Updates in the whole run, before `maxSteps` (epochs × batches per epoch, or the step count).
    func totalSteps(batchesPerEpoch: Int?) -> Int {
        switch self {
        case let .epochs(count, cap): count * (cap > 0 ? min(cap, batchesPerEpoch ?? 0) : (batchesPerEpoch ?? 0))
        case let .steps(count, _): count
        }
    }

    func validate() throws {
        switch self {
        case let .epochs(count, cap):
            guard count > 0, cap >= 0 else { throw TrainingError.badOptions("epochs must be positive, got \(count)") }
        case let .steps(count, every):
            guard count > 0, every > 0 else { throw TrainingError.badOptions("steps and the evaluation interval must be positive, got \(count) and \(every)") }
        }
    }
}

extension TrainingSchedule: Codable {
    private enum CodingKeys: String, CodingKey { case epochs, maxBatchesPerEpoch, steps, evaluateEvery }

    public init(from decoder: Swift.Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if let epochs = try c.decodeIfPresent(Int.self, forKey: .epochs) {
            self = .epochs(epochs, maxBatchesPerEpoch: try c.decodeIfPresent(Int.self, forKey: .maxBatchesPerEpoch) ?? 0)
        } else {
            self = .steps(try c.decode(Int.self, forKey: .steps), evaluateEvery: try c.decode(Int.self, forKey: .evaluateEvery))
        }
    }

    public func encode(to encoder: Swift.Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case let .epochs(count, cap):
            try c.encode(count, forKey: .epochs)
            try c.encode(cap, forKey: .maxBatchesPerEpoch)
        case let .steps(count, every):
            try c.encode(count, forKey: .steps)
            try c.encode(every, forKey: .evaluateEvery)
        }
    }
}

/// How the learning rate moves over a run.
public enum LearningRateScheduleKind: String, Codable, CaseIterable, Sendable {
    /// The base rate throughout.
    case constant
    /// From the base rate down to 0 over the run's updates (PyTorch's CosineAnnealingLR with T_max = the run's steps).
    case cosine
    /// The base rate, halved each time `plateauEvaluations` evaluations in a row do not improve the
    /// validation score (PyTorch's ReduceLROnPlateau, mode "max", factor 0.5, patience 1, cooldown 0).
    /// The rate follows from the run's evaluations alone, so a resumed run continues it exactly.
    case plateau

    /// Evaluations in a row without improvement that halve the rate under `.plateau`.
    public static let plateauEvaluations = 2

    /// The rate of update `step` (1-based) of `totalSteps`.
    func rate(base: Double, step: Int, totalSteps: Int) -> Double {
        switch self {
        case .constant: base
        case .cosine: CosineSchedule(base: base, tMax: totalSteps).learningRate(at: step - 1)
        case .plateau: base   // the trainer scales it by its evaluations (`Trainer.plateauFactor`)
        }
    }
}

/// What every task's training shares: the schedule, the batch, the update rule and its limits.
/// Each task has its own defaults (`TrainingTask.defaultOptions`); the task's own settings live beside these.
public struct TrainingOptions: Codable, Equatable, Sendable {
    /// Epochs or steps, and how often to evaluate.
    public var schedule: TrainingSchedule
    /// Examples (sentences, windows, streams…) per batch.
    public var batch: Int
    /// The base learning rate.
    public var learningRate: Double
    /// How the learning rate changes over the run.
    public var learningRateSchedule = LearningRateScheduleKind.constant
    /// Global-norm clipping threshold (0: off).
    public var clipNorm: Double
    /// Optimizer, momentum, weight decay and element-wise clipping.
    public var update = UpdateRule()
    /// What a batch with a NaN or infinite loss or gradient does.
    public var onNonFinite = NonFinitePolicy.stop
    /// Stop after this many updates in all (0: no limit). With an epoch schedule the epoch cut short is still
    /// evaluated and checkpointed as completed, and a resumed run goes on with the next epoch.
    public var maxSteps = 0
    /// Stop after this many minutes of this process's training (0: no limit), evaluating first.
    public var minutes = 0.0
    /// Seed of the data order and of every random stream the task draws.
    public var seed: UInt64 = 1
    /// Early stopping: end the run when this many evaluations in a row have not improved on the best
    /// (0: off). The best checkpoint is kept and scored as after a full run.
    public var patience = 0

    /// Options with the given schedule, batch, learning rate and clipping threshold, and defaults for the rest.
    public init(schedule: TrainingSchedule, batch: Int, learningRate: Double, clipNorm: Double) {
        self.schedule = schedule
        self.batch = batch
        self.learningRate = learningRate
        self.clipNorm = clipNorm
    }

    /// Checks options that may come from a file or the command line.
    public func validate() throws {
        try schedule.validate()
        guard batch > 0 else { throw TrainingError.badOptions("batch must be positive, got \(batch)") }
        guard learningRate > 0, learningRate.isFinite else { throw TrainingError.badOptions("learning rate must be a positive number, got \(learningRate)") }
        guard clipNorm >= 0, clipNorm.isFinite else { throw TrainingError.badOptions("clip norm must not be negative (0: off), got \(clipNorm)") }
        guard maxSteps >= 0 else { throw TrainingError.badOptions("max steps must not be negative, got \(maxSteps)") }
        guard minutes >= 0, minutes.isFinite else { throw TrainingError.badOptions("minutes must not be negative, got \(minutes)") }
        guard patience >= 0 else { throw TrainingError.badOptions("patience must not be negative (0: off), got \(patience)") }
        try update.validate()
    }
}

extension TrainingOptions {
    private enum CodingKeys: String, CodingKey {
        case schedule, batch, learningRate, learningRateSchedule, clipNorm, update, onNonFinite, maxSteps, minutes, seed, patience
    }

    /// Options saved before `patience` existed (options.json, experiment results) read as without early stopping.
    public init(from decoder: Swift.Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        schedule = try c.decode(TrainingSchedule.self, forKey: .schedule)
        batch = try c.decode(Int.self, forKey: .batch)
        learningRate = try c.decode(Double.self, forKey: .learningRate)
        learningRateSchedule = try c.decode(LearningRateScheduleKind.self, forKey: .learningRateSchedule)
        clipNorm = try c.decode(Double.self, forKey: .clipNorm)
        update = try c.decode(UpdateRule.self, forKey: .update)
        onNonFinite = try c.decode(NonFinitePolicy.self, forKey: .onNonFinite)
        maxSteps = try c.decode(Int.self, forKey: .maxSteps)
        minutes = try c.decode(Double.self, forKey: .minutes)
        seed = try c.decode(UInt64.self, forKey: .seed)
        patience = try c.decodeIfPresent(Int.self, forKey: .patience) ?? 0
    }
}
