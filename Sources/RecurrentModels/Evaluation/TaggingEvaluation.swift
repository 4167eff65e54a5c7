import Foundation
import RecurrentData
import RecurrentTensor

/// Scores of a tagger on a split: mean loss, conlleval chunk scores and intent accuracy.
public struct TaggingEvaluation: Codable, Sendable {
    /// Mean cross-entropy per tag, in nats.
    public var loss: Double
    /// conlleval's entity precision, recall and F1.
    public var chunks: ChunkScore
    /// nil when the model has no intent head. A multi-intent label `a#b` counts a guess of `a#b`, `a` or `b`
    /// as correct (`intentMatches`).
    public var intentAccuracy: Double?
    /// Sentences whose intent the model cannot predict: neither the label nor any of its `#` parts was
    /// among the training intents (counted wrong in `intentAccuracy`; nil without an intent head).
    public var unseenIntents: Int? = nil
    /// The first few such labels, for the message.
    public var unseenIntentLabels: [String]? = nil

    /// What model selection maximises: slot F1, plus intent accuracy for joint models.
    public var score: Double { chunks.f1 + (intentAccuracy ?? 0) }

    /// One line: loss, entity precision, recall and F1, and intent accuracy when there is one.
    public var summary: String {
        var intent = intentAccuracy.map { String(format: ", intent accuracy %.4f", $0) } ?? ""
        if let unseen = unseenIntents, unseen > 0 {
            intent += " (\(unseen) with intents unseen in training, counted wrong: \((unseenIntentLabels ?? []).joined(separator: ", ")))"
        }
        return String(format: "loss %.4f, entity precision %.4f, recall %.4f, F1 %.4f", loss, chunks.precision, chunks.recall, chunks.f1) + intent
    }

    /// The figures as a JSON object (for test.json).
    public func json() -> [String: Any] {
        var object: [String: Any] = ["loss": loss, "precision": chunks.precision, "recall": chunks.recall, "f1": chunks.f1,
                                     "token_accuracy": chunks.tokenAccuracy, "chunks_guessed": chunks.guessed,
                                     "chunks_gold": chunks.gold, "chunks_correct": chunks.correct]
        if let intentAccuracy { object["intent_accuracy"] = intentAccuracy }
        if let unseenIntents { object["unseen_intents"] = unseenIntents }
        return object
    }
}

extension TaggingEvaluation {
    /// Loss, conlleval scores and intent accuracy of `model` (eval mode, no graph) on `sentences`.
    public static func evaluate(_ model: SequenceTagger, _ sentences: [TaggedSentence], vocabularies: TaggingVocabularies, batch: Int = 64) -> TaggingEvaluation {
        let all = predictions(model, sentences, vocabularies: vocabularies, batch: batch) { 0..<$0 }
        return score(sentences, paths: all.paths, intents: all.intents, lossSum: all.lossSum, lossBatches: all.lossBatches,
                     vocabularies: vocabularies, hasIntentHead: model.intentHead != nil)
    }

    /// What `evaluate` computes on the batches `part(batchCount)` of `batch` sentences: the tag-id path
    /// and intent id of each of their sentences (`sentences`, positions in the list), and Σ of the
    /// batches' mean losses over the batches that have tags.
    public static func predictions(_ model: SequenceTagger, _ sentences: [TaggedSentence], vocabularies: TaggingVocabularies, batch: Int = 64,
                                   part: (Int) -> Range<Int>)
        -> (sentences: [Int], paths: [[Int]], intents: [Int]?, lossSum: Double, lossBatches: Int) {
        let batches = TaggingBatch.sequential(sentences, batch: batch, vocabularies: vocabularies)
        var indices: [Int] = [], paths: [[Int]] = [], intents: [Int]? = model.intentHead == nil ? nil : []
        var lossSum = 0.0, lossBatches = 0
        withoutGrad {
            model.eval()
            defer { model.train() }
            for b in batches[part(batches.count)] {
                if b.tags.contains(where: { $0 != TaggingBatch.ignoreIndex }) {
                    lossSum += Double(model.loss(b).item)
                    lossBatches += 1
                }
                let (guessed, guessedIntents) = model.predict(b, constrainedBy: vocabularies.tags)
                indices += b.indices
                paths += guessed
                if let guessedIntents { intents? += guessedIntents }
            }
        }
        return (indices, paths, intents, lossSum, lossBatches)
    }

    /// The scores of tag-id `paths` (one per sentence, in order) and intent ids against `sentences`.
    public static func score(_ sentences: [TaggedSentence], paths: [[Int]], intents: [Int]?, lossSum: Double, lossBatches: Int,
                             vocabularies: TaggingVocabularies, hasIntentHead: Bool) -> TaggingEvaluation {
        var chunks = ChunkScore()
        var goldIntents: [String] = [], guessedIntents: [String] = []
        for (i, sentence) in sentences.enumerated() {
            chunks.add(gold: sentence.tags, guessed: paths[i].map { vocabularies.tags.tokens[$0] })
            if let intents, let gold = sentence.intent, let v = vocabularies.intents {
                goldIntents.append(gold)
                guessedIntents.append(v.tokens[intents[i]])
            }
        }
        guard hasIntentHead else {
            return TaggingEvaluation(loss: lossBatches > 0 ? lossSum / Double(lossBatches) : .nan, chunks: chunks, intentAccuracy: nil)
        }
        let correct = zip(goldIntents, guessedIntents).count { intentMatches(gold: $0, guessed: $1) }
        let known = Set(vocabularies.intents?.tokens ?? [])
        let unseen = goldIntents.filter { gold in !known.contains(gold) && !gold.split(separator: "#").contains { known.contains(String($0)) } }
        var labels: [String] = []
        for label in unseen where !labels.contains(label) && labels.count < 5 { labels.append(label) }
        return TaggingEvaluation(loss: lossBatches > 0 ? lossSum / Double(lossBatches) : .nan, chunks: chunks,
                                 intentAccuracy: goldIntents.isEmpty ? 0 : Double(correct) / Double(goldIntents.count),
                                 unseenIntents: unseen.count, unseenIntentLabels: labels)
    }

    /// Whether a guessed intent is right: equal to the gold label, or, for a multi-intent label `a#b`
    /// (ATIS), equal to one of its parts — the convention of ATIS intent scoring, where a single-label
    /// classifier cannot output a combination it never saw and naming one of the intents answers the query.
    public static func intentMatches(gold: String, guessed: String) -> Bool {
        gold == guessed || (gold.contains("#") && gold.split(separator: "#").contains { $0 == guessed })
    }
}
