import Foundation
import RecurrentData
import RecurrentIO
import RecurrentNN
import RecurrentTensor

/// Options of `recurrent train charlm`.
public struct LanguageModelTrainingOptions: Codable, Sendable {
    public var steps = 2000
    /// Stop after this many minutes even if `steps` are not done (0: no limit).
    public var minutes = 0.0
    public var batch = 32
    public var seqLen = 64
    public var learningRate = 2e-3
    /// Global-norm clipping threshold (0: off).
    public var clipNorm = 5.0
    /// Optimizer, momentum, weight decay and element-wise clipping.
    public var update = UpdateRule()
    public var evalEvery = 200
    /// Validation characters scored at each evaluation (the first ones of the split).
    public var evalCharacters = 32768
    public var seed: UInt64 = 1
    public init() {}

    /// Checks options read from a run folder's options.json before they drive the loop.
    public func validate() throws {
        guard steps > 0, batch > 0, seqLen > 0, evalEvery > 0, evalCharacters > 0 else {
            throw TrainingError.cannotResume("options.json: steps, batch, seqLen, evalEvery and evalCharacters must be positive")
        }
        guard minutes >= 0, learningRate > 0, learningRate.isFinite, clipNorm >= 0 else {
            throw TrainingError.cannotResume("options.json: minutes and clipNorm must not be negative, learningRate must be positive")
        }
        try update.validate()
    }
}

/// Trains a `LanguageModel` on a `TextCorpus` with Adam and global-norm clipping, evaluating on
/// the validation split, writing metrics and the best and last checkpoints into a run folder.
public final class LanguageModelTrainer {
    public let model: LanguageModel
    public let corpus: TextCorpus
    public let options: LanguageModelTrainingOptions
    public let runFolder: URL
    public private(set) var bestValidationLoss = Double.infinity
    public private(set) var history: [(step: Int, trainLoss: Double, validationLoss: Double)] = []
    /// Polled before every step; when it returns true the run stops there, saves last.safetensors
    /// and sets `stoppedAtStep` (the CLI wires it to `StopSignal` for SIGINT/SIGTERM).
    public var stopRequested: () -> Bool = { false }
    /// The step a stop request ended the run after (its state is in last.safetensors), or nil.
    public private(set) var stoppedAtStep: Int?
    /// What a batch with a NaN or infinite loss or gradient does (the parameters are never touched).
    public var onNonFinite = NonFinitePolicy.stop
    /// Steps whose batch was skipped under `onNonFinite == .skip`.
    public private(set) var skippedSteps: [Int] = []
    /// Tests: steps whose loss is made NaN, to exercise `onNonFinite`.
    var injectNonFiniteLossAtSteps: Set<Int> = []

    public init(model: LanguageModel, corpus: TextCorpus, options: LanguageModelTrainingOptions, runFolder: URL) {
        self.model = model
        self.corpus = corpus
        self.options = options
        self.runFolder = runFolder
    }

    /// Mean nats per character over the first `evalCharacters` of the validation split, with the
    /// state carried across chunks (batch of parallel streams).
    public func validationLoss() -> Double {
        Self.meanLoss(model, on: Array(corpus.validation.prefix(options.evalCharacters + 1)), seqLen: options.seqLen, streams: options.batch)
    }

    /// Mean nats per predicted character of `model` (eval mode, no graph) over `ids`, read as up to
    /// `streams` contiguous parallel streams in chunks of `seqLen`, the state carried across chunks.
    /// NaN when `ids` holds fewer than `seqLen + 1` characters.
    public static func meanLoss(_ model: LanguageModel, on ids: [Int], seqLen: Int, streams: Int) -> Double {
        let streams = min(streams, max(1, (ids.count - 1) / seqLen))
        let batches = LanguageModelBatch.sequential(from: ids, steps: seqLen, batch: streams)
        guard !batches.isEmpty else { return .nan }
        return withoutGrad {
            let wasTraining = model.isTraining
            model.eval()
            defer { model.train(wasTraining) }
            var state: RecurrentState<Float>? = nil
            var total = 0.0
            for b in batches {
                let (loss, next) = model.loss(b, state: state)
                total += Double(loss.item)
                state = next
            }
            return total / Double(batches.count)
        }
    }

