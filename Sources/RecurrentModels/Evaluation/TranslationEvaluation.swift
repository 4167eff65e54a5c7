import Foundation
import RecurrentData
import RecurrentTensor

/// Scores of a translation model on a split: teacher-forced loss, corpus BLEU against every
/// reference of each distinct source, and exact match (the output equals one of the references).
public struct TranslationEvaluation: Codable, Sendable {
    /// Mean teacher-forced cross-entropy per target token, in nats.
    public var loss: Double
    /// Corpus BLEU of the outputs against all references of each source.
    public var bleu: BLEU
    /// Fraction of sources whose output equals one of their references.
    public var exactMatch: Double
    /// Number of distinct sources scored.
    public var sentences: Int
    /// The distinct sources, their outputs and references, in evaluation order.
    public var sources: [[String]] = []
    /// The model's output for each source, in order (tokens, without `</s>`).
    public var outputs: [[String]] = []

    /// The scores only (a run's history keeps no sentences).
    private enum CodingKeys: String, CodingKey { case loss, bleu, exactMatch, sentences }

    /// One line: loss, BLEU and exact match.
    public var summary: String {
        String(format: "loss %.4f, BLEU %.2f, exact match %.4f (%d sentences)", loss, bleu.score, exactMatch, sentences)
    }

    /// The figures as a JSON object (for test.json).
    public func json() -> [String: Any] {
        ["loss": loss, "bleu": bleu.score, "bleu_precisions": bleu.precisions, "brevity_penalty": bleu.brevityPenalty,
         "hypothesis_length": bleu.hypothesisLength, "reference_length": bleu.referenceLength, "exact_match": exactMatch, "sentences": sentences]
    }
}

extension TranslationEvaluation {
    /// Scores `model` on `pairs`: distinct sources are translated (greedy when `beam` is 1, beam search
    /// otherwise) and compared with all their references.
    public static func evaluate(_ model: Seq2Seq<Float>, _ pairs: [SentencePair], vocabularies: Seq2SeqVocabularies, beam: Int = 1,
                                lengthPenalty: Double = 0, maxLength: Int = 60, batch: Int = 64) -> TranslationEvaluation {
        // A single process sums nothing: the closure cannot throw.
        try! evaluate(model, pairs, vocabularies: vocabularies, beam: beam, lengthPenalty: lengthPenalty, maxLength: maxLength, batch: batch,
                      part: { 0..<$0 }, sum: { $0 })
    }

    /// `evaluate` computed in parts: this process scores the loss batches `part(lossBatches)` and translates
    /// the source batches `part(sourceBatches)`; `sum` adds the processes' loss sums and BLEU statistics.
    /// The sentences and outputs it keeps are its own part's.
    public static func evaluate(_ model: Seq2Seq<Float>, _ pairs: [SentencePair], vocabularies: Seq2SeqVocabularies, beam: Int = 1,
                                lengthPenalty: Double = 0, maxLength: Int = 60, batch: Int = 64,
                                part: (Int) -> Range<Int>, sum: ([Double]) throws -> [Double]) throws -> TranslationEvaluation {
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
            for k in part((pairs.count + batch - 1) / batch) {
                let b = Seq2SeqBatch(pairs, indices: Array((k * batch)..<min((k + 1) * batch, pairs.count)), vocabularies: vocabularies)
                let tokens = b.targetLengths.reduce(0, +)
                totalLoss += Double(model.loss(b).item) * Double(tokens)
                lossTokens += tokens
            }
        }
        let batches = part((order.count + batch - 1) / batch)
        let mine = Array(order[min(batches.lowerBound * batch, order.count)..<min(batches.upperBound * batch, order.count)])
        let outputs = translate(model, mine, vocabularies: vocabularies, beam: beam, lengthPenalty: lengthPenalty, maxLength: maxLength, batch: batch)
            .map { vocabularies.targetTokens($0.ids) }
        let refs = mine.map { references[$0]! }
        let exact = zip(outputs, refs).filter { o, r in r.contains(o) }.count
        let bleu = BLEU.corpus(hypotheses: outputs, references: refs)
        let sums = try sum([totalLoss, Double(lossTokens), Double(exact), Double(bleu.hypothesisLength), Double(bleu.referenceLength)]
                           + bleu.matches.map(Double.init) + bleu.totals.map(Double.init))
        let orders = bleu.matches.count
        var evaluation = TranslationEvaluation(
            loss: sums[1] > 0 ? sums[0] / sums[1] : .nan,
            bleu: BLEU.compute(matches: sums[5..<(5 + orders)].map { Int($0) }, totals: sums[(5 + orders)...].map { Int($0) },
                               hypothesisLength: Int(sums[3]), referenceLength: Int(sums[4])),
            exactMatch: order.isEmpty ? 0 : sums[2] / Double(order.count), sentences: order.count)
        evaluation.sources = mine
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
}
