import Foundation
import RecurrentData
import RecurrentIO
import RecurrentNN
import RecurrentTensor

/// Options of `recurrent train tag`.
public struct SequenceTaggerTrainingOptions: Codable, Sendable {
    public var epochs = 8
    public var batch = 32
    public var learningRate = 2e-3
    /// Global-norm clipping threshold (0: off).
    public var clipNorm = 5.0
    /// Optimizer, momentum, weight decay and element-wise clipping.
    public var update = UpdateRule()
    /// Words seen fewer times than this in training become `<unk>`.
    public var minCount = 1
    /// Probability of replacing a training word seen once with `<unk>` (teaches the `<unk>` vector).
    public var wordDropout = 0.25
    /// Stop each epoch after this many batches (0: the whole training split); for quick checks.
    public var maxBatchesPerEpoch = 0
    /// Stop after this many batches in all (0: no limit). The epoch cut short is still evaluated and
    /// checkpointed; a resumed run continues at the next epoch.
    public var maxSteps = 0
    public var seed: UInt64 = 1
    public init() {}

    /// Checks options read from a run folder's options.json before they drive the loop.
    public func validate() throws {
        guard epochs > 0, batch > 0, minCount > 0, maxSteps >= 0, maxBatchesPerEpoch >= 0, wordDropout >= 0, wordDropout < 1, learningRate > 0, learningRate.isFinite, clipNorm >= 0, clipNorm.isFinite else {
            throw TrainingError.badOptions("options.json has an out-of-range value (epochs, batch, learningRate, clipNorm…)")
        }
        try update.validate()
    }

}

/// One epoch of a tagger's training: mean training loss and validation scores.
public struct TaggerEpochRecord: Codable, Sendable {
    public var epoch: Int
    public var trainLoss: Double
    public var validation: TaggingEvaluation
}

/// Scores of a tagger on a split: mean loss, conlleval chunk scores and intent accuracy.
public struct TaggingEvaluation: Codable, Sendable {
    public var loss: Double
    public var chunks: ChunkScore
    /// nil when the model has no intent head.
    public var intentAccuracy: Double?

    /// What model selection maximises: slot F1, plus intent accuracy for joint models.
    public var score: Double { chunks.f1 + (intentAccuracy ?? 0) }

    public var summary: String {
        let intent = intentAccuracy.map { String(format: ", intent accuracy %.4f", $0) } ?? ""
        return String(format: "loss %.4f, entity precision %.4f, recall %.4f, F1 %.4f", loss, chunks.precision, chunks.recall, chunks.f1) + intent
    }

    public func json() -> [String: Any] {
        var object: [String: Any] = ["loss": loss, "precision": chunks.precision, "recall": chunks.recall, "f1": chunks.f1,
                                     "token_accuracy": chunks.tokenAccuracy, "chunks_guessed": chunks.guessed,
                                     "chunks_gold": chunks.gold, "chunks_correct": chunks.correct]
        if let intentAccuracy { object["intent_accuracy"] = intentAccuracy }
        return object
    }
}

/// Trains a `SequenceTagger` with Adam and global-norm clipping, one pass over the shuffled training
/// split per epoch, evaluating on the validation split after each epoch; writes config.json,
/// options.json, vocabulary.json (words, tags, intents), metrics.csv and the best and last
/// checkpoints into the run folder, then scores the best model on the test split (test.json).
/// `last.safetensors` also holds the optimizer state, the generators and the history, so
/// `run(resume: true)` continues after the last completed epoch bit-identically.
public final class SequenceTaggerTrainer {
    public let model: SequenceTagger
    public let data: TaggingDataset
    public let vocabularies: TaggingVocabularies
    public let options: SequenceTaggerTrainingOptions
    public let runFolder: URL
    /// Polled before every step; when it returns true the run stops there and throws
    /// `TrainingError.stopped` (the epoch in progress is lost; `last.safetensors` holds the ones before).
    /// The CLI wires it to `StopSignal` for SIGINT/SIGTERM.
    public var stopRequested: () -> Bool = { false }
    /// What a batch with a NaN or infinite loss or gradient does: stop the run (default) or be skipped.
    public var onNonFinite = NonFinitePolicy.stop
    public private(set) var bestScore = -Double.infinity
    public private(set) var history: [TaggerEpochRecord] = []
    /// Mean training loss of each batch, in order (of this call of `run`).
    public private(set) var batchLosses: [Double] = []

    public init(model: SequenceTagger, data: TaggingDataset, vocabularies: TaggingVocabularies,
                options: SequenceTaggerTrainingOptions, runFolder: URL) {
        self.model = model
        self.data = data
        self.vocabularies = vocabularies
        self.options = options
        self.runFolder = runFolder
    }

