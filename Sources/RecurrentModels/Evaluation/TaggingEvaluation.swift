import Foundation
import RecurrentData
import RecurrentTensor

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

extension TaggingEvaluation {
    /// Loss, conlleval scores and intent accuracy of `model` (eval mode, no graph) on `sentences`.
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
}
