import RecurrentModels
import Foundation
import RecurrentIO
import RecurrentNN
import RecurrentTensor

/// How a run ended without an error.
public enum TrainingOutcome<Report> {
    /// The schedule (or a step or time limit) ran out; the best weights are loaded and `Report` holds the task's final figures.
    case finished(Report)
    /// A stop request ended the run after `position`'s step; last.safetensors holds that step, and
    /// `run(resume: true)` continues from it exactly.
    case stopped(RunPosition)
    /// This process is a replica other than 0 of a data-parallel run, which finished: replica 0 wrote the report.
    case finishedOnReplicaZero

    /// The report of a finished run, nil for a stopped one.
    public var report: Report? { if case let .finished(report) = self { report } else { nil } }
}

/// The one training loop of every task: the data order, the updates (backward, clipping, optimizer,
/// NaN policy), the learning-rate schedule, evaluation rounds, the best and last checkpoints, the
/// metrics, stop requests and exact resumption — between epochs or inside one. What differs between
/// tasks is in the `TrainingTask`.
///
/// The trainer prints nothing: it reports `TrainingEvent`s to `onEvent`, and polls `stopRequested`
/// between steps (the command line wires both to the terminal and to SIGINT/SIGTERM).
///
/// With `replicas` (a data-parallel run), `options.batch` is the global batch: every replica draws the
/// same order, trains on its shard of each batch, and the gradients are summed before each update;
/// stop requests and the clock are agreed on at every step, evaluation is split, and replica 0 alone
/// writes the run folder.
public final class Trainer<Task: TrainingTask> {
    /// The task being trained.
    public let task: Task
    /// The shared options of the run.
    public let options: TrainingOptions
    /// The run folder every file is written to.
    public let folder: RunFolder
    /// The processes of a data-parallel run (nil when this process trains alone).
    public let replicas: (any TrainingReplicas)?
    /// What the replicas must agree on besides the options, settings, model configuration and vocabulary
    /// (the caller's data files, its build), as (what, bytes); checked when a data-parallel run starts.
    public var identity: [(what: String, bytes: [UInt8])] = []
    /// Polled before every step; when it returns true the run saves the step it is at and returns `.stopped`.
    public var stopRequested: () -> Bool = { false }
    /// Progress, evaluations and skipped batches.
    public var onEvent: (TrainingEvent) -> Void = { _ in }
    /// Draws loss_curve.svg from the curves (nil: no picture).
    public var drawCurves: ((LossCurves) -> Data)?
    /// Every evaluation of the run (an earlier part's too, after a resume).
    public private(set) var history: [RoundRecord<Task.Evaluation>] = []
    /// The evaluation the best checkpoint holds.
    public private(set) var best: RoundRecord<Task.Evaluation>?
    /// The loss of every update this process made, in order (+∞ for the one that diverged).
    public private(set) var updateLosses: [Double] = []
    /// Steps whose batch was skipped under `NonFinitePolicy.skip`.
    public private(set) var skippedSteps: [Int] = []
    /// Whether the run ended early because `options.patience` evaluations in a row brought no improvement.
    public private(set) var stoppedEarly = false
    /// Tests: steps whose loss is made NaN, to exercise the NaN policy.
    var injectNonFiniteLossAtSteps: Set<Int> = []

    var state: RunState
    private var bestWeights: [String: Tensor<Float>]?
    private var savedStep = -1
    /// The stream a data-parallel replica's forward passes draw from (per replica; a single process uses the data order).
    var sampling: RandomGenerator

    /// - Parameter replicas: the processes of a data-parallel run; nil or one replica trains alone.
    public init(task: Task, options: TrainingOptions, folder: URL, replicas: (any TrainingReplicas)? = nil) {
        self.task = task
        self.options = options
        self.folder = RunFolder(folder)
        self.replicas = replicas.flatMap { $0.count > 1 ? $0 : nil }
        state = RunState(seed: options.seed)
        sampling = RandomGenerator(seed: options.seed)
    }