    /// Loss, conlleval scores and intent accuracy of the model (eval mode) on `sentences`.
    public func evaluate(_ sentences: [TaggedSentence]) -> TaggingEvaluation {
        Self.evaluate(model, sentences, vocabularies: vocabularies, batch: max(options.batch, 64))
    }

    public static func evaluate(_ model: SequenceTagger, _ sentences: [TaggedSentence], vocabularies: TaggingVocabularies, batch: Int = 64) -> TaggingEvaluation {
        var chunks = ChunkScore()
        var totalLoss = 0.0, lossBatches = 0
        var goldIntents: [String] = [], guessedIntents: [String] = []
        withoutGrad {
            model.eval()
            defer { model.train() }
            for b in TaggingBatch.sequential(sentences, batch: batch, vocabularies: vocabularies) {
                if b.tags.contains(where: { $0 != TaggingBatch.ignoreIndex }) {
                    totalLoss += Double(model.loss(b).item)
                    lossBatches += 1
                }
                let (paths, intents) = model.predict(b, constrainedBy: vocabularies.tags)
                for (k, i) in b.indices.enumerated() {
                    chunks.add(gold: sentences[i].tags, guessed: paths[k].map { vocabularies.tags.tokens[$0] })
                    if let intents, let gold = sentences[i].intent, let v = vocabularies.intents {
                        goldIntents.append(gold)
                        guessedIntents.append(v.tokens[intents[k]])
                    }
                }
            }
        }
        let intentAccuracy = model.intentHead == nil ? nil : accuracy(gold: goldIntents, guessed: guessedIntents)
        return TaggingEvaluation(loss: lossBatches > 0 ? totalLoss / Double(lossBatches) : .nan, chunks: chunks, intentAccuracy: intentAccuracy)
    }

    /// Names of the generators `last.safetensors` keeps: data order and word dropout, dropout on features, dropout between layers.
    static let generatorNames = ["order", "dropout", "rnn_dropout"]

