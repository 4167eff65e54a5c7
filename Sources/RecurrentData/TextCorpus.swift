/// A character-level corpus for language modelling: the text as ids, split into a training part
/// and a validation part (the last `validationFraction`, contiguous, as char-rnn does).
public struct TextCorpus: Sendable {
    /// The characters, in id order.
    public let vocabulary: Vocabulary
    /// The training part as ids.
    public let train: [Int]
    /// The validation part as ids (the end of the text).
    public let validation: [Int]

    /// - Parameters:
    ///   - vocabulary: the vocabulary to encode with; built from the text when nil.
    public init(text: String, vocabulary: Vocabulary? = nil, validationFraction: Double = 0.1, minimumLength: Int = 2) throws {
        let vocab = try vocabulary ?? Vocabulary.characters(of: text)
        let ids = try vocab.encode(characters: text)
        guard ids.count >= 2 * minimumLength else {
            throw DataError.tooShort(path: "text", needed: 2 * minimumLength, found: ids.count)
        }
        let split = min(ids.count - minimumLength, max(minimumLength, Int(Double(ids.count) * (1 - validationFraction))))
        self.vocabulary = vocab
        train = Array(ids[..<split])
        validation = Array(ids[split...])
    }

    /// Reads the text file at `path` and encodes it with `vocabulary`, or one built from the text's characters; the last `validationFraction` becomes the validation part.
    /// - Throws: `DataError` when the file cannot be read as UTF-8 text of at least `minimumLength` characters that `vocabulary` can encode.
    public init(path: String, vocabulary: Vocabulary? = nil, validationFraction: Double = 0.1, minimumLength: Int = 2) throws {
        do {
            try self.init(text: try readTextFile(path), vocabulary: vocabulary, validationFraction: validationFraction, minimumLength: minimumLength)
        } catch DataError.tooShort(_, let needed, let found) {
            throw DataError.tooShort(path: path, needed: needed, found: found)
        }
    }
}

/// Language-model batches: `batch` windows of `steps + 1` ids, laid out time-major (T, B) as the
/// recurrent layers expect; inputs are steps 0..<T, targets 1...T.
public struct LanguageModelBatch: Sendable {
    /// (T, B) row-major: inputs[t * B + b].
    public var inputs: [Int]
    /// (T, B) row-major.
    public var targets: [Int]
    /// T, the window length (inputs), and B, the number of windows.
    public var steps: Int, batch: Int
}

extension LanguageModelBatch {
    /// Windows starting at random offsets of `ids` (seeded).
    public static func random(from ids: [Int], steps: Int, batch: Int, generator: inout some RandomNumberGenerator) -> LanguageModelBatch {
        windows(from: ids, starts: randomStarts(in: ids, steps: steps, batch: batch, generator: &generator), steps: steps)
    }

    /// The start offsets `random` draws.
    public static func randomStarts(in ids: [Int], steps: Int, batch: Int, generator: inout some RandomNumberGenerator) -> [Int] {
        precondition(ids.count > steps, "random batch: \(ids.count) ids cannot hold windows of \(steps + 1)")
        return (0..<batch).map { _ in Int.random(in: 0..<(ids.count - steps), using: &generator) }
    }

    /// Windows at the given start offsets.
    public static func windows(from ids: [Int], starts: [Int], steps: Int) -> LanguageModelBatch {
        let batch = starts.count
        var inputs = [Int](repeating: 0, count: steps * batch), targets = inputs
        for (b, s) in starts.enumerated() {
            for t in 0..<steps {
                inputs[t * batch + b] = ids[s + t]
                targets[t * batch + b] = ids[s + t + 1]
            }
        }
        return LanguageModelBatch(inputs: inputs, targets: targets, steps: steps, batch: batch)
    }

    /// Consecutive streams for stateful training/evaluation: the ids are cut into `batch` equal
    /// streams and walked `steps` at a time, so the state carried between chunks is meaningful.
    public static func sequential(from ids: [Int], steps: Int, batch: Int) -> [LanguageModelBatch] {
        sequential(from: ids, steps: steps, batch: batch, streams: 0..<batch)
    }

    /// The columns `streams` of `sequential(from:steps:batch:)`'s batches (one process's part of them).
    public static func sequential(from ids: [Int], steps: Int, batch: Int, streams: Range<Int>) -> [LanguageModelBatch] {
        let streamLength = (ids.count - 1) / batch
        guard streamLength >= steps, !streams.isEmpty else { return [] }
        return stride(from: 0, to: streamLength - steps + 1, by: steps).map { offset in
            windows(from: ids, starts: streams.map { $0 * streamLength + offset }, steps: steps)
        }
    }
}
