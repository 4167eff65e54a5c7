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
    /// T, the longest sequence of the batch, and B, the number of sequences.
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