    /// Names of the optimizer's state tensors in `last.safetensors` start with this.
    public static let optimizerPrefix = "optimizer."

    /// Where training stands; saved in `last.safetensors` so `--resume` continues bit-identically.
    struct TrainingPosition {
        var step = 0, tokens = 0
        var runningLoss = Double.nan, seconds = 0.0
        var generator: RandomGenerator
        /// The best validation loss so far, exactly (metrics.csv rounds it); nil in older checkpoints.
        var bestValidationLoss: Double?
        /// Updates clipping changed since the last metrics row (a stop between rows must not lose them).
        var clipped = 0

        /// Checkpoint metadata; doubles as bit patterns so that nothing is rounded.
        func extra(dropout: RandomGenerator) -> [String: String] {
            ["step": "\(step)", "tokens": "\(tokens)", "running_loss_bits": "\(runningLoss.bitPattern)", "seconds": "\(seconds)",
             "generator": generator.state.map(String.init).joined(separator: ","),
             "dropout_generator": dropout.state.map(String.init).joined(separator: ","),
             "best_val_loss_bits": "\((bestValidationLoss ?? .infinity).bitPattern)", "clipped_since_row": "\(clipped)"]
        }

        init(seed: UInt64) { generator = RandomGenerator(seed: seed) }

        init(extra: [String: String]) throws {
            func generator(_ key: String) throws -> RandomGenerator {
                let words = (extra[key] ?? "").split(separator: ",").compactMap { UInt64($0) }
                guard let g = RandomGenerator(state: words) else { throw TrainingError.cannotResume("'\(key)' is missing or malformed") }
                return g
            }
            // Bounded so that the counters cannot overflow as training goes on.
            guard let step = extra["step"].flatMap(Int.init), (0..<(1 << 53)).contains(step),
                  let tokens = extra["tokens"].flatMap(Int.init), (0..<(1 << 53)).contains(tokens),
                  let bits = extra["running_loss_bits"].flatMap(UInt64.init),
                  let seconds = extra["seconds"].flatMap(Double.init), seconds.isFinite, seconds >= 0 else {
                throw TrainingError.cannotResume("the checkpoint has no training position (step, tokens, running loss)")
            }
            self.step = step
            self.tokens = tokens
            runningLoss = Double(bitPattern: bits)
            self.seconds = seconds
            self.generator = try generator("generator")
            bestValidationLoss = extra["best_val_loss_bits"].flatMap(UInt64.init).map { Double(bitPattern: $0) }
            clipped = extra["clipped_since_row"].flatMap(Int.init).map { min(max($0, 0), step) } ?? 0
        }
    }

