import Foundation
import RecurrentData
import RecurrentTensor

/// Bad input to a translation model.
public enum TranslationInputError: Error, CustomStringConvertible, Equatable {
    /// The sentence has no tokens.
    case emptySentence
    /// An option is out of range; the text says which.
    case badOption(String)

    public var description: String {
        switch self {
        case .emptySentence: "the sentence to translate is empty (it has no tokens)"
        case let .badOption(reason): reason
        }
    }
}

/// Text in, text out: tokenizes a sentence as the training data was, maps words the model never saw
/// to `<unk>` (and says which), and decodes greedily, by beam search, or by sampling.
public struct Translator {
    /// The trained model.
    public let model: Seq2Seq<Float>
    /// The vocabularies it was trained with.
    public let vocabularies: Seq2SeqVocabularies
    /// The tokenizer of the training data.
    public let tokenizer = WordTokenizer()

    /// A translator for `model` with its vocabularies.
    public init(model: Seq2Seq<Float>, vocabularies: Seq2SeqVocabularies) {
        self.model = model
        self.vocabularies = vocabularies
    }

    /// One translation request's result: the source tokens, the words mapped to `<unk>`, and the hypotheses, best first.
    public struct Result {
        /// The sentence's tokens.
        public var source: [String]
        /// The tokens the source vocabulary lacks, read as `<unk>`.
        public var unknownWords: [String]
        /// The hypotheses, best first.
        public var hypotheses: [Translation]
        /// The vocabularies, to turn ids back into words.
        public var vocabularies: Seq2SeqVocabularies

        /// The output tokens of hypothesis `k` (without `</s>`).
        public func tokens(_ k: Int = 0) -> [String] { vocabularies.targetTokens(hypotheses[k].ids) }
        /// Hypothesis `k`'s words joined by spaces.
        public func text(_ k: Int = 0) -> String { tokens(k).joined(separator: " ") }
    }

    /// - Parameters:
    ///   - text: the sentence; must have at least one token.
    ///   - beam: beam width (1: greedy, or sampling with `sample`).
    ///   - nBest: hypotheses returned by beam search (at most `beam`).
    ///   - sample: draw tokens instead of taking the most likely (needs `beam` 1).
    /// - Throws: `TranslationInputError` for an empty sentence or inconsistent options.
    public func translate(_ text: String, beam: Int = 1, lengthPenalty: Double = 0, nBest: Int = 1, maxLength: Int = 60,
                          sample: Bool = false, temperature: Double = 1, topK: Int = 0, generator: inout RandomGenerator) throws -> Result {
        guard beam >= 1, nBest >= 1, nBest <= beam, maxLength >= 1 else {
            throw TranslationInputError.badOption("beam (\(beam)), n-best (\(nBest)) and maximum length (\(maxLength)) must be positive, and n-best at most the beam width")
        }
        guard temperature > 0, temperature.isFinite, topK >= 0 else {
            throw TranslationInputError.badOption("temperature must be positive and top-k not negative, got \(temperature) and \(topK)")
        }
        guard !(sample && beam > 1) else { throw TranslationInputError.badOption("sampling draws one token at a time: use it with beam 1") }
        let tokens = tokenizer(text)
        guard !tokens.isEmpty else { throw TranslationInputError.emptySentence }
        let unknown = tokens.filter { vocabularies.source.id($0) == vocabularies.source.unknownId && $0 != Vocabulary.unk }
        let ids = tokens.map { vocabularies.source.id($0) ?? 1 }
        let hypotheses: [Translation]
        if beam > 1 {
            hypotheses = model.beamSearch(ids, beamWidth: beam, maxLength: maxLength, lengthPenalty: lengthPenalty, nBest: nBest)
        } else {
            hypotheses = model.decode(ids, steps: ids.count, batch: 1, lengths: [ids.count], maxLength: maxLength,
                                      choice: sample ? .sample(temperature: temperature, topK: topK) : .greedy, generator: &generator)
        }
        return Result(source: tokens, unknownWords: unknown, hypotheses: hypotheses, vocabularies: vocabularies)
    }
}