    /// Whether this process writes the run folder (replica 0, or a single process).
    var writes: Bool { (replicas?.rank ?? 0) == 0 }

    /// Trains by `options`. With `resume`, continues the run folder's last.safetensors (weights, optimizer
    /// state, generators, position, history), giving the numbers an uninterrupted run gives.
    @discardableResult
    public func run(resume: Bool = false) throws -> TrainingOutcome<Task.Report> {
        try options.validate()
        switch (options.schedule, task.epochSize) {
        case (.epochs, nil): throw TrainingError.badOptions("\(task.name) draws its batches afresh: give it a schedule of steps, not epochs")
        case (.steps, .some): throw TrainingError.badOptions("\(task.name) passes over a data set: give it a schedule of epochs, not steps")
        default: break
        }
        if let replicas {
            guard task.supportsDataParallel else {
                throw TrainingError.badOptions("\(task.name) draws its batches afresh in a way that cannot be split across processes; train it in one process")
            }
            try requireAgreement(replicas)
        }
        if writes { try folder.prepare() }
        let parameters = task.model.parameters()
        let flat = ParameterBuffer(parameters)
        let optimizer = options.update.makeOptimizer(parameters, learningRate: options.learningRate)
        state = RunState(seed: options.seed)
        stoppedEarly = false
        if let replicas { seedReplicaStreams(replicas) }
        state.streams = task.streams
        var previousRows: [[Double]] = []
        if resume {
            previousRows = try restore(optimizer)
        } else {
            try replicas?.broadcastParameters(flat)
        }
        var log: RunLog?
        if writes {
            try folder.writeJSON(RunOptions(training: options, task: task.settings), to: "options.json")
            try folder.write(Data(task.configJSON.utf8), to: "config.json")
            for (name, data) in try task.runFiles() { try folder.write(data, to: name) }
            log = try RunLog(folder: folder.url, columns: task.metricsColumns, plotted: task.plottedColumns,
                             previousRows: previousRows, drawCurves: drawCurves)
        }
        let seconds = previousRows.last.flatMap { row in task.metricsColumns.firstIndex(of: "seconds").map { row[$0] } }
        var loop = Loop(trainer: self, optimizer: optimizer, parameters: flat, log: log,
                        secondsSoFar: seconds.flatMap { $0.isFinite ? $0 : nil } ?? 0)
        defer { onEvent(.ended) }
        if let stopped = try loop.run() { return .stopped(stopped) }
        guard writes else { return .finishedOnReplicaZero }
        if let bestWeights { try task.model.loadParameters(bestWeights) }
        return .finished(try task.finish(history, best: best, in: folder, seconds: loop.elapsed))
    }

    /// Reads last.safetensors back into the model, the optimizer and the state; returns the metrics rows to keep.
    private func restore(_ optimizer: some Optimizer<Float>) throws -> [[Double]] {
        let checkpoint = try folder.loadLast(task: task.name, configJSON: task.configJSON, replicas: replicas)
        try task.checkResumable(checkpoint)
        if let replicas {
            try restoreReplicaStreams(replicas, from: checkpoint)
        } else {
            guard checkpoint.extra["replicas"] == nil else {
                throw TrainingError.cannotResume("this run was trained by \(checkpoint.extra["replicas"]!) processes; resume it with as many")
            }
            state = try RunState(extra: checkpoint.extra, streamNames: Array(task.streams.keys))
            task.streams = state.streams
        }
        try task.model.loadParameters(checkpoint.modelTensors)
        try RunState.restore(optimizer, from: checkpoint)
        history = try RunState.decode([RoundRecord<Task.Evaluation>].self, from: state.history)
        for record in history where best.map({ task.isBetter(record.evaluation, than: $0.evaluation) }) ?? true { best = record }
        if best != nil { bestWeights = try folder.loadBest(replicas: replicas).modelTensors }
        savedStep = state.step
        guard writes else { return [] }
        // metrics.csv may have been edited: only whole rows at an integral, reached position are kept.
        let reached = Double(task.metricsColumns.first == "epoch" ? state.epoch : state.step)
        return try RunLog.rows(in: folder.url).filter { row in
            row.count == task.metricsColumns.count && row[0] >= 1 && row[0] <= reached && row[0].rounded() == row[0]
        }
    }

