import Foundation
import RecurrentData
import RecurrentIO
import RecurrentModels
import RecurrentNN
import RecurrentTensor

/// Encoder–decoder translation (`recurrent train translate`): shuffled passes over the training pairs
/// with teacher forcing (optionally decaying: scheduled sampling); the best epoch has the highest
/// validation BLEU (greedy decoding; exact match breaks ties), scored on the test split at the end (test.json).
public final class TranslationTask: TrainingTask {
    public struct Settings: Codable, Equatable, Sendable {
        /// Teacher-forcing ratio at the first step; with `teacherForcingEnd` below it, the ratio decays
        /// linearly to `teacherForcingEnd` at the last step (scheduled sampling).
        public var teacherForcing = 1.0
        /// The teacher-forcing ratio at the last step; nil keeps `teacherForcing` throughout.
        public var teacherForcingEnd: Double? = nil
        /// Longest output when decoding for evaluation (tokens, `</s>` included).
        public var maxDecodeLength = 60
        /// Words seen fewer times in training become `<unk>` (recorded so a resumed run rebuilds the same vocabularies).
        public var minCount = 1
        /// Full teacher forcing, decoding up to 60 tokens, every training word in the vocabulary.
        public init() {}

        /// The teacher-forcing ratio at `step` of `totalSteps` (1-based).
        public func teacherForcingRatio(step: Int, totalSteps: Int) -> Double {
            guard let end = teacherForcingEnd, totalSteps > 1 else { return teacherForcing }
            return teacherForcing + (end - teacherForcing) * Double(step - 1) / Double(totalSteps - 1)
        }

        /// Checks the ranges.
        /// - Throws: `TrainingError.badOptions` naming what is out of range.
        public func validate() throws {
            guard maxDecodeLength > 0, minCount > 0, (0...1).contains(teacherForcing), (0...1).contains(teacherForcingEnd ?? 0) else {
                throw TrainingError.badOptions("teacher forcing must be in [0, 1], the decode length and minimum count positive")
            }
        }
    }

    /// 10 epochs of 64 pairs, Adam at 2·10⁻³, clipping at norm 5.
    public static let defaultOptions = TrainingOptions(schedule: .epochs(10), batch: 64, learningRate: 2e-3, clipNorm: 5)

    /// The model being trained.
    public let seq2seq: Seq2Seq<Float>
    /// The sentence pairs.
    public let data: ParallelCorpus
    /// The source and target vocabularies.
    public let vocabularies: Seq2SeqVocabularies
    /// The task's settings.
    public let settings: Settings
    public let configJSON: String
    /// Checkpoint fields describing the data (split seed, filters, synthetic task), for `eval translate`.
    public let dataDescription: [String: String]

    /// A task training `model` on `data`, encoded with `vocabularies`.
    /// - Throws: `TrainingError.badOptions` when a setting is out of range (`Settings.validate()`); an error when the model's configuration cannot be encoded as JSON.
    public init(model: Seq2Seq<Float>, data: ParallelCorpus, vocabularies: Seq2SeqVocabularies, settings: Settings = Settings(),
                dataDescription: [String: String] = [:]) throws {
        try settings.validate()
        seq2seq = model
        self.data = data
        self.vocabularies = vocabularies
        self.settings = settings
        self.dataDescription = dataDescription
        configJSON = try RunFolder.prettyJSON(model.config)
    }

    public var name: String { "translate" }
    public var model: Module<Float> { seq2seq }
    public var epochSize: Int? { data.train.count }
    public var vocabulary: [String]? { vocabularies.source.tokens }

    public func makeBatch(_ indices: ArraySlice<Int>, generator: inout RandomGenerator) -> Seq2SeqBatch {
        Seq2SeqBatch(data.train, indices: Array(indices), vocabularies: vocabularies)
    }

    public func loss(_ batch: Seq2SeqBatch, at position: RunPosition, generator: inout RandomGenerator) -> TaskLoss {
        let ratio = settings.teacherForcingRatio(step: position.step, totalSteps: position.totalSteps)
        return TaskLoss(seq2seq.loss(batch, teacherForcing: ratio, generator: &generator), tokens: batch.targetLengths.reduce(0, +),
                        meanOver: Double(batch.targetOutput.count { $0 != 0 }))   // the cross-entropy's mean is over non-padding targets
    }

