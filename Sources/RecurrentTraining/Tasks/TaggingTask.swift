import Foundation
import RecurrentData
import RecurrentIO
import RecurrentModels
import RecurrentNN
import RecurrentTensor

/// Sequence labelling, with an optional intent head (`recurrent train tag`): shuffled passes over the
/// training sentences, words seen once replaced by `<unk>` at random (word dropout); the best epoch has
/// the highest validation slot F1 (+ intent accuracy), scored on the test split at the end (test.json).
public final class TaggingTask: TrainingTask {
    public struct Settings: Codable, Equatable, Sendable {
        /// Words seen fewer times than this in training become `<unk>`.
        public var minCount = 1
        /// Probability of replacing a training word seen once with `<unk>` (teaches the `<unk>` vector).
        public var wordDropout = 0.25
        /// The fraction of the validation sentences trained on (`TaggingDataset.movingValidationIntoTraining`), read
        /// by whoever loads the data; 0 in option files written before it existed.
        public var validationIntoTraining = 0.0
        /// The decoding bias against `O` (`SequenceTagger.outsideBias`) stored with the best model; nil: chosen on
        /// the validation split at the end of training (`OutsideBias.tune`). Options written before it: nil.
        public var outsideBias: Double? = nil
        /// The minimum count of a word in the vocabulary, the probability of replacing a word seen once by `<unk>` in
        /// training, the fraction of the validation sentences moved into training, and the bias against `O` (nil:
        /// tuned on validation).
        public init(minCount: Int = 1, wordDropout: Double = 0.25, validationIntoTraining: Double = 0, outsideBias: Double? = nil) {
            self.minCount = minCount
            self.wordDropout = wordDropout
            self.validationIntoTraining = validationIntoTraining
            self.outsideBias = outsideBias
        }

        enum CodingKeys: String, CodingKey { case minCount, wordDropout, validationIntoTraining, outsideBias }

        /// Decodes settings saved by any version: the keys added since (`validationIntoTraining`, `outsideBias`) may be
        /// missing; a fraction outside [0, 1) is refused.
        public init(from decoder: any Swift.Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            minCount = try c.decode(Int.self, forKey: .minCount)
            wordDropout = try c.decode(Double.self, forKey: .wordDropout)
            validationIntoTraining = try c.decodeIfPresent(Double.self, forKey: .validationIntoTraining) ?? 0
            outsideBias = try c.decodeIfPresent(Double.self, forKey: .outsideBias)
            guard validationIntoTraining >= 0, validationIntoTraining < 1 else {
                throw DecodingError.dataCorruptedError(forKey: .validationIntoTraining, in: c,
                                                       debugDescription: "validationIntoTraining must be in [0, 1), got \(validationIntoTraining)")
            }
        }
    }

    /// Up to 30 epochs, stopping after 5 without a better validation score, the rate halved after every 2 (`.plateau`).
    public static let defaultOptions: TrainingOptions = {
        var options = TrainingOptions(schedule: .epochs(30), batch: 32, learningRate: 2e-3, clipNorm: 5)
        options.learningRateSchedule = .plateau
        options.patience = 5
        return options
    }()

    /// The model being trained.
    public let tagger: SequenceTagger
    /// The sentences.
    public let data: TaggingDataset
    /// The word, tag and intent vocabularies.
    public let vocabularies: TaggingVocabularies
    /// The task's settings.
    public let settings: Settings
    public let configJSON: String
    /// Evaluation batch size.
    let evaluationBatch: Int
    /// Word ids seen once in training (word dropout's candidates).
    let singletons: Set<Int>
    /// After `finish` without a fixed bias: the search over biases against `O` on the validation split.
    public private(set) var outsideBiasSearch: OutsideBias.Search?