    /// Runs the training loop. Returns the final validation loss.
    /// - Parameter resume: continue from the run folder's `last.safetensors` (model, optimizer state,
    ///   generators, step and metrics), giving the numbers an uninterrupted run with the same seed gives.
    @discardableResult
    public func run(progress: Bool = true, resume: Bool = false) throws -> Double {
        try FileManager.default.createDirectory(at: runFolder, withIntermediateDirectories: true)
        removeStaleTemporaryFiles(in: runFolder)   // left by a run killed mid-write
        let configJSON = try jsonText(model.config)
        try atomicWrite(Data(try jsonText(options).utf8), to: runFolder.appendingPathComponent("options.json"))
        try atomicWrite(Data(configJSON.utf8), to: runFolder.appendingPathComponent("config.json"))
        try atomicWrite(Data(corpus.vocabulary.jsonString().utf8), to: runFolder.appendingPathComponent("vocabulary.json"))
        let parameters = model.parameters()
        _ = ParameterBuffer(parameters)
        let optimizer = options.update.makeOptimizer(parameters, learningRate: options.learningRate)
        var position = TrainingPosition(seed: options.seed)
        var previousRows: [[Double]] = []
        if resume {
            position = try restore(optimizer: optimizer)
            // metrics.csv may have been edited: only whole rows with a sensible step are kept (no trap on
            // a short row or a step that is not an integer).
            previousRows = try RunLog.rows(in: runFolder).filter { row in
                row.count >= 4 && row[0] >= 1 && row[0] <= Double(position.step) && row[0].rounded() == row[0]
            }
            history = previousRows.map { (Int($0[0]), $0[2], $0[3]) }
            bestValidationLoss = position.bestValidationLoss ?? history.map(\.validationLoss).min() ?? .infinity
        }
        let log = try RunLog(folder: runFolder, columns: ["step", "seconds", "train_loss", "val_loss", "val_bpc", "tokens_per_second", "clipped"],
                             plotted: ["train_loss", "val_loss"], previousRows: previousRows)
        let reporter = ProgressReporter(total: options.steps)
        let start = Date().addingTimeInterval(-position.seconds)
        let resumedAt = Date()
        var step = position.step, tokens = position.tokens, runningLoss = position.runningLoss
        var clipped = position.clipped   // updates clipping changed since the last metrics row
        var nonFinite = NonFiniteGuard(policy: onNonFinite)
        defer { skippedSteps = nonFinite.skippedSteps }
        stoppedAtStep = nil
        // last.safetensors also holds what resuming needs: optimizer state, generators, position.
        func saveLast(_ checkpoint: Checkpoint, elapsed: Double) throws {
            (position.step, position.tokens, position.runningLoss, position.seconds) = (step, tokens, runningLoss, elapsed)
            position.bestValidationLoss = bestValidationLoss
            position.clipped = clipped
            var last = checkpoint
            for (name, tensor) in optimizer.stateTensors() { last.tensors[Self.optimizerPrefix + name] = tensor }
            last.extra.merge(position.extra(dropout: model.rnn.dropoutGenerator)) { $1 }
            try last.save(to: runFolder.appendingPathComponent("last.safetensors"))
        }
        model.train()
        while step < options.steps {
            if options.minutes > 0, Date().timeIntervalSince(resumedAt) > options.minutes * 60 { break }
            if stopRequested() { stoppedAtStep = step; break }
            step += 1
            let batch = LanguageModelBatch.random(from: corpus.train, steps: options.seqLen, batch: options.batch, generator: &position.generator)
            optimizer.zeroGrad()
            var (loss, _) = model.loss(batch)
            if injectNonFiniteLossAtSteps.contains(step) { loss = loss * .nan }
            let outcome = try nonFinite.update(loss: loss, optimizer: optimizer, clipNorm: options.clipNorm, clipValue: options.update.clipValue, step: step)
            let value = outcome?.loss
            if outcome?.clipped == true { clipped += 1 }
            tokens += options.seqLen * options.batch
            if let value { runningLoss = runningLoss.isNaN ? value : 0.98 * runningLoss + 0.02 * value }
            let elapsed = Date().timeIntervalSince(start)
            if progress {
                let fraction = options.minutes > 0 ? max(Double(step) / Double(options.steps), Date().timeIntervalSince(resumedAt) / (options.minutes * 60)) : nil
                reporter.update(step: step, fraction: fraction, loss: runningLoss, tokensPerSecond: Double(tokens) / elapsed,
                                extra: bestValidationLoss.isFinite ? String(format: "val %.3f", bestValidationLoss) : "")
            }
            let timeUp = options.minutes > 0 && Date().timeIntervalSince(resumedAt) > options.minutes * 60
            if step % options.evalEvery == 0 || step == options.steps || timeUp {
                let validation = validationLoss()
                history.append((step, runningLoss, validation))
                try log.record([Double(step), elapsed, runningLoss, validation, validation / M_LN2, Double(tokens) / elapsed, Double(clipped)])
                clipped = 0
                let checkpoint = Checkpoint(tensors: model.stateDict(), config: configJSON, vocabulary: corpus.vocabulary.tokens,
                                            extra: ["task": "charlm", "step": "\(step)", "val_loss": "\(validation)"])
                if validation < bestValidationLoss {
                    bestValidationLoss = validation
                    try checkpoint.save(to: runFolder.appendingPathComponent("best.safetensors"))
                }
                try saveLast(checkpoint, elapsed: elapsed)
            }
        }
        let lastURL = runFolder.appendingPathComponent("last.safetensors")
        if let stopped = stoppedAtStep, stopped > position.step || !FileManager.default.fileExists(atPath: lastURL.path) {
            // Interrupted between checkpoints: keep the steps done since the last one (and always leave
            // something to resume from).
            try saveLast(Checkpoint(tensors: model.stateDict(), config: configJSON, vocabulary: corpus.vocabulary.tokens,
                                    extra: ["task": "charlm", "step": "\(step)"]),
                         elapsed: Date().timeIntervalSince(start))
        }
        if progress { reporter.finish() }
        if stoppedAtStep != nil { return history.last?.validationLoss ?? .nan }
        return history.last?.validationLoss ?? validationLoss()
    }