    /// Each process scores its part of the loss batches and translates its part of the sources.
    public func evaluate(_ shard: EvaluationShard) throws -> TranslationEvaluation {
        try TranslationEvaluation.evaluate(seq2seq, data.validation, vocabularies: vocabularies, maxLength: settings.maxDecodeLength,
                                           part: shard.range(of:), sum: shard.sum)
    }

    public func evaluate() -> TranslationEvaluation {
        TranslationEvaluation.evaluate(seq2seq, data.validation, vocabularies: vocabularies, maxLength: settings.maxDecodeLength)
    }

    /// Validation BLEU, exact match breaking ties (BLEU is 0 for every output shorter than 4 tokens).
    static func selectionScore(_ e: TranslationEvaluation) -> Double { e.bleu.score + e.exactMatch * 1e-3 }
    public func isBetter(_ e: TranslationEvaluation, than best: TranslationEvaluation) -> Bool { Self.selectionScore(e) > Self.selectionScore(best) }
    public func summary(_ e: TranslationEvaluation) -> String { String(format: "val BLEU %.2f", e.bleu.score) }

    public let metricsColumns = ["epoch", "step", "seconds", "train_loss", "val_loss", "val_bleu", "val_exact_match",
                                 "teacher_forcing", "tokens_per_second", "clipped"]
    public let plottedColumns = ["train_loss", "val_loss"]

    public func metricsRow(_ r: RoundSummary, _ e: TranslationEvaluation) -> [Double] {
        [Double(r.position.epoch), Double(r.position.step), r.seconds, r.window.meanLoss, e.loss, e.bleu.score, e.exactMatch,
         settings.teacherForcingRatio(step: r.position.step, totalSteps: r.position.totalSteps), r.tokensPerSecond, Double(r.window.clipped)]
    }

    public func checkpointFields(_ position: RunPosition, _ e: TranslationEvaluation?) -> [String: String] {
        var fields = dataDescription
        fields["task"] = name
        fields["epoch"] = "\(position.epoch)"
        fields["step"] = "\(position.step)"
        fields["target_vocabulary"] = vocabularies.target.jsonString()
        if let e { fields["val_bleu"] = "\(e.bleu.score)" }
        return fields
    }

    public func runFiles() throws -> [String: Data] {
        ["vocabulary.json": Data("{\"source\": \(vocabularies.source.jsonString()), \"target\": \(vocabularies.target.jsonString())}".utf8)]
    }

    public func checkResumable(_ checkpoint: Checkpoint) throws {
        guard checkpoint.vocabulary == vocabularies.source.tokens, checkpoint.extra["target_vocabulary"] == vocabularies.target.jsonString() else {
            throw TrainingError.cannotResume("the data's vocabularies differ from the checkpoint's: resume on the same pairs")
        }
    }

    public var streams: [String: RandomGenerator] {
        get {
            ["encoder_dropout": seq2seq.encoder.dropout.generator, "encoder_rnn_dropout": seq2seq.encoder.rnn.dropoutGenerator,
             "decoder_dropout": seq2seq.decoder.dropout.generator]
        }
        set {
            seq2seq.encoder.dropout.generator = newValue["encoder_dropout"]!
            seq2seq.encoder.rnn.dropoutGenerator = newValue["encoder_rnn_dropout"]!
            seq2seq.decoder.dropout.generator = newValue["decoder_dropout"]!
        }
    }

    public func finish(_ history: [RoundRecord<TranslationEvaluation>], best: RoundRecord<TranslationEvaluation>?, in folder: RunFolder,
                       seconds: Double) throws -> TranslationEvaluation {
        let test = TranslationEvaluation.evaluate(seq2seq, data.test, vocabularies: vocabularies, maxLength: settings.maxDecodeLength)
        var object = test.json()
        object["epoch_of_best"] = best?.epoch ?? 0
        object["seconds"] = seconds
        try folder.write(try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys]), to: "test.json")
        return test
    }
}