    /// The loop's moving parts, for one call of `run`.
    private struct Loop {
        let trainer: Trainer
        let optimizer: any Optimizer<Float>
        /// The parameters and gradients as flat buffers (what the replicas' gradient sums travel in).
        let parameters: ParameterBuffer<Float>
        /// nil on replicas other than 0.
        let log: RunLog?
        let start: Date
        let resumedAt = Date()
        let batchesPerEpoch: Int?
        let totalSteps: Int
        var nonFinite: NonFiniteGuard
        /// `Trainer.plateauFactor` after the last evaluation.
        var plateauFactor: Double
        /// A data-parallel run's stop request and clock, as the replicas agreed after the last step.
        var agreedStop = false, agreedTimeUp = false

        init(trainer: Trainer, optimizer: any Optimizer<Float>, parameters: ParameterBuffer<Float>, log: RunLog?, secondsSoFar: Double) {
            self.trainer = trainer
            self.optimizer = optimizer
            self.parameters = parameters
            self.log = log
            start = Date().addingTimeInterval(-secondsSoFar)
            let options = trainer.options
            if let size = trainer.task.epochSize {
                let all = (size + options.batch - 1) / options.batch
                let cap = if case let .epochs(_, cap) = options.schedule { cap } else { 0 }   // `run` checked the schedule's kind
                batchesPerEpoch = cap > 0 ? min(cap, all) : all
            } else {
                batchesPerEpoch = nil
            }
            let planned = options.schedule.totalSteps(batchesPerEpoch: batchesPerEpoch)
            totalSteps = options.maxSteps > 0 ? min(options.maxSteps, planned) : planned
            nonFinite = NonFiniteGuard(policy: options.onNonFinite)
            plateauFactor = trainer.plateauFactor
        }

        var elapsed: Double { Date().timeIntervalSince(start) }
        /// Whether the time limit has passed: by this process's clock, or in a data-parallel run by replica 0's, agreed at the last step.
        var timeUp: Bool { trainer.replicas == nil ? clockRanOut : agreedTimeUp }
        var clockRanOut: Bool { trainer.options.minutes > 0 && Date().timeIntervalSince(resumedAt) > trainer.options.minutes * 60 }
        var stopNow: Bool { trainer.replicas == nil ? trainer.stopRequested() : agreedStop }

        /// Trains to the end of the schedule; returns the position a stop request ended it at, or nil.
        mutating func run() throws -> RunPosition? {
            trainer.task.model.train()
            switch trainer.options.schedule {
            case let .epochs(count, _): return try runEpochs(count)
            case let .steps(_, every): return try runSteps(evaluateEvery: every)
            }
        }

        mutating func runEpochs(_ epochs: Int) throws -> RunPosition? {
            let batch = trainer.options.batch
            while trainer.state.epoch < epochs, trainer.state.step < totalSteps {
                let epoch = trainer.state.epoch + 1
                let order: [Int]
                if trainer.state.batchInEpoch == 0 {
                    trainer.state.epochStart = trainer.state.order
                    order = trainer.task.epochOrder(&trainer.state.order)
                } else {
                    var replay = trainer.state.epochStart   // the order this epoch drew; `order` already moved past it
                    order = trainer.task.epochOrder(&replay)
                }
                while trainer.state.batchInEpoch < batchesPerEpoch ?? 0, trainer.state.step < totalSteps, !timeUp {
                    if stopNow { return try saveOnStop(epoch: epoch) }
                    let k = trainer.state.batchInEpoch
                    try step(order[(k * batch)..<min((k + 1) * batch, order.count)], epoch: epoch)
                    trainer.state.batchInEpoch += 1
                }
                // The epoch is over (or cut short by maxSteps or the clock, which then counts it as done).
                trainer.state.epoch = epoch
                trainer.state.batchInEpoch = 0
                try endRound(epoch: epoch)
                if timeUp || trainer.stoppedEarly { break }
            }
            return nil
        }