    /// Runs the training loop. Returns the best model's scores on the test split (the best model stays loaded).
    /// - Parameter resume: continue from the run folder's `last.safetensors` (weights, optimizer state,
    ///   generators, history), giving the numbers an uninterrupted run with the same seed gives.
    @discardableResult
    public func run(progress: Bool = true, resume: Bool = false) throws -> TaggingEvaluation {
        try FileManager.default.createDirectory(at: runFolder, withIntermediateDirectories: true)
        let configJSON = try jsonText(model.config)
        let parameters = model.parameters()
        _ = ParameterBuffer(parameters)
        let optimizer = options.update.makeOptimizer(parameters, learningRate: options.learningRate)
        var generator = RandomGenerator(seed: options.seed)
        var position = ResumeState()
        var best: [String: Tensor<Float>]? = nil
        var previousRows: [[Double]] = []
        if resume {
            let resumed = try ResumedEpochRun<TaggerEpochRecord>(
                runFolder: runFolder, task: "tag", configJSON: configJSON, model: model, optimizer: optimizer,
                generatorNames: Self.generatorNames, secondsColumn: 2
            ) { checkpoint in
                guard checkpoint.vocabulary == vocabularies.words.tokens, checkpoint.extra["tags"] == vocabularies.tags.jsonString(),
                      checkpoint.extra["intents"] == vocabularies.intents?.jsonString() else {
                    throw TrainingError.cannotResume("the data's words, tags or intents differ from the checkpoint's: resume with the same --data and --min-count")
                }
            }
            (position, history, previousRows, best) = (resumed.position, resumed.history, resumed.previousRows, resumed.bestWeights)
            generator = position.generators["order"]!
            model.dropout.generator = position.generators["dropout"]!
            model.rnn.dropoutGenerator = position.generators["rnn_dropout"]!
            bestScore = history.map(\.validation.score).max() ?? -.infinity
        }
        try atomicWrite(Data(try jsonText(options).utf8), to: runFolder.appendingPathComponent("options.json"))
        try atomicWrite(Data(configJSON.utf8), to: runFolder.appendingPathComponent("config.json"))
        try atomicWrite(Data(vocabularies.jsonString().utf8), to: runFolder.appendingPathComponent("vocabulary.json"))
        let log = try RunLog(folder: runFolder, columns: ["epoch", "step", "seconds", "train_loss", "val_loss", "val_precision", "val_recall",
                                                          "val_f1", "val_intent_accuracy", "tokens_per_second", "clipped"], plotted: ["train_loss", "val_loss"],
                             previousRows: previousRows)

        let unk = vocabularies.words.unknownId ?? 0
        var counts: [String: Int] = [:]
        for s in data.train { for w in s.tokens { counts[w, default: 0] += 1 } }
        let singletons = Set(counts.filter { $0.value == 1 }.compactMap { vocabularies.words.id($0.key) }).subtracting([unk])

        let train = data.train
        let batchesPerEpoch = (train.count + options.batch - 1) / options.batch
        let perEpoch = options.maxBatchesPerEpoch > 0 ? min(options.maxBatchesPerEpoch, batchesPerEpoch) : batchesPerEpoch
        let totalSteps = options.maxSteps > 0 ? min(options.maxSteps, options.epochs * perEpoch) : options.epochs * perEpoch
        let reporter = ProgressReporter(total: totalSteps)
        let start = Date().addingTimeInterval(-position.seconds)
        var step = position.step, tokens = position.tokens
        var runningLoss = Double.nan
        model.train()
        var nonFinite = NonFiniteGuard(policy: onNonFinite)
        for epoch in stride(from: position.epoch + 1, through: options.epochs, by: 1) {
            if step >= totalSteps { break }
            var order = Array(train.indices)
            order.shuffle(using: &generator)
            var epochLoss = 0.0, batches = 0
            var clipped = 0   // updates clipping changed in this epoch
            for k in 0..<perEpoch {
                if step >= totalSteps { break }
                if stopRequested() { throw TrainingError.stopped(epoch: epoch) }
                step += 1
                let indices = Array(order[(k * options.batch)..<min((k + 1) * options.batch, order.count)])
                var batch = TaggingBatch(train, indices: indices, vocabularies: vocabularies)
                if options.wordDropout > 0 {
                    for i in batch.words.indices where singletons.contains(batch.words[i]) && generator.nextUniform(Double.self) < options.wordDropout {
                        batch.words[i] = unk
                    }
                }
                optimizer.zeroGrad()
                let loss = model.loss(batch)
                guard let outcome = try nonFinite.update(loss: loss, optimizer: optimizer, clipNorm: options.clipNorm, clipValue: options.update.clipValue, step: step) else { continue }
                let value = outcome.loss
                if outcome.clipped { clipped += 1 }
                batchLosses.append(value)
                epochLoss += value
                batches += 1
                tokens += batch.lengths.reduce(0, +)
                runningLoss = runningLoss.isNaN ? value : 0.98 * runningLoss + 0.02 * value
                if progress {
                    reporter.update(step: step, loss: runningLoss, tokensPerSecond: Double(tokens) / Date().timeIntervalSince(start),
                                    extra: "epoch \(epoch)/\(options.epochs)" + (history.last.map { String(format: "  val F1 %.3f", $0.validation.chunks.f1) } ?? ""))
                }
            }
            let validation = evaluate(data.validation)
            let trainLoss = epochLoss / Double(batches)
            history.append(TaggerEpochRecord(epoch: epoch, trainLoss: trainLoss, validation: validation))
            let elapsed = Date().timeIntervalSince(start)
            try log.record([Double(epoch), Double(step), elapsed, trainLoss, validation.loss, validation.chunks.precision,
                            validation.chunks.recall, validation.chunks.f1, validation.intentAccuracy ?? .nan, Double(tokens) / elapsed, Double(clipped)])
            var extra = ["task": "tag", "epoch": "\(epoch)", "step": "\(step)", "val_f1": "\(validation.chunks.f1)",
                         "tags": vocabularies.tags.jsonString()]
            if let intents = vocabularies.intents { extra["intents"] = intents.jsonString() }
            if let a = validation.intentAccuracy { extra["val_intent_accuracy"] = "\(a)" }
            let checkpoint = Checkpoint(tensors: model.stateDict(), config: configJSON, vocabulary: vocabularies.words.tokens, extra: extra)
            // best before last: an interruption between the two repeats this epoch, which rewrites best identically.
            if validation.score > bestScore {
                bestScore = validation.score
                try checkpoint.save(to: runFolder.appendingPathComponent("best.safetensors"))
                best = checkpoint.tensors
            }
            (position.epoch, position.step, position.tokens, position.seconds) = (epoch, step, tokens, elapsed)
            position.generators = ["order": generator, "dropout": model.dropout.generator, "rnn_dropout": model.rnn.dropoutGenerator]
            position.history = try ResumeState.json(history)
            try position.saveLast(checkpoint, optimizer: optimizer, in: runFolder)
        }
        if progress { reporter.finish() }
        if let best { try model.loadParameters(best) }
        let test = evaluate(data.test)
        var object = test.json()
        object["epoch_of_best"] = history.max { $0.validation.score < $1.validation.score }?.epoch ?? 0
        object["seconds"] = Date().timeIntervalSince(start)
        let json = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        try atomicWrite(json, to: runFolder.appendingPathComponent("test.json"))
        return test
    }

    func jsonText<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
