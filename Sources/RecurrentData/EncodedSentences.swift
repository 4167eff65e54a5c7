/// Sentences encoded as token ids, with their labels: a data set ready for batching.
public struct EncodedSentences: Sendable {
    /// Token ids of every sentence.
    public var sequences: [[Int]]
    /// The class id of every sentence.
    public var labels: [Int]
    /// Number of sentences.
    public var count: Int { sequences.count }

    /// Tokenizes and encodes `sentences` with `vocabulary` (unknown words map to `<unk>`).
    public init(_ sentences: [LabelledSentence], vocabulary: Vocabulary, tokenizer: WordTokenizer = WordTokenizer()) throws {
        sequences = try sentences.map { try vocabulary.encode(tokenizer($0.text)) }
        labels = sentences.map(\.label)
    }

    /// Sentences and their labels, one label per sentence.
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
