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
    public var clipNorm = 5.0
    public var evalEvery = 200
    /// Validation characters scored at each evaluation (the first ones of the split).
    public var evalCharacters = 32768
    public var seed: UInt64 = 1
    public init() {}
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

    public init(model: LanguageModel, corpus: TextCorpus, options: LanguageModelTrainingOptions, runFolder: URL) {
        self.model = model
        self.corpus = corpus
        self.options = options
        self.runFolder = runFolder
    }

    /// Mean nats per character over the first `evalCharacters` of the validation split, with the
    /// state carried across chunks (batch of parallel streams).
    public func validationLoss() -> Double {
        let ids = Array(corpus.validation.prefix(options.evalCharacters + 1))
        let streams = min(options.batch, max(1, (ids.count - 1) / options.seqLen))
        let batches = LanguageModelBatch.sequential(from: ids, steps: options.seqLen, batch: streams)
        guard !batches.isEmpty else { return .nan }
        return withoutGrad {
            model.eval()
            defer { model.train() }
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

    /// Runs the training loop. Returns the final validation loss.
    @discardableResult
    public func run(progress: Bool = true) throws -> Double {
        try FileManager.default.createDirectory(at: runFolder, withIntermediateDirectories: true)
        let configJSON = try jsonText(model.config)
        try atomicWrite(Data(try jsonText(options).utf8), to: runFolder.appendingPathComponent("options.json"))
        try atomicWrite(Data(configJSON.utf8), to: runFolder.appendingPathComponent("config.json"))
        try atomicWrite(Data(corpus.vocabulary.jsonString().utf8), to: runFolder.appendingPathComponent("vocabulary.json"))
        let log = try RunLog(folder: runFolder, columns: ["step", "seconds", "train_loss", "val_loss", "val_bpc", "tokens_per_second"],
                             plotted: ["train_loss", "val_loss"])

        let parameters = model.parameters()
        _ = ParameterBuffer(parameters)
        let optimizer = Adam(parameters: parameters, learningRate: Float(options.learningRate))
        var generator = RandomGenerator(seed: options.seed)
        let reporter = ProgressReporter(total: options.steps)
        let start = Date()
        var runningLoss = Double.nan
        var tokens = 0
        model.train()
        var step = 0
        while step < options.steps {
            if options.minutes > 0, Date().timeIntervalSince(start) > options.minutes * 60 { break }
            step += 1
            let batch = LanguageModelBatch.random(from: corpus.train, steps: options.seqLen, batch: options.batch, generator: &generator)
            optimizer.zeroGrad()
            let (loss, _) = model.loss(batch)
            let value = Double(loss.item)
            guard value.isFinite else { throw TrainingError.nonFiniteLoss(step: step) }
            loss.backward()
            // Checked before the update, so a NaN never reaches the parameters or a checkpoint.
            let norm = clipGradNorm(parameters, maxNorm: Float(options.clipNorm))
            guard norm.isFinite else { throw TrainingError.nonFiniteGradient(step: step) }
            optimizer.step()
            tokens += options.seqLen * options.batch
            runningLoss = runningLoss.isNaN ? value : 0.98 * runningLoss + 0.02 * value
            let elapsed = Date().timeIntervalSince(start)
            if progress {
                let fraction = options.minutes > 0 ? max(Double(step) / Double(options.steps), elapsed / (options.minutes * 60)) : nil
                reporter.update(step: step, fraction: fraction, loss: runningLoss, tokensPerSecond: Double(tokens) / elapsed,
                                extra: bestValidationLoss.isFinite ? String(format: "val %.3f", bestValidationLoss) : "")
            }
            let timeUp = options.minutes > 0 && elapsed > options.minutes * 60
            if step % options.evalEvery == 0 || step == options.steps || timeUp {
                let validation = validationLoss()
                history.append((step, runningLoss, validation))
                try log.record([Double(step), elapsed, runningLoss, validation, validation / M_LN2, Double(tokens) / elapsed])
                let checkpoint = Checkpoint(tensors: model.stateDict(), config: configJSON, vocabulary: corpus.vocabulary.tokens,
                                            extra: ["task": "charlm", "step": "\(step)", "val_loss": "\(validation)"])
                try checkpoint.save(to: runFolder.appendingPathComponent("last.safetensors"))
                if validation < bestValidationLoss {
                    bestValidationLoss = validation
                    try checkpoint.save(to: runFolder.appendingPathComponent("best.safetensors"))
                }
            }
        }
        if progress { reporter.finish() }
        return history.last?.validationLoss ?? validationLoss()
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

    public var description: String {
        switch self {
        case let .nonFiniteLoss(step):
            "the loss became NaN or infinite at step \(step); the last good checkpoint is kept. Try a lower --lr or --clip-norm."
        case let .nonFiniteGradient(step):
            "the gradients became NaN or infinite at step \(step); the parameters were not updated and the last good checkpoint is kept. Try a lower --lr or --clip-norm."
        }
    }
}
