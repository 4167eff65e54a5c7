import Foundation
import RecurrentData
import RecurrentIO
import RecurrentTensor

extension Seq2Seq where Scalar == Float {
    /// Loads a checkpoint written by `Seq2SeqTrainer`, validating everything that came from the file.
    /// - Returns: the model, its vocabularies, and the checkpoint's extra fields (data description).
    public static func load(from url: URL) throws -> (model: Seq2Seq<Float>, vocabularies: Seq2SeqVocabularies, extra: [String: String]) {
        try load(checkpoint: Checkpoint.load(from: url))
    }

    /// `load(from:)` for a checkpoint already read.
    public static func load(checkpoint: Checkpoint) throws -> (model: Seq2Seq<Float>, vocabularies: Seq2SeqVocabularies, extra: [String: String]) {
        try checkpoint.require(task: "translate")
        let config = try checkpoint.validatedConfig(Seq2SeqConfig.self, what: "a sequence-to-sequence") { try $0.validate() }
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
