import ArgumentParser
import Foundation
import Recurrent
import RecurrentPresentation

/// The options every `recurrent train` task shares. Where a task has its own default (epochs, batch,
/// learning rate, clipping: `TrainingTask.defaultOptions`), an absent flag takes it.
struct TrainingArguments: ParsableArguments {
    @Option(help: "Passes over the training data (default: the task's; charlm converts it to steps, fractions allowed).") var epochs: Double?
    @Option(name: [.customLong("steps"), .customLong("max-steps")],
            help: "Updates: the run's length for charlm, adding and copy; for the other tasks a cap (0: none), the epoch it cuts counted as done.")
    var steps: Int?
    @Option(help: "Stop after this many minutes of training (0: no limit; with --resume, minutes from now).") var minutes: Double?
    @Option(help: "Examples (sentences, windows, sequences, pairs) per batch, per process under mpirun (default: the task's).") var batch: Int?
    @Option(name: .customLong("global-batch"),
            help: "Under mpirun: examples per update over all processes, split between them (default: --batch × processes).")
    var globalBatch: Int?
    @Flag(name: .customLong("log-steps"), help: "Also write steps.csv: every update's loss, gradient norm and learning rate.")
    var logSteps = false
    @Option(help: "Learning rate (default: the task's).") var lr: Double?
    @Option(name: .customLong("lr-schedule"),
            help: "constant, cosine (decay to 0 over the run) or plateau (halve after 2 evaluations without improvement; default: the task's).")
    var lrSchedule: LearningRateScheduleKind?
    @Option(help: "Stop when this many evaluations in a row bring no improvement of the validation score (0: off; default: the task's).")
    var patience: Int?
    @Option(name: .customLong("clip-norm"), help: "Clip the global gradient norm to this value (0: off; default: the task's).") var clipNorm: Double?
    @Option(help: "Random seed of initialisation, dropout and data order (same seed, same run).") var seed: UInt64 = 1
    @Option(help: "Run folder (default: runs/<task>).") var out: String?
    @Flag(help: "Continue the run in --out from its last checkpoint (after an epoch or inside one) with its saved options (--epochs, --steps and --minutes may change); gives the numbers an uninterrupted run gives.")
    var resume = false
    @OptionGroup var update: UpdateRuleOptions
    @OptionGroup var configFile: ConfigFileOption

    func validate() throws {
        guard (batch ?? 1) > 0 else { throw ValidationError("--batch must be positive") }
        guard (globalBatch ?? 1) > 0 else { throw ValidationError("--global-batch must be positive") }
        guard globalBatch == nil || batch == nil else { throw ValidationError("give --batch (per process) or --global-batch, not both") }
        guard (steps ?? 0) >= 0 else { throw ValidationError("--steps must not be negative") }
        guard (epochs ?? 1) > 0, (epochs ?? 1) <= 1e6 else { throw ValidationError("--epochs must be in (0, 1000000]") }
        guard (minutes ?? 0) >= 0 else { throw ValidationError("--minutes must not be negative") }
        guard (patience ?? 0) >= 0 else { throw ValidationError("--patience must not be negative (0: off)") }
        if let lr { guard lr > 0, lr.isFinite else { throw ValidationError("--lr must be a positive number, got \(lr)") } }
        if let clipNorm { guard clipNorm >= 0, clipNorm.isFinite else { throw ValidationError("--clip-norm must not be negative, got \(clipNorm)") } }
    }

    /// The run folder; under mpirun, processes other than 0 get a private copy (see `DataParallelLaunch`).
    func folder(_ task: String) -> RunFolder {
        RunFolder(DataParallelLaunch.folder(for: URL(fileURLWithPath: out ?? "runs/\(task)"), resume: resume))
    }

    /// Processes training together (1 without mpirun).
    var processes: Int { DataParallelLaunch.replicas?.count ?? 1 }

    /// The run's options: with --resume, the run folder's (its schedule extended by --epochs, --steps and
    /// --minutes); otherwise `defaults` under the flags given, and `settings`. A fresh run copies --config's file into the folder.
    func runOptions<Settings: Codable>(_ task: String, defaults: TrainingOptions, settings: Settings) throws -> RunOptions<Settings> {
        let folder = folder(task)
        var options: RunOptions<Settings>
        if resume {
            options = try RunOptions.read(from: folder, defaults: RunOptions(training: defaults, task: settings))
        } else {
            try configFile.echo(into: folder.url)
            options = RunOptions(training: defaults, task: settings)
            if let batch { options.training.batch = batch }
            // Under mpirun the trainer's batch is the global one, which each process splits.
            options.training.batch = globalBatch ?? options.training.batch * processes
            guard options.training.batch >= processes else {
                throw ValidationError("--global-batch \(options.training.batch) is smaller than the \(processes) processes that share it")
            }
            if let lr { options.training.learningRate = lr }
            if let clipNorm { options.training.clipNorm = clipNorm }
            if let lrSchedule { options.training.learningRateSchedule = lrSchedule }
            if let patience { options.training.patience = patience }
            options.training.update = update.rule
            options.training.onNonFinite = update.onNonFinite
            options.training.seed = seed
        }
        switch options.training.schedule {
        case let .epochs(count, cap):
            if let epochs, epochs.rounded() != epochs { throw ValidationError("--epochs must be a whole number for \(task)") }
            options.training.schedule = .epochs(epochs.map { Int($0) } ?? count, maxBatchesPerEpoch: cap)
            if let steps { options.training.maxSteps = steps }
        case let .steps(count, every):
            options.training.schedule = .steps(steps ?? count, evaluateEvery: every)
        }
        options.training.minutes = minutes ?? (resume ? options.training.minutes : 0)
        do { try options.training.validate() } catch { throw ValidationError("\(error)") }
        return options
    }