    /// A task training `model` on `data`, encoded with `vocabularies`.
    /// - Throws: `TrainingError.badOptions` when the word dropout or minimum count is out of range; an error when the model's configuration cannot be encoded as JSON.
    public init(model: SequenceTagger, data: TaggingDataset, vocabularies: TaggingVocabularies, settings: Settings = Settings(),
                evaluationBatch: Int = 64) throws {
        guard settings.wordDropout >= 0, settings.wordDropout < 1, settings.minCount > 0 else {
            throw TrainingError.badOptions("word dropout must be in [0, 1) and the minimum count positive")
        }
        if let bias = settings.outsideBias {
            do { _ = try OutsideBias.validated(bias) } catch { throw TrainingError.badOptions("\(error)") }
        }
        tagger = model
        self.data = data
        self.vocabularies = vocabularies
        self.settings = settings
        self.evaluationBatch = evaluationBatch
        configJSON = try RunFolder.prettyJSON(model.config)
        var counts: [String: Int] = [:]
        for s in data.train { for w in s.tokens { counts[vocabularies.lowercase ? w.lowercased() : w, default: 0] += 1 } }
        singletons = Set(counts.filter { $0.value == 1 }.compactMap { vocabularies.words.id($0.key) }).subtracting([vocabularies.words.unknownId ?? 0])
    }

    public var name: String { "tag" }
    public var model: Module<Float> { tagger }
    public var epochSize: Int? { data.train.count }
    public var vocabulary: [String]? { vocabularies.words.tokens }

    public func makeBatch(_ indices: ArraySlice<Int>, generator: inout RandomGenerator) -> TaggingBatch {
        var batch = TaggingBatch(data.train, indices: Array(indices), vocabularies: vocabularies)
        if settings.wordDropout > 0 {
            let unk = vocabularies.words.unknownId ?? 0
            for i in batch.words.indices where singletons.contains(batch.words[i]) && generator.nextUniform(Double.self) < settings.wordDropout {
                batch.words[i] = unk
            }
        }
        return batch
    }

    /// The whole global batch is built (word dropout draws as one process does), then `rows` are kept.
    public func makeShard(_ indices: ArraySlice<Int>, rows: Range<Int>, generator: inout RandomGenerator) -> TaggingBatch {
        let whole = makeBatch(indices, generator: &generator)
        let mine = Array(indices)[rows]
        var shard = TaggingBatch(data.train, indices: Array(mine), vocabularies: vocabularies)
        for (b, column) in rows.enumerated() {
            for t in 0..<shard.lengths[b] { shard.words[t * shard.batch + b] = whole.words[t * whole.batch + column] }
        }
        return shard
    }

    /// The tags' mean loss, plus the intents' with an intent head (two terms, for data-parallel weighing).
    public func loss(_ batch: TaggingBatch, at position: RunPosition, generator: inout RandomGenerator) -> TaskLoss {
        TaskLoss(terms: tagger.lossTerms(batch), tokens: batch.lengths.reduce(0, +))
    }

    public func evaluate() -> TaggingEvaluation { evaluate(data.validation) }

    /// Each process tags its part of the validation batches; the tag paths, intents and losses are gathered.
    public func evaluate(_ shard: EvaluationShard) throws -> TaggingEvaluation {
        let sentences = data.validation
        let part = TaggingEvaluation.predictions(tagger, sentences, vocabularies: vocabularies, batch: evaluationBatch, part: shard.range(of:))
        // Every token's tag id and every sentence's intent id (+1, so that 0 means "not mine"), placed by position.
        let offsets = sentences.reduce(into: [0]) { $0.append($0.last! + $1.tokens.count) }
        var tags = [Double](repeating: 0, count: offsets.last!), intents = [Double](repeating: 0, count: sentences.count)
        for (k, i) in part.sentences.enumerated() {
            for (t, tag) in part.paths[k].enumerated() { tags[offsets[i] + t] = Double(tag + 1) }
            if let guessed = part.intents?[k] { intents[i] = Double(guessed + 1) }
        }
        let all = try shard.sum(tags + intents + [part.lossSum, Double(part.lossBatches)])
        let paths = sentences.indices.map { i in all[offsets[i]..<offsets[i + 1]].map { Int($0) - 1 } }
        let guessedIntents = tagger.intentHead == nil ? nil : all[offsets.last!..<(offsets.last! + sentences.count)].map { Int($0) - 1 }
        return TaggingEvaluation.score(sentences, paths: paths, intents: guessedIntents, lossSum: all[all.count - 2],
                                       lossBatches: Int(all[all.count - 1]), vocabularies: vocabularies, hasIntentHead: tagger.intentHead != nil)
    }

