/// A padded batch of token sequences for many-to-one classification, laid out time-major (T, B)
/// as the recurrent layers expect, with each sequence's length (no sorting needed: the layers take
/// per-sequence lengths). T is the longest sequence of the batch; shorter ones are padded with
/// `paddingId`. An empty sequence becomes one padding token of length 1 (the layers need ≥ 1 step).
public struct ClassificationBatch: Equatable, Sendable {
    /// (T, B) row-major: ids[t * B + b].
    public var ids: [Int]
    /// B lengths, each in 1...T.
    public var lengths: [Int]
    /// B class ids (empty when unlabelled, e.g. for prediction).
    public var labels: [Int]
    public var steps: Int, batch: Int

    /// - Parameters:
    ///   - sequences: B token-id sequences.
    ///   - labels: B class ids, or empty.
    public init(sequences: [[Int]], labels: [Int] = [], paddingId: Int) {
        precondition(!sequences.isEmpty, "ClassificationBatch: no sequences")
        precondition(labels.isEmpty || labels.count == sequences.count, "ClassificationBatch: \(labels.count) labels for \(sequences.count) sequences")
        let B = sequences.count, T = max(1, sequences.map(\.count).max() ?? 1)
        var ids = [Int](repeating: paddingId, count: T * B)
        for (b, sequence) in sequences.enumerated() {
            for (t, id) in sequence.enumerated() { ids[t * B + b] = id }
        }
        self.ids = ids
        lengths = sequences.map { max(1, $0.count) }
        self.labels = labels
        steps = T
        batch = B
    }
}

/// Sentences encoded as token ids, with their labels: a data set ready for batching.
public struct EncodedSentences: Sendable {
    public var sequences: [[Int]]
    public var labels: [Int]
    public var count: Int { sequences.count }

    /// Tokenizes and encodes `sentences` with `vocabulary` (unknown words map to `<unk>`).
    public init(_ sentences: [LabelledSentence], vocabulary: Vocabulary, tokenizer: WordTokenizer = WordTokenizer()) throws {
        sequences = try sentences.map { try vocabulary.encode(tokenizer($0.text)) }
        labels = sentences.map(\.label)
    }

    public init(sequences: [[Int]], labels: [Int]) {
        precondition(sequences.count == labels.count, "EncodedSentences: \(labels.count) labels for \(sequences.count) sequences")
        self.sequences = sequences
        self.labels = labels
    }

    /// Batches of the items at `order` (all items in order when nil), `size` at a time; the last may be smaller.
    public func batches(size: Int, order: [Int]? = nil, paddingId: Int) -> [ClassificationBatch] {
        precondition(size > 0, "batches: size must be positive")
        let order = order ?? Array(0..<count)
        return stride(from: 0, to: order.count, by: size).map { start in
            let chosen = order[start..<min(start + size, order.count)]
            return ClassificationBatch(sequences: chosen.map { sequences[$0] }, labels: chosen.map { labels[$0] }, paddingId: paddingId)
        }
    }
}

extension Vocabulary {
    /// Word vocabulary of tokenized sentences: `<pad>` (id 0), `<unk>` (id 1), then the words seen at
    /// least `minCount` times, most frequent first.
    public static func words<S: Sequence>(of sentences: S, minCount: Int = 1, tokenizer: WordTokenizer = WordTokenizer()) throws -> Vocabulary
        where S.Element == String {
        try Vocabulary(counting: sentences.lazy.flatMap { tokenizer($0) }, minCount: minCount, specials: [Vocabulary.pad, Vocabulary.unk])
    }
}
