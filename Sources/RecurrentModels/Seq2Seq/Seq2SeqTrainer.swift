import Foundation
import RecurrentData
import RecurrentIO
import RecurrentNN
import RecurrentTensor

/// Options of `recurrent train translate`.
public struct Seq2SeqTrainingOptions: Codable, Sendable {
    public var epochs = 10
    public var batch = 64
    public var learningRate = 2e-3
    /// Global-norm clipping threshold (0: off).
    public var clipNorm = 5.0
    /// Optimizer, momentum, weight decay and element-wise clipping.
    public var update = UpdateRule()
    /// constant, or cosine: decays from `learningRate` to 0 over the run (CosineAnnealingLR).
    public var learningRateSchedule = "constant"
    /// Teacher-forcing ratio at the first step; with `teacherForcingEnd` below it, the ratio decays
    /// linearly to `teacherForcingEnd` at the last step (scheduled sampling).
    public var teacherForcing = 1.0
    public var teacherForcingEnd: Double? = nil
    /// Longest output when decoding for evaluation (tokens, `</s>` included).
    public var maxDecodeLength = 60
    /// Stop each epoch after this many batches (0: the whole training split); for quick checks.
    public var maxBatchesPerEpoch = 0
    public var seed: UInt64 = 1
    /// Words seen fewer times in training become `<unk>` (recorded so a resumed run rebuilds the same vocabularies).
    public var minCount = 1
    public init() {}

    /// Checks options read from a run folder's options.json before they drive the loop.
    public func validate() throws {
        guard epochs > 0, batch > 0, learningRate > 0, learningRate.isFinite, clipNorm >= 0, clipNorm.isFinite, maxDecodeLength > 0,
              maxBatchesPerEpoch >= 0, minCount > 0, ["constant", "cosine"].contains(learningRateSchedule),
              (0...1).contains(teacherForcing), (0...1).contains(teacherForcingEnd ?? 0) else {
            throw TrainingError.badOptions("options.json has an out-of-range value (epochs, batch, learningRate, clipNorm, teacherForcing…)")
        }
        try update.validate()
    }

    /// The teacher-forcing ratio at `step` of `totalSteps` (1-based).
    public func teacherForcingRatio(step: Int, totalSteps: Int) -> Double {
        guard let end = teacherForcingEnd, totalSteps > 1 else { return teacherForcing }
        let progress = Double(step - 1) / Double(totalSteps - 1)
        return teacherForcing + (end - teacherForcing) * progress
    }
}

/// Scores of a translation model on a split: teacher-forced loss, corpus BLEU against every
/// reference of each distinct source, and exact match (the output equals one of the references).
public struct TranslationEvaluation: Codable, Sendable {
    public var loss: Double
    public var bleu: BLEU
    public var exactMatch: Double
    public var sentences: Int
    /// The distinct sources, their outputs and references, in evaluation order.
    public var sources: [[String]] = []
    public var outputs: [[String]] = []

    /// The scores only (a run's history keeps no sentences).
    private enum CodingKeys: String, CodingKey { case loss, bleu, exactMatch, sentences }

    public var summary: String {
        String(format: "loss %.4f, BLEU %.2f, exact match %.4f (%d sentences)", loss, bleu.score, exactMatch, sentences)
    }

    public func json() -> [String: Any] {
        ["loss": loss, "bleu": bleu.score, "bleu_precisions": bleu.precisions, "brevity_penalty": bleu.brevityPenalty,
         "hypothesis_length": bleu.hypothesisLength, "reference_length": bleu.referenceLength, "exact_match": exactMatch, "sentences": sentences]
    }
}

/// One epoch of a translation run: the mean training loss and the validation scores (greedy decoding).
public struct TranslationEpochRecord: Codable, Sendable {
    public var epoch: Int
    public var trainLoss: Double
    public var validation: TranslationEvaluation

    /// What picks the best epoch: validation BLEU, exact match breaking ties (BLEU is 0 for every output shorter than 4 tokens).
    var selectionScore: Double { validation.bleu.score + validation.exactMatch * 1e-3 }
}