    func evaluate(_ sentences: [TaggedSentence]) -> TaggingEvaluation {
        TaggingEvaluation.evaluate(tagger, sentences, vocabularies: vocabularies, batch: evaluationBatch)
    }

    public func isBetter(_ e: TaggingEvaluation, than best: TaggingEvaluation) -> Bool { e.score > best.score }
    public func summary(_ e: TaggingEvaluation) -> String { String(format: "val F1 %.3f", e.chunks.f1) }

    public let metricsColumns = ["epoch", "step", "seconds", "train_loss", "val_loss", "val_precision", "val_recall",
                                 "val_f1", "val_intent_accuracy", "tokens_per_second", "clipped"]
    public let plottedColumns = ["train_loss", "val_loss"]

    public func metricsRow(_ r: RoundSummary, _ e: TaggingEvaluation) -> [Double] {
        [Double(r.position.epoch), Double(r.position.step), r.seconds, r.window.meanLoss, e.loss, e.chunks.precision,
         e.chunks.recall, e.chunks.f1, e.intentAccuracy ?? .nan, r.tokensPerSecond, Double(r.window.clipped)]
    }

    public func checkpointFields(_ position: RunPosition, _ e: TaggingEvaluation?) -> [String: String] {
        var fields = ["task": name, "epoch": "\(position.epoch)", "step": "\(position.step)", "tags": vocabularies.tags.jsonString()]
        if let intents = vocabularies.intents { fields["intents"] = intents.jsonString() }
        if let characters = vocabularies.characters { fields["characters"] = characters.jsonString() }
        if let e {
            fields["val_f1"] = "\(e.chunks.f1)"
            if let a = e.intentAccuracy { fields["val_intent_accuracy"] = "\(a)" }
        }
        return fields
    }

    public func runFiles() throws -> [String: Data] { ["vocabulary.json": Data(vocabularies.jsonString().utf8)] }

    public func checkResumable(_ checkpoint: Checkpoint) throws {
        guard checkpoint.vocabulary == vocabularies.words.tokens, checkpoint.extra["tags"] == vocabularies.tags.jsonString(),
              checkpoint.extra["intents"] == vocabularies.intents?.jsonString(),
              checkpoint.extra["characters"] == vocabularies.characters?.jsonString() else {
            throw TrainingError.cannotResume("the data's words, tags or intents differ from the checkpoint's: resume on the same data with the same minimum count")
        }
    }

    public var streams: [String: RandomGenerator] {
        get {
            var streams = ["dropout": tagger.dropout.generator, "rnn_dropout": tagger.rnn.dropoutGenerator]
            if let cnn = tagger.characterCNN { streams["character_dropout"] = cnn.dropout.generator }
            return streams
        }
        set {
            tagger.dropout.generator = newValue["dropout"]!
            tagger.rnn.dropoutGenerator = newValue["rnn_dropout"]!
            if let cnn = tagger.characterCNN, let g = newValue["character_dropout"] { cnn.dropout.generator = g }
        }
    }

    public func finish(_ history: [RoundRecord<TaggingEvaluation>], best: RoundRecord<TaggingEvaluation>?, in folder: RunFolder,
                       seconds: Double) throws -> TaggingEvaluation {
        // The best weights are in the model: choose the bias against O on validation, store it with them.
        if let fixed = settings.outsideBias {
            tagger.outsideBias = Float(fixed)
        } else if !data.validation.isEmpty {
            let search = OutsideBias.tune(tagger, data.validation, vocabularies: vocabularies, batch: evaluationBatch)
            (tagger.outsideBias, outsideBiasSearch) = (search.bias, search)
        }
        if FileManager.default.fileExists(atPath: folder.best.path) { try OutsideBias.store(tagger.outsideBias, in: folder.best) }
        let test = evaluate(data.test)
        var object = test.json()
        object["o_bias"] = Double(tagger.outsideBias)
        if let search = outsideBiasSearch {
            object["o_bias_validation_f1"] = Dictionary(uniqueKeysWithValues: search.scores.map { ("\($0.bias)", $0.f1) })
        }
        object["epoch_of_best"] = best?.epoch ?? 0
        object["seconds"] = seconds
        try folder.write(try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys]), to: "test.json")
        return test
    }
}
