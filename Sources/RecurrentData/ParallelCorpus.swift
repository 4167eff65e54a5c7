import Foundation

/// A tokenized source sentence and its translation.
public struct SentencePair: Equatable, Hashable, Sendable {
    /// The source sentence's tokens.
    public var source: [String]
    /// The target sentence's tokens.
    public var target: [String]

    /// A pair of tokenized sentences.
    public init(source: [String], target: [String]) {
        self.source = source
        self.target = target
    }
}

/// Sentence pairs for sequence-to-sequence training, split 90/5/5 (by default) with a seeded
/// shuffle. The split is made over distinct source sentences, so every translation of a source
/// lands in the same split: a test source was never seen in training, and its translations are
/// all available as references.
public struct ParallelCorpus: Sendable {
    /// The training pairs.
    public var train: [SentencePair]
    /// The validation pairs.
    public var validation: [SentencePair]
    /// The test pairs.
    public var test: [SentencePair]

    /// A corpus from pairs already split.
    public init(train: [SentencePair], validation: [SentencePair], test: [SentencePair]) {
        self.train = train
        self.validation = validation
        self.test = test
    }

    /// Reads `source<TAB>target[<TAB>anything]` lines (Tatoeba / manythings.org format), tokenizes
    /// both sides with `tokenizer` (lowercased, punctuation split), and keeps pairs whose both sides
    /// have 1...`maxLength` tokens, the first `maxPairs` of them (0: all).
    /// - Throws: `DataError` for a missing or unreadable file, a line without a tab, or no usable pair.
    public static func readPairs(path: String, maxLength: Int = 10, maxPairs: Int = 0, tokenizer: WordTokenizer = WordTokenizer()) throws -> [SentencePair] {
        try parsePairs(readTextFile(path), path: path, maxLength: maxLength, maxPairs: maxPairs, tokenizer: tokenizer)
    }

    /// `readPairs` on text already read; `path` names it in errors.
    public static func parsePairs(_ text: String, path: String, maxLength: Int = 10, maxPairs: Int = 0,
                                  tokenizer: WordTokenizer = WordTokenizer()) throws -> [SentencePair] {
        var pairs: [SentencePair] = []
        // "\r\n" is one Character in Swift: split on both line ends.
        for (n, line) in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).enumerated() {
            if line.allSatisfy(\.isWhitespace) { continue }
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard fields.count >= 2 else {
                throw DataError.badRow(path: path, line: n + 1, reason: "expected source<TAB>target, found no tab")
            }
            let pair = SentencePair(source: tokenizer(String(fields[0])), target: tokenizer(String(fields[1])))
            guard (1...maxLength).contains(pair.source.count), (1...maxLength).contains(pair.target.count) else { continue }
            pairs.append(pair)
            if maxPairs > 0, pairs.count == maxPairs { break }
        }
        if pairs.isEmpty {
            throw DataError.tooFewValues(path: path, needed: 1, found: 0, reason: "no pair has 1...\(maxLength) tokens on both sides")
        }
        return pairs
    }

    /// Splits `pairs` by distinct source sentence with a shuffle seeded by `seed`.
    /// - Parameters:
    ///   - validationFraction: share of distinct sources in the validation split.
    ///   - testFraction: share of distinct sources in the test split.
    public init(splitting pairs: [SentencePair], seed: UInt64, validationFraction: Double = 0.05, testFraction: Double = 0.05) {
        var order: [[String]] = []
        var groups: [[String]: [SentencePair]] = [:]
        for p in pairs {
            if groups[p.source] == nil { order.append(p.source) }
            groups[p.source, default: []].append(p)
        }
        var generator = SplitMix(seed: seed)
        for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, Int(generator.next() % UInt64(i + 1))) }
        let nTest = Int((Double(order.count) * testFraction).rounded()), nValidation = Int((Double(order.count) * validationFraction).rounded())
        func take(_ range: Range<Int>) -> [SentencePair] { order[range].flatMap { groups[$0]! } }
        test = take(0..<min(nTest, order.count))
        validation = take(min(nTest, order.count)..<min(nTest + nValidation, order.count))
        train = take(min(nTest + nValidation, order.count)..<order.count)
    }
}

/// A small splitmix64 generator, so the split depends only on the seed (RecurrentData does not
/// depend on the tensor module's generator).
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension Vocabulary {
    /// Start and end of a target sentence.
    public static let bos = "<s>", eos = "</s>"
}

/// The source and target vocabularies of a translation model. Source: `<pad>` (0), `<unk>` (1),
/// words; target: `<pad>` (0), `<unk>` (1), `<s>` (2), `</s>` (3), words; most frequent first.
public struct Seq2SeqVocabularies: Equatable, Sendable {
    /// The source vocabulary: `<pad>` 0, `<unk>` 1, then words.
    public var source: Vocabulary
    /// The target vocabulary: `<pad>` 0, `<unk>` 1, `<s>` 2, `</s>` 3, then words.
    public var target: Vocabulary