        mutating func runSteps(evaluateEvery: Int) throws -> RunPosition? {
            while trainer.state.step < totalSteps, !timeUp {
                if stopNow { return try saveOnStop(epoch: 0) }
                try step(Array(0..<trainer.options.batch)[...], epoch: 0)   // a drawn-afresh batch's indices are its rows
                if trainer.state.step % evaluateEvery == 0 || trainer.state.step == totalSteps || timeUp { try endRound(epoch: 0) }
                if trainer.stoppedEarly { break }
            }
            return nil
        }

        /// One update: batch, forward, backward, clipping, optimizer step (or a skipped batch).
        mutating func step(_ indices: ArraySlice<Int>, epoch: Int) throws {
            let (task, options) = (trainer.task, trainer.options)
            trainer.state.step += 1
            let position = RunPosition(epoch: epoch, step: trainer.state.step, totalSteps: totalSteps)
            switch options.learningRateSchedule {
            case .constant: break
            case .cosine: optimizer.learningRate = Float(options.learningRateSchedule.rate(base: options.learningRate, step: position.step, totalSteps: totalSteps))
            case .plateau: optimizer.learningRate = Float(options.learningRate * plateauFactor)
            }
            optimizer.zeroGrad()
            let update: ReplicatedUpdate
            if let replicas = trainer.replicas {
                update = try replicatedForward(indices, replicas, at: position)
            } else {
                let batch = task.makeBatch(indices, generator: &trainer.state.order)
                var forward = task.loss(batch, at: position, generator: &trainer.state.order)
                if trainer.injectNonFiniteLossAtSteps.contains(position.step) { forward.loss = forward.loss * .nan }
                update = ReplicatedUpdate(lossValue: Double(forward.loss.item), backward: { [loss = forward.loss] in loss.backward() },
                                          weight: forward.weight, tokens: forward.tokens, tally: forward.tally)
            }
            let outcome: UpdateOutcome?
            do {
                let onEvent = trainer.onEvent
                outcome = try nonFinite.update(lossValue: update.lossValue, backward: update.backward, optimizer: optimizer, clipNorm: options.clipNorm,
                                               clipValue: options.update.clipValue, step: position.step) { cause in
                    onEvent(.skippedBatch(step: position.step, cause: cause))
                }
            } catch {
                trainer.updateLosses.append(.infinity)
                if let log { try task.diverged(at: position.step, trainer.history, window: trainer.state.window, log: log, seconds: elapsed) }
                throw error
            }
            if let outcome {
                trainer.updateLosses.append(outcome.loss)
                trainer.state.window.add(outcome, weight: update.weight, tally: update.tally)
                trainer.state.tokens += update.tokens
                trainer.state.runningLoss = trainer.state.runningLoss.isNaN ? outcome.loss : 0.98 * trainer.state.runningLoss + 0.02 * outcome.loss
                if outcome.clipped { trainer.state.clippedTotal += 1 }
            } else {
                trainer.skippedSteps.append(position.step)
            }
            reportProgress(position, outcome)
        }