    /// config.json of the run folder when resuming (nil for a fresh run), checked by `validate`.
    func savedConfig<Config: Decodable>(_ type: Config.Type, task: String, validate: (Config) throws -> Void) throws -> Config? {
        guard resume else { return nil }
        let url = folder(task).file("config.json")
        guard let data = FileManager.default.contents(atPath: url.path) else { throw ValidationError("cannot resume: \(url.path) does not exist") }
        let config: Config
        do { config = try JSONDecoder().decode(type, from: data) } catch {
            throw ValidationError("cannot resume: \(url.path) is not a valid \(type) file")
        }
        try validate(config)
        return config
    }

    /// Trains `task` through the one loop: a progress bar on the terminal, warnings for skipped batches, and
    /// SIGINT/SIGTERM turned into a saved stop that names the command resuming it (exit status 128 + signal).
    /// - Parameter resumeArguments: the arguments of `recurrent train` that resume the run (`--resume` is added).
    func train<Task: TrainingTask>(_ task: Task, options: TrainingOptions, resumeArguments: [String]) throws -> (Task.Report, Trainer<Task>) {
        let folder = folder(task.name)
        let replicas = DataParallelLaunch.replicas
        let trainer = Trainer(task: task, options: options, folder: folder.url, replicas: replicas)
        if let replicas, replicas.count > 1 { trainer.identity = DataParallelLaunch.identity(arguments: Array(CommandLine.arguments.dropFirst())) }
        trainer.drawCurves = { Data(LineChart(title: $0.title, xLabel: $0.xLabel, yLabel: "loss", series: $0.series).svg().utf8) }
        var reporter: ProgressReporter?
        let steps = logSteps && DataParallelLaunch.isReplicaZero ? try StepLog(folder: folder, resume: resume) : nil
        trainer.onEvent = { event in
            if case let .step(p) = event { steps?.record(p) }
            guard DataParallelLaunch.isReplicaZero else { return }   // the other processes print nothing
            switch event {
            case let .step(p):
                if reporter == nil { reporter = ProgressReporter(total: p.totalSteps) }
                let epoch = p.epochs > 0 ? "epoch \(p.epoch)/\(p.epochs)" : ""
                reporter?.update(step: p.step, fraction: p.fraction, loss: p.runningLoss, tokensPerSecond: p.tokensPerSecond,
                                 extra: [epoch, p.best.isEmpty ? "" : "best " + p.best].filter { !$0.isEmpty }.joined(separator: "  "))
            case let .skippedBatch(step, cause):
                let what = cause == .nonFiniteLoss(step: step) ? "the loss is NaN or infinite" : "the gradients are NaN or infinite"
                FileHandle.standardError.write(Data("warning: step \(step): \(what); batch skipped, parameters unchanged (--on-nonfinite skip)\n".utf8))
            case .ended:
                reporter?.finish()
            case .evaluated:
                break
            }
        }
        StopSignal.shared.install()
        trainer.stopRequested = { StopSignal.shared.isRequested }
        let outcome: TrainingOutcome<Task.Report>
        do { outcome = try trainer.run(resume: resume) } catch let error as TrainingError where !DataParallelLaunch.isReplicaZero {
            _ = error   // every process met it; process 0 says it
            throw ExitCode.failure
        }
        defer { DataParallelLaunch.finish() }
        switch outcome {
        case let .finished(report):
            if let replicas, replicas.count > 1 { print(dataParallelSummary(replicas, trainer: trainer)) }
            return (report, trainer)
        case .finishedOnReplicaZero:
            throw ExitCode.success
        case let .stopped(position):
            let signal = StopSignal.shared.receivedSignal ?? SIGINT
            guard DataParallelLaunch.isReplicaZero else { throw ExitCode(128 + signal) }
            let launcher = processes > 1 ? ["mpirun", "-np", "\(processes)"] : []
            let command = (launcher + ["recurrent", "train"] + resumeArguments + ["--out", out ?? "runs/\(task.name)", "--resume"]).map(shellQuoted).joined(separator: " ")
            let epoch = position.epoch > 0 ? " (epoch \(position.epoch))" : ""
            FileHandle.standardError.write(Data("""

                \(StopSignal.name(signal)) received: stopped after step \(position.step)\(epoch); the run is saved in \(folder.last.path).
                Resume with: \(command)

                """.utf8))
            throw ExitCode(128 + signal)
        }
    }
}

/// One line on the run's processes and what their gradient sums cost (process 0's clock).
func dataParallelSummary<Task: TrainingTask>(_ replicas: DataParallel, trainer: Trainer<Task>) -> String {
    let steps = max(trainer.updateLosses.count + trainer.skippedSteps.count, 1)
    let batch = trainer.options.batch
    return String(format: "data-parallel: %d processes, global batch %d (%d–%d per process); gradient all-reduce %.2f ms per step (%.2f MB), "
                  + "loss sums and evaluation %.2f ms per step (waiting for the others included)",
                  replicas.count, batch, batch / replicas.count, (batch + replicas.count - 1) / replicas.count,
                  replicas.allreduceSeconds * 1000 / Double(steps), Double(replicas.allreduceBytes) / Double(steps) / 1e6,
                  replicas.sumSeconds * 1000 / Double(steps))
}

/// `text` as one shell word (single-quoted unless it is made of safe characters), for commands we print.
func shellQuoted(_ text: String) -> String {
    let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%")
    if !text.isEmpty, text.allSatisfy(safe.contains) { return text }
    return "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
}