/// Trains a `Seq2Seq` with Adam (or another `UpdateRule`) and global-norm clipping (teacher forcing, optionally scheduled
/// sampling), evaluating validation BLEU (greedy) after each epoch; writes config.json,
/// options.json, vocabulary.json, metrics.csv and the best and last checkpoints into the run folder,
/// then scores the best model on the test split (test.json). `last.safetensors` also holds the optimizer
/// state, the generators and the history, so `run(resume: true)` continues a stopped run exactly.
public final class Seq2SeqTrainer {
    public let model: Seq2Seq<Float>
    public let data: ParallelCorpus
    public let vocabularies: Seq2SeqVocabularies
    public let options: Seq2SeqTrainingOptions
    public let runFolder: URL
    /// Extra checkpoint fields describing the data (split seed, filters, synthetic task), for `eval translate`.
    public var dataDescription: [String: String] = [:]
    public private(set) var bestBLEU = -Double.infinity
    public private(set) var history: [TranslationEpochRecord] = []
    /// Losses of the updates of this process (a resumed run starts empty).
    public private(set) var batchLosses: [Double] = []
    /// Polled between steps (SIGINT/SIGTERM from the CLI): a stop ends the run with `TrainingError.stopped`,
    /// the completed epochs saved for `run(resume: true)`.
    public var stopRequested: () -> Bool = { false }
    /// What a NaN or infinite loss or gradient does: stop the run, or skip that update.
    public var onNonFinite = NonFinitePolicy.stop

    public init(model: Seq2Seq<Float>, data: ParallelCorpus, vocabularies: Seq2SeqVocabularies, options: Seq2SeqTrainingOptions, runFolder: URL) {
        self.model = model
        self.data = data
        self.vocabularies = vocabularies
        self.options = options
        self.runFolder = runFolder
    }

    /// Scores `model` on `pairs`: distinct sources are translated (greedy when `beam` is 1, beam search
    /// otherwise) and compared with all their references.
    public static func evaluate(_ model: Seq2Seq<Float>, _ pairs: [SentencePair], vocabularies: Seq2SeqVocabularies, beam: Int = 1,
                                lengthPenalty: Double = 0, maxLength: Int = 60, batch: Int = 64) -> TranslationEvaluation {
        var order: [[String]] = []
        var references: [[String]: [[String]]] = [:]
        for p in pairs {
            if references[p.source] == nil { order.append(p.source) }
            references[p.source, default: []].append(p.target)
        }
        var totalLoss = 0.0, lossTokens = 0
        withoutGrad {
            model.eval()
            defer { model.train() }
            for start in stride(from: 0, to: pairs.count, by: batch) {
                let b = Seq2SeqBatch(pairs, indices: Array(start..<min(start + batch, pairs.count)), vocabularies: vocabularies)
                let tokens = b.targetLengths.reduce(0, +)
                totalLoss += Double(model.loss(b).item) * Double(tokens)
                lossTokens += tokens
            }
        }
        let outputs = translate(model, order, vocabularies: vocabularies, beam: beam, lengthPenalty: lengthPenalty, maxLength: maxLength, batch: batch)
            .map { vocabularies.targetTokens($0.ids) }
        let refs = order.map { references[$0]! }
        let exact = zip(outputs, refs).filter { o, r in r.contains(o) }.count
        var evaluation = TranslationEvaluation(loss: lossTokens > 0 ? totalLoss / Double(lossTokens) : .nan,
                                               bleu: BLEU.corpus(hypotheses: outputs, references: refs),
                                               exactMatch: order.isEmpty ? 0 : Double(exact) / Double(order.count), sentences: order.count)
        evaluation.sources = order
        evaluation.outputs = outputs
        return evaluation
    }

    /// Translations of tokenized sources (each non-empty), in order, `batch` sentences at a time: batched
    /// greedy decoding when `beam` is 1, batched beam search otherwise.
    public static func translate(_ model: Seq2Seq<Float>, _ sources: [[String]], vocabularies: Seq2SeqVocabularies, beam: Int = 1,
                                 lengthPenalty: Double = 0, maxLength: Int = 60, batch: Int = 64) -> [Translation] {
        let ids = sources.map { s in s.map { vocabularies.source.id($0) ?? 1 } }
        var results: [Translation] = []
        if beam > 1 {
            for start in stride(from: 0, to: ids.count, by: batch) {
                let chunk = Array(ids[start..<min(start + batch, ids.count)])
                results += model.beamSearch(chunk, beamWidth: beam, maxLength: maxLength, lengthPenalty: lengthPenalty).map { $0[0] }
            }
            return results
        }
        var unused = RandomGenerator(seed: 0)
        for start in stride(from: 0, to: ids.count, by: batch) {
            let chunk = Array(ids[start..<min(start + batch, ids.count)])
            let b = Seq2SeqBatch(sources: chunk, targets: chunk.map { _ in [] }, bos: vocabularies.bosId, eos: vocabularies.eosId)
            results += model.decode(b.source, steps: b.sourceSteps, batch: b.batch, lengths: b.sourceLengths, maxLength: maxLength, generator: &unused)
        }
        return results
    }