        /// A data-parallel step's forward pass: this replica's shard of the global batch `indices`, then one
        /// sum over the replicas of each loss term and its count, the weights, the stop and clock flags. The
        /// backward it returns weighs each term by this replica's share of the batch's count, so that the
        /// summed gradients are those of the whole batch's loss.
        mutating func replicatedForward(_ indices: ArraySlice<Int>, _ replicas: any TrainingReplicas, at position: RunPosition) throws -> ReplicatedUpdate {
            let task = trainer.task
            let rows = replicas.shard(of: indices.count)
            var forward: TaskLoss?
            if !rows.isEmpty {
                let batch = task.makeShard(indices, rows: rows, generator: &trainer.state.order)
                forward = task.loss(batch, at: position, generator: &trainer.sampling)
                if trainer.injectNonFiniteLossAtSteps.contains(position.step) { forward!.terms[0].loss = forward!.terms[0].loss.map { $0 * .nan } }
            }
            // A batch smaller than the number of replicas leaves some without rows: they learn the lengths.
            var (termCount, tallyCount) = (forward?.terms.count ?? 0, forward?.tally.count ?? 0)
            if indices.count < replicas.count {
                let lengths = try replicas.maximum([Double(termCount), Double(tallyCount)])
                (termCount, tallyCount) = (Int(lengths[0]), Int(lengths[1]))
            }
            // [weight, tokens, stop, clock, (Σ loss × count, count) per term, tally…]
            var local = [Double](repeating: 0, count: 4 + 2 * termCount + tallyCount)
            if let forward {
                local[0] = forward.weight
                local[1] = Double(forward.tokens)
                for (k, term) in forward.terms.enumerated() where term.meanOver > 0 {
                    local[4 + 2 * k] = Double(term.loss?.item ?? 0) * term.meanOver
                    local[5 + 2 * k] = term.meanOver
                }
                for (k, v) in forward.tally.enumerated() { local[4 + 2 * termCount + k] = v }
            }
            local[2] = trainer.stopRequested() ? 1 : 0
            local[3] = replicas.rank == 0 && clockRanOut ? 1 : 0
            let global = try replicas.sum(local)
            agreedStop = global[2] > 0
            agreedTimeUp = global[3] > 0
            var lossValue = 0.0
            var weighted: Tensor<Float>?   // Σ term × (this replica's count / the batch's count)
            for k in 0..<termCount where global[5 + 2 * k] > 0 {
                lossValue += global[4 + 2 * k] / global[5 + 2 * k]
                if let term = forward?.terms[k], let loss = term.loss, term.meanOver > 0 {
                    let share = loss * Float(term.meanOver / global[5 + 2 * k])
                    weighted = weighted.map { $0 + share } ?? share
                }
            }
            let parameters = self.parameters
            return ReplicatedUpdate(lossValue: lossValue, backward: { [weighted] in
                weighted?.backward()
                try replicas.sumGradients(parameters)
            }, weight: global[0], tokens: Int(global[1]), tally: Array(global[(4 + 2 * termCount)...]))
        }

        func reportProgress(_ position: RunPosition, _ outcome: UpdateOutcome?) {
            let options = trainer.options
            var fraction = Double(position.step) / Double(max(totalSteps, 1))
            if options.minutes > 0 { fraction = max(fraction, Date().timeIntervalSince(resumedAt) / (options.minutes * 60)) }
            var epochs = 0
            if case let .epochs(count, _) = options.schedule { epochs = count }
            trainer.onEvent(.step(TrainingProgress(step: position.step, totalSteps: totalSteps, fraction: min(1, fraction), epoch: position.epoch,
                                                   epochs: epochs, loss: outcome?.loss ?? .nan, gradientNorm: outcome?.gradientNorm ?? .nan,
                                                   learningRate: Double(optimizer.learningRate),
                                                   runningLoss: trainer.state.runningLoss,
                                                   tokensPerSecond: Double(trainer.state.tokens) / max(elapsed, 1e-9),
                                                   best: trainer.best.map { trainer.task.summary($0.evaluation) } ?? "")))
        }