    /// Pairs two vocabularies.
    /// - Throws: `DataError.badVocabulary` when their special tokens are not at the ids above.
    public init(source: Vocabulary, target: Vocabulary) throws {
        guard source.paddingId == 0, source.unknownId == 1 else {
            throw DataError.badVocabulary(reason: "a source vocabulary must start with <pad>, <unk>")
        }
        guard target.paddingId == 0, target.unknownId == 1, target.id(Vocabulary.bos) == 2, target.id(Vocabulary.eos) == 3 else {
            throw DataError.badVocabulary(reason: "a target vocabulary must start with <pad>, <unk>, <s>, </s>")
        }
        self.source = source
        self.target = target
    }

    /// Vocabularies of the training pairs; words seen fewer than `minCount` times become `<unk>`.
    public init(training pairs: [SentencePair], minCount: Int = 1) throws {
        try self.init(source: Vocabulary(counting: pairs.lazy.flatMap(\.source), minCount: minCount, specials: [Vocabulary.pad, Vocabulary.unk]),
                      target: Vocabulary(counting: pairs.lazy.flatMap(\.target), minCount: minCount,
                                         specials: [Vocabulary.pad, Vocabulary.unk, Vocabulary.bos, Vocabulary.eos]))
    }

    /// The id of `<s>` in the target vocabulary.
    public var bosId: Int { 2 }
    /// The id of `</s>` in the target vocabulary.
    public var eosId: Int { 3 }

    /// Target ids to tokens, stopping at `</s>` and leaving out the special tokens before it.
    public func targetTokens(_ ids: [Int]) -> [String] {
        var out: [String] = []
        for id in ids {
            if id == eosId { break }
            if id > eosId || id == 1, let t = target.token(id) { out.append(t) }
        }
        return out
    }
}

/// A padded batch of pairs, time-major: the source for the encoder, and the decoder's input
/// (`<s>` y₁ … yₙ) and output (y₁ … yₙ `</s>`), padded with 0, which the loss ignores.
public struct Seq2SeqBatch: Sendable {
    /// (S, B) source ids, row-major, 0 past each length.
    public var source: [Int]
    /// (B) the number of source tokens of each pair.
    public var sourceLengths: [Int]
    /// (T, B) decoder inputs and targets; T = longest target + 1.
    public var targetInput: [Int]
    /// (T, B) what the decoder must predict: y₁ … yₙ `</s>`, 0 past each length.
    public var targetOutput: [Int]
    /// (B) each target's length plus one (for `</s>`).
    public var targetLengths: [Int]
    /// S, the longest source; T, the longest target plus one; B, the number of pairs.
    public var sourceSteps: Int, targetSteps: Int, batch: Int
    /// Positions in the pair array the batch was made from.
    public var indices: [Int]

    /// - Parameter pairs: pairs whose sources have at least one token; unknown words become `<unk>`.
    public init(_ pairs: [SentencePair], indices: [Int], vocabularies: Seq2SeqVocabularies) {
        let sources = indices.map { pairs[$0].source.map { vocabularies.source.id($0) ?? 1 } }
        let targets = indices.map { pairs[$0].target.map { vocabularies.target.id($0) ?? 1 } }
        self.init(sources: sources, targets: targets, bos: vocabularies.bosId, eos: vocabularies.eosId)
        self.indices = indices
    }

    /// From id sequences (sources non-empty); targets without `<s>` and `</s>`.
    public init(sources: [[Int]], targets: [[Int]], bos: Int, eos: Int) {
        precondition(sources.count == targets.count && !sources.isEmpty, "Seq2SeqBatch: \(sources.count) sources, \(targets.count) targets")
        precondition(sources.allSatisfy { !$0.isEmpty }, "Seq2SeqBatch: empty source")
        let b = sources.count, s = sources.map(\.count).max()!, t = targets.map(\.count).max()! + 1
        var src = [Int](repeating: 0, count: s * b), tin = [Int](repeating: 0, count: t * b), tout = [Int](repeating: 0, count: t * b)
        for (j, seq) in sources.enumerated() { for (i, id) in seq.enumerated() { src[i * b + j] = id } }
        for (j, seq) in targets.enumerated() {
            let input = [bos] + seq, output = seq + [eos]
            for i in 0..<input.count { tin[i * b + j] = input[i]; tout[i * b + j] = output[i] }
        }
        source = src
        sourceLengths = sources.map(\.count)
        targetInput = tin
        targetOutput = tout
        targetLengths = targets.map { $0.count + 1 }
        (sourceSteps, targetSteps, batch) = (s, t, b)
        indices = Array(0..<b)
    }
}