    /// Names of the generators `last.safetensors` keeps: data order and teacher forcing, and the three dropouts.
    static let generatorNames = ["order", "encoder_dropout", "encoder_rnn_dropout", "decoder_dropout"]

    /// Runs the training loop. Returns the best model's scores on the test split (the best model stays loaded).
    /// - Parameter resume: continue from the run folder's `last.safetensors` (weights, optimizer state,
    ///   generators, history) after its last completed epoch, giving the numbers an uninterrupted run gives.
    @discardableResult
    public func run(progress: Bool = true, resume: Bool = false) throws -> TranslationEvaluation {
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
            let resumed = try ResumedEpochRun<TranslationEpochRecord>(
                runFolder: runFolder, task: "translate", configJSON: configJSON, model: model, optimizer: optimizer,
                generatorNames: Self.generatorNames, secondsColumn: 2
            ) { checkpoint in
                guard checkpoint.vocabulary == vocabularies.source.tokens, checkpoint.extra["target_vocabulary"] == vocabularies.target.jsonString() else {
                    throw TrainingError.cannotResume("the data's vocabularies differ from the checkpoint's: resume on the same pairs")
                }
            }
            (position, history, previousRows, best) = (resumed.position, resumed.history, resumed.previousRows, resumed.bestWeights)
            generator = position.generators["order"]!
            model.encoder.dropout.generator = position.generators["encoder_dropout"]!
            model.encoder.rnn.dropoutGenerator = position.generators["encoder_rnn_dropout"]!
            model.decoder.dropout.generator = position.generators["decoder_dropout"]!
            bestBLEU = history.map(\.selectionScore).max() ?? -.infinity
        }
        try atomicWrite(Data(try jsonText(options).utf8), to: runFolder.appendingPathComponent("options.json"))
        try atomicWrite(Data(configJSON.utf8), to: runFolder.appendingPathComponent("config.json"))
        let vocabularyJSON = "{\"source\": \(vocabularies.source.jsonString()), \"target\": \(vocabularies.target.jsonString())}"
        try atomicWrite(Data(vocabularyJSON.utf8), to: runFolder.appendingPathComponent("vocabulary.json"))
        let log = try RunLog(folder: runFolder, columns: ["epoch", "step", "seconds", "train_loss", "val_loss", "val_bleu", "val_exact_match",
                                                          "teacher_forcing", "tokens_per_second", "clipped"], plotted: ["train_loss", "val_loss"],
                             previousRows: previousRows)
        let train = data.train
        let batchesPerEpoch = (train.count + options.batch - 1) / options.batch
        let perEpoch = options.maxBatchesPerEpoch > 0 ? min(options.maxBatchesPerEpoch, batchesPerEpoch) : batchesPerEpoch
        let totalSteps = options.epochs * perEpoch
        let reporter = ProgressReporter(total: totalSteps)
        let start = Date().addingTimeInterval(-position.seconds)
        var step = position.step, tokens = position.tokens
        var runningLoss = Double.nan, ratio = options.teacherForcing
        var nonFinite = NonFiniteGuard(policy: onNonFinite)
        model.train()
        for epoch in stride(from: position.epoch + 1, through: options.epochs, by: 1) {
            var order = Array(train.indices)
            order.shuffle(using: &generator)
            var epochLoss = 0.0, updates = 0
            var clipped = 0   // updates clipping changed in this epoch
            for k in 0..<perEpoch {
                if stopRequested() { throw TrainingError.stopped(epoch: epoch) }
                step += 1
                let indices = Array(order[(k * options.batch)..<min((k + 1) * options.batch, order.count)])
                let batch = Seq2SeqBatch(train, indices: indices, vocabularies: vocabularies)
                ratio = options.teacherForcingRatio(step: step, totalSteps: totalSteps)
                if options.learningRateSchedule == "cosine" {
                    optimizer.learningRate = Float(CosineSchedule(base: options.learningRate, tMax: totalSteps).learningRate(at: step - 1))
                }
                optimizer.zeroGrad()
                let loss = model.loss(batch, teacherForcing: ratio, generator: &generator)
                tokens += batch.targetLengths.reduce(0, +)
                guard let outcome = try nonFinite.update(loss: loss, optimizer: optimizer, clipNorm: options.clipNorm,
                                                         clipValue: options.update.clipValue, step: step) else { continue }
                let value = outcome.loss
                if outcome.clipped { clipped += 1 }
                batchLosses.append(value)
                epochLoss += value
                updates += 1
                runningLoss = runningLoss.isNaN ? value : 0.98 * runningLoss + 0.02 * value
                if progress {
                    reporter.update(step: step, loss: runningLoss, tokensPerSecond: Double(tokens) / Date().timeIntervalSince(start),
                                    extra: "epoch \(epoch)/\(options.epochs)" + (history.last.map { String(format: "  val BLEU %.2f", $0.validation.bleu.score) } ?? ""))
                }
            }
            let validation = Self.evaluate(model, data.validation, vocabularies: vocabularies, maxLength: options.maxDecodeLength)
            let trainLoss = updates > 0 ? epochLoss / Double(updates) : .nan
            let elapsed = Date().timeIntervalSince(start)
            let record = TranslationEpochRecord(epoch: epoch, trainLoss: trainLoss, validation: validation)
            history.append(record)
            try log.record([Double(epoch), Double(step), elapsed, trainLoss, validation.loss, validation.bleu.score, validation.exactMatch,
                            ratio, Double(tokens) / elapsed, Double(clipped)])
            var extra = dataDescription
            extra["task"] = "translate"
            extra["epoch"] = "\(epoch)"
            extra["step"] = "\(step)"
            extra["val_bleu"] = "\(validation.bleu.score)"
            extra["target_vocabulary"] = vocabularies.target.jsonString()
            let checkpoint = Checkpoint(tensors: model.stateDict(), config: configJSON, vocabulary: vocabularies.source.tokens, extra: extra)
            // best before last: an interruption between the two repeats this epoch, which rewrites best identically.
            if record.selectionScore > bestBLEU {
                bestBLEU = record.selectionScore
                try checkpoint.save(to: runFolder.appendingPathComponent("best.safetensors"))
                best = model.stateDict()
            }
            (position.epoch, position.step, position.tokens, position.seconds) = (epoch, step, tokens, elapsed)
            position.generators = ["order": generator, "encoder_dropout": model.encoder.dropout.generator,
                                   "encoder_rnn_dropout": model.encoder.rnn.dropoutGenerator, "decoder_dropout": model.decoder.dropout.generator]
            position.history = try ResumeState.json(history)
            try position.saveLast(checkpoint, optimizer: optimizer, in: runFolder)
        }
        if progress { reporter.finish() }
        if let best { try model.loadParameters(best) }
        let test = Self.evaluate(model, data.test, vocabularies: vocabularies, maxLength: options.maxDecodeLength)
        var object = test.json()
        object["epoch_of_best"] = history.max { $0.selectionScore < $1.selectionScore }?.epoch ?? 0
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

extension Seq2Seq where Scalar == Float {
    /// Loads a checkpoint written by `Seq2SeqTrainer`, validating everything that came from the file.
    /// - Returns: the model, its vocabularies, and the checkpoint's extra fields (data description).
    public static func load(from url: URL) throws -> (model: Seq2Seq<Float>, vocabularies: Seq2SeqVocabularies, extra: [String: String]) {
        try load(checkpoint: Checkpoint.load(from: url))
    }