        /// Evaluates, records the metrics row, keeps the best checkpoint and saves the last.
        mutating func endRound(epoch: Int) throws {
            let (task, state) = (trainer.task, trainer.state)
            let position = RunPosition(epoch: epoch, step: state.step, totalSteps: totalSteps)
            let evaluation = try trainer.replicas.map { try task.evaluate(EvaluationShard($0)) } ?? task.evaluate()
            let seconds = elapsed
            let summary = RoundSummary(position: position, seconds: seconds, tokensPerSecond: Double(state.tokens) / seconds,
                                       window: state.window, runningLoss: state.runningLoss)
            let record = RoundRecord(epoch: epoch, step: state.step, trainLoss: task.trainLoss(summary),
                                     trainTally: state.window.tally.indices.map(state.window.tallyMean), clipped: state.window.clipped,
                                     gradientNorm: state.window.meanGradientNorm, evaluation: evaluation)
            trainer.history.append(record)
            try log?.record(task.metricsRow(summary, evaluation))
            let checkpoint = trainer.checkpoint(position, evaluation)
            // best before last: an interruption between the two repeats this round, which rewrites best identically.
            let improved = trainer.best.map { task.isBetter(evaluation, than: $0.evaluation) } ?? true
            if improved {
                trainer.best = record
                trainer.bestWeights = checkpoint.tensors
                if trainer.writes { try checkpoint.save(to: trainer.folder.best) }
            }
            trainer.state.window = TrainingWindow()
            trainer.state.history = try RunState.json(trainer.history)
            try trainer.saveLast(checkpoint, optimizer: optimizer)
            plateauFactor = trainer.plateauFactor
            let patience = trainer.options.patience
            if patience > 0, trainer.evaluationsSinceBest >= patience { trainer.stoppedEarly = true }
            trainer.onEvent(.evaluated(position: position, summary: task.summary(evaluation), improved: improved))
        }

        /// Saves the step the run is at (when it is not saved yet) and returns where it stopped.
        mutating func saveOnStop(epoch: Int) throws -> RunPosition {
            let position = RunPosition(epoch: epoch, step: trainer.state.step, totalSteps: totalSteps)
            // Every replica decides alike (the replicas' savedStep agree), so that they all take part in saveLast.
            let saved = trainer.state.step == trainer.savedStep
                && (trainer.replicas != nil || FileManager.default.fileExists(atPath: trainer.folder.last.path))
            if !saved { try trainer.saveLast(trainer.checkpoint(position, nil), optimizer: optimizer) }
            return position
        }
    }

    /// What one step hands to the update: the loss every replica agrees on, the backward that leaves the
    /// gradients to apply, and the figures the window adds up.
    private struct ReplicatedUpdate {
        var lossValue: Double
        var backward: () throws -> Void
        var weight: Double
        var tokens: Int
        var tally: [Double]
    }

    /// Evaluations since the best one (0 when the last evaluation is the best).
    var evaluationsSinceBest: Int {
        guard let best, let index = history.lastIndex(where: { $0.step == best.step && $0.epoch == best.epoch }) else { return history.count }
        return history.count - 1 - index
    }

    /// The factor `.plateau` scales the base rate by after `history`: 0.5 for every
    /// `LearningRateScheduleKind.plateauEvaluations` evaluations in a row without improvement.
    var plateauFactor: Double {
        var best: Task.Evaluation?
        var flat = 0, factor = 1.0
        for record in history {
            if best.map({ task.isBetter(record.evaluation, than: $0) }) ?? true {
                best = record.evaluation
                flat = 0
            } else {
                flat += 1
                if flat == LearningRateScheduleKind.plateauEvaluations { factor *= 0.5; flat = 0 }
            }
        }
        return factor
    }

    /// The model's checkpoint at `position` (what best.safetensors holds).
    private func checkpoint(_ position: RunPosition, _ evaluation: Task.Evaluation?) -> Checkpoint {
        Checkpoint(tensors: task.model.stateDict(), config: task.configJSON, vocabulary: task.vocabulary,
                   extra: task.checkpointFields(position, evaluation))
    }

    /// last.safetensors: the model's checkpoint, the optimizer's state and the run state (with every
    /// replica's random streams, which replica 0 gathers).
    private func saveLast(_ checkpoint: Checkpoint, optimizer: some Optimizer<Float>) throws {
        state.streams = task.streams
        if let replicas { try gatherReplicaStreams(replicas) }
        defer { savedStep = state.step }
        guard writes else { return }
        var last = checkpoint
        state.write(into: &last, optimizer: optimizer)
        if let replicas { last.extra["replicas"] = "\(replicas.count)" }
        try last.save(to: folder.last)
    }
}
