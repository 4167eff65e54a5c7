import Foundation
import RecurrentData
import RecurrentIO
import RecurrentTensor

/// The decoding bias against `O` (`SequenceTagger.outsideBias`): a scalar subtracted from the `O` tag's score at
/// every step before Viterbi (or argmax), which makes a tagger that leaves unseen names as `O` name more entities.
/// `train tag` chooses it on the validation split with the best weights (`tune`) and stores it in best.safetensors
/// under `checkpointKey`; checkpoints without it decode with 0.
public enum OutsideBias {
    /// The checkpoint metadata key that holds the bias (a decimal number).
    public static let checkpointKey = "o_bias"
    /// Values beyond ±this are refused: tag scores are a few units, so a larger bias only means a typo.
    public static let limit = 100.0
    /// The values `tune` tries: −1 to 4 by 0.25 (0 included).
    public static let grid: [Float] = (0...20).map { Float($0) * 0.25 - 1 }

    /// `value` as a bias, or `ModelError.badConfig` when it is not finite or beyond ±`limit`.
    public static func validated(_ value: Double) throws -> Float {
        guard value.isFinite, abs(value) <= limit else {
            throw ModelError.badConfig("the bias against O must be a finite number in -\(Int(limit))...\(Int(limit)), got \(value)")
        }
        return Float(value)
    }

    /// The bias a checkpoint stores: 0 when it has none (checkpoints before the bias existed);
    /// `ModelError.badConfig` when the stored text is not a number in range.
    public static func read(from checkpoint: Checkpoint) throws -> Float {
        guard let text = checkpoint.extra[checkpointKey] else { return 0 }
        guard let value = Double(text.trimmingCharacters(in: .whitespaces)) else {
            throw ModelError.badConfig("the checkpoint's \(checkpointKey) must be a number, got '\(text)'")
        }
        return try validated(value)
    }

    /// Writes `bias` into the checkpoint file at `url` (its weights and other metadata unchanged).
    public static func store(_ bias: Float, in url: URL) throws {
        var checkpoint = try Checkpoint.load(from: url)
        checkpoint.extra[checkpointKey] = "\(bias)"
        try checkpoint.save(to: url)
    }

    /// What `tune` found: the chosen bias and the entity F1 of each value tried.
    public struct Search: Sendable, Equatable {
        /// The value with the highest F1; on ties the one nearest 0.
        public var bias: Float
        /// (bias, entity F1) for every value tried, in the order given.
        public var scores: [(bias: Float, f1: Double)]

        /// Same chosen bias and the same (bias, F1) pairs in the same order.
        public static func == (a: Search, b: Search) -> Bool {
            a.bias == b.bias && a.scores.elementsEqual(b.scores) { $0.bias == $1.bias && $0.f1 == $1.f1 }
        }

        /// The F1 at `bias`, if it was tried.
        public func f1(at bias: Float) -> Double? { scores.first { $0.bias == bias }?.f1 }
    }

    /// Chooses the bias that maximises the entity F1 of `model` on `sentences` (the validation split), trying each of
    /// `values`; the tag scores are computed once per batch and decoded once per value. The model's own
    /// `outsideBias` is left as it was.
    public static func tune(_ model: SequenceTagger, _ sentences: [TaggedSentence], vocabularies: TaggingVocabularies,
                            values: [Float] = grid, batch: Int = 64) -> Search {
        precondition(!values.isEmpty, "OutsideBias.tune: no values to try")
        var chunks = [ChunkScore](repeating: ChunkScore(), count: values.count)
        for b in TaggingBatch.sequential(sentences, batch: batch, vocabularies: vocabularies) {
            let (logits, _) = model.scores(b)
            for (k, value) in values.enumerated() {
                let paths = model.decode(logits, lengths: b.lengths, constrainedBy: vocabularies.tags, outsideBias: value)
                for (i, path) in zip(b.indices, paths) {
                    chunks[k].add(gold: sentences[i].tags, guessed: path.map { vocabularies.tags.tokens[$0] })
                }
            }
        }
        let scores = zip(values, chunks).map { (bias: $0, f1: $1.f1) }
        var best = scores[0]
        for s in scores.dropFirst() where s.f1 > best.f1 || (s.f1 == best.f1 && abs(s.bias) < abs(best.bias)) { best = s }
        return Search(bias: best.bias, scores: scores)
    }
}