    /// `load(from:)` for a checkpoint already read.
    public static func load(checkpoint: Checkpoint) throws -> (model: Seq2Seq<Float>, vocabularies: Seq2SeqVocabularies, extra: [String: String]) {
        let task = checkpoint.extra["task"] ?? "unknown"
        guard task == "translate" else { throw ModelError.wrongTask(expected: "translate", found: task) }
        let config: Seq2SeqConfig
        do { config = try checkpoint.decodeConfig(Seq2SeqConfig.self) } catch {
            throw ModelError.badConfig("the config is not a sequence-to-sequence config (\(error))")
        }
        try config.validate()
        guard let tokens = checkpoint.vocabulary else { throw ModelError.badConfig("the checkpoint has no source vocabulary") }
        let vocabularies: Seq2SeqVocabularies
        do {
            vocabularies = try Seq2SeqVocabularies(source: Vocabulary(tokens: tokens),
                                                   target: Vocabulary(jsonString: checkpoint.extra["target_vocabulary"] ?? ""))
        } catch {
            throw ModelError.badConfig("the checkpoint's vocabularies are not usable: \(error)")
        }
        guard vocabularies.source.count == config.sourceVocabularySize, vocabularies.target.count == config.targetVocabularySize else {
            throw ModelError.badConfig("the vocabularies (\(vocabularies.source.count) source, \(vocabularies.target.count) target tokens) do not match the config (\(config.sourceVocabularySize), \(config.targetVocabularySize))")
        }
        if let bad = checkpoint.nonFiniteTensorNames.first { throw ModelError.nonFiniteParameters(bad) }
        try checkpoint.requireParameters(atLeast: config.minimumParameterCount)
        let model = Seq2Seq<Float>(config, seed: 0)
        try model.loadParameters(checkpoint.tensors)
        return (model, vocabularies, checkpoint.extra)
    }
}