    /// Loads model, optimizer and generators from `last.safetensors`, checking it belongs to this run.
    func restore(optimizer: some Optimizer<Float>) throws -> TrainingPosition {
        let url = runFolder.appendingPathComponent("last.safetensors")
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw TrainingError.cannotResume("\(url.path) does not exist; start without --resume")
        }
        let checkpoint = try Checkpoint.load(from: url)
        if let bad = checkpoint.nonFiniteTensorNames.first {
            throw TrainingError.cannotResume("\(url.path) holds NaN or infinity in '\(bad)'")
        }
        guard checkpoint.extra["task"] == "charlm" else { throw ModelError.wrongTask(expected: "charlm", found: checkpoint.extra["task"] ?? "unknown") }
        guard try checkpoint.decodeConfig(LanguageModelConfig.self) == model.config else {
            throw TrainingError.cannotResume("the checkpoint's model config differs from this run's")
        }
        guard checkpoint.vocabulary == corpus.vocabulary.tokens else {
            throw TrainingError.cannotResume("the data's vocabulary differs from the checkpoint's: resume on the same text")
        }
        let prefix = Self.optimizerPrefix
        try model.loadParameters(checkpoint.tensors.filter { !$0.key.hasPrefix(prefix) })
        try optimizer.loadState(Dictionary(uniqueKeysWithValues: checkpoint.tensors.filter { $0.key.hasPrefix(prefix) }
            .map { (String($0.key.dropFirst(prefix.count)), $0.value) }))
        let words = (checkpoint.extra["dropout_generator"] ?? "").split(separator: ",").compactMap { UInt64($0) }
        guard let dropout = RandomGenerator(state: words) else { throw TrainingError.cannotResume("'dropout_generator' is missing or malformed") }
        model.rnn.dropoutGenerator = dropout
        return try TrainingPosition(extra: checkpoint.extra)
    }

    func jsonText<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}

/// Training stopped for a reason the user can act on.
public enum TrainingError: Error, CustomStringConvertible, Equatable {
    case nonFiniteLoss(step: Int)
    case nonFiniteGradient(step: Int)
    case cannotResume(String)
    case badOptions(String)
    /// An epoch-based run was asked to stop (SIGINT/SIGTERM) during `epoch`; `last.safetensors` holds
    /// the epochs before it, from which `--resume` continues.
    case stopped(epoch: Int)

    public var description: String {
        switch self {
        case let .nonFiniteLoss(step):
            "the loss became NaN or infinite at step \(step); the last good checkpoint is kept. Try a lower --lr or --clip-norm."
        case let .cannotResume(reason):
            "cannot resume: \(reason)"
        case let .badOptions(reason):
            "bad training options: \(reason)"
        case let .stopped(epoch):
            "stopped during epoch \(epoch); last.safetensors holds the epochs before it"
        case let .nonFiniteGradient(step):
            "the gradients became NaN or infinite at step \(step); the parameters were not updated and the last good checkpoint is kept. Try a lower --lr or --clip-norm."
        }
    }
}
