/// Entity-level precision, recall and F1 computed exactly as the CoNLL shared tasks' `conlleval`
/// script does: tags are `PREFIX-TYPE` (split at the first hyphen; a tag without one, such as `O`,
/// has an empty type); a chunk starts and ends by conlleval's `startOfChunk`/`endOfChunk` rules
/// (so an `I-X` after `O` or after another type starts a chunk, as a `B-X` does), and a guessed chunk
/// is correct when its type and both ends equal a gold chunk's. Sentences are separated by a
/// boundary that closes every open chunk, as conlleval's blank lines do.
public struct ChunkScore: Equatable, Sendable, CustomStringConvertible {
    /// Chunks guessed and gold, and correct (same type and span), over all types.
    public private(set) var guessed = 0, gold = 0, correct = 0
    /// Tokens scored and tokens whose tag equals the gold tag.
    public private(set) var tokens = 0, correctTags = 0
    /// Per chunk type: (guessed, gold, correct).
    public private(set) var byType: [String: (guessed: Int, gold: Int, correct: Int)] = [:]

    /// Counts of nothing yet; `add` sentences to them.
    public init() {}

    public static func == (a: ChunkScore, b: ChunkScore) -> Bool {
        (a.guessed, a.gold, a.correct, a.tokens, a.correctTags) == (b.guessed, b.gold, b.correct, b.tokens, b.correctTags)
            && a.byType.keys.sorted() == b.byType.keys.sorted()
            && a.byType.allSatisfy { k, v in let w = b.byType[k]!; return v == w }
    }

    /// Scores a whole set of sentences.
    public init(gold: [[String]], guessed: [[String]]) {
        precondition(gold.count == guessed.count, "ChunkScore: \(gold.count) gold sentences but \(guessed.count) guessed")
        self.init()
        for (g, p) in zip(gold, guessed) { add(gold: g, guessed: p) }
    }

    /// Adds one sentence (gold and guessed tags of the same tokens).
    public mutating func add(gold: [String], guessed: [String]) {
        precondition(gold.count == guessed.count, "ChunkScore: \(gold.count) gold tags but \(guessed.count) guessed")
        var inCorrect = false
        var last = (gold: ("O", ""), guessed: ("O", ""))
        // The boundary after the sentence is scored as an extra "O"/"O" token that is not counted.
        for i in 0...gold.count {
            let boundary = i == gold.count
            let g = boundary ? ("O", "") : Self.split(gold[i]), p = boundary ? ("O", "") : Self.split(guessed[i])
            if inCorrect {
                let goldEnds = Self.endOfChunk(last.gold, g), guessEnds = Self.endOfChunk(last.guessed, p)
                if goldEnds, guessEnds, last.guessed.1 == last.gold.1 {
                    inCorrect = false
                    correct += 1
                    byType[last.gold.1, default: (0, 0, 0)].correct += 1
                } else if goldEnds != guessEnds || p.1 != g.1 {
                    inCorrect = false
                }
            }
            let goldStarts = Self.startOfChunk(last.gold, g), guessStarts = Self.startOfChunk(last.guessed, p)
            if goldStarts, guessStarts, p.1 == g.1 { inCorrect = true }
            if goldStarts { self.gold += 1; byType[g.1, default: (0, 0, 0)].gold += 1 }
            if guessStarts { self.guessed += 1; byType[p.1, default: (0, 0, 0)].guessed += 1 }
            if !boundary {
                tokens += 1
                if gold[i] == guessed[i] { correctTags += 1 }
            }
            last = (g, p)
        }
        // (conlleval also counts a chunk still open at the end of its input; the boundary above always closes it.)
    }

    /// Correct chunks over guessed chunks; 0 when nothing was guessed.
    public var precision: Double { guessed > 0 ? Double(correct) / Double(guessed) : 0 }
    /// Correct chunks over gold chunks; 0 when there are none.
    public var recall: Double { gold > 0 ? Double(correct) / Double(gold) : 0 }
    /// 2PR/(P+R); 0 when both are 0 (as conlleval).
    public var f1: Double { precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0 }
    /// Tokens whose guessed tag equals the gold tag, over all tokens.
    public var tokenAccuracy: Double { tokens > 0 ? Double(correctTags) / Double(tokens) : 0 }

    /// F1 of one chunk type.
    public func f1(type: String) -> Double {
        guard let c = byType[type] else { return 0 }
        let p = c.guessed > 0 ? Double(c.correct) / Double(c.guessed) : 0, r = c.gold > 0 ? Double(c.correct) / Double(c.gold) : 0
        return p + r > 0 ? 2 * p * r / (p + r) : 0
    }

    public var description: String {
        "precision \(percent(precision)), recall \(percent(recall)), F1 \(percent(f1)) (\(correct) correct of \(guessed) guessed, \(gold) gold chunks)"
    }

    func percent(_ x: Double) -> String {
        let hundredths = Int((x * 10_000).rounded())
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)%"
    }

    /// `B-artist` → ("B", "artist"); `O` → ("O", ""); the type may itself contain hyphens.
    static func split(_ tag: String) -> (String, String) {
        guard let hyphen = tag.firstIndex(of: "-") else { return (tag, "") }
        return (String(tag[..<hyphen]), String(tag[tag.index(after: hyphen)...]))
    }

    /// conlleval's `endOfChunk`: does a chunk end between the previous token and this one?
    static func endOfChunk(_ previous: (String, String), _ current: (String, String)) -> Bool {
        let (prevTag, prevType) = previous, (tag, type) = current
        switch (prevTag, tag) {
        case ("B", "B"), ("B", "O"), ("I", "B"), ("I", "O"), ("E", "E"), ("E", "I"), ("E", "O"):
            return true
        default: break
        }
        if prevTag != "O", prevTag != ".", prevType != type { return true }
        return prevTag == "]" || prevTag == "["
    }

    /// conlleval's `startOfChunk`: does a chunk start at this token?
    static func startOfChunk(_ previous: (String, String), _ current: (String, String)) -> Bool {
        let (prevTag, prevType) = previous, (tag, type) = current
        switch (prevTag, tag) {
        case ("B", "B"), ("I", "B"), ("O", "B"), ("O", "I"), ("E", "E"), ("E", "I"), ("O", "E"):
            return true
        default: break
        }
        if tag != "O", tag != ".", prevType != type { return true }
        return tag == "[" || tag == "]"
    }
}

/// Fraction of items whose guess equals the gold label (intent accuracy).
public func accuracy<T: Equatable>(gold: [T], guessed: [T]) -> Double {
    precondition(gold.count == guessed.count, "accuracy: \(gold.count) gold labels but \(guessed.count) guessed")
    guard !gold.isEmpty else { return 0 }
    return Double(zip(gold, guessed).filter { $0 == $1 }.count) / Double(gold.count)
}

/// Codable as plain counts (per type: `[guessed, gold, correct]`), so a tagger's history can be saved
/// with its checkpoint and restored exactly.
extension ChunkScore: Codable {
    enum CodingKeys: String, CodingKey { case guessed, gold, correct, tokens, correctTags, byType }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        guessed = try c.decode(Int.self, forKey: .guessed)
        gold = try c.decode(Int.self, forKey: .gold)
        correct = try c.decode(Int.self, forKey: .correct)
        tokens = try c.decode(Int.self, forKey: .tokens)
        correctTags = try c.decode(Int.self, forKey: .correctTags)
        for (type, counts) in try c.decode([String: [Int]].self, forKey: .byType) {
            guard counts.count == 3 else {
                throw DecodingError.dataCorruptedError(forKey: .byType, in: c, debugDescription: "'\(type)' needs [guessed, gold, correct]")
            }
            byType[type] = (counts[0], counts[1], counts[2])
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(guessed, forKey: .guessed)
        try c.encode(gold, forKey: .gold)
        try c.encode(correct, forKey: .correct)
        try c.encode(tokens, forKey: .tokens)
        try c.encode(correctTags, forKey: .correctTags)
        try c.encode(byType.mapValues { [$0.guessed, $0.gold, $0.correct] }, forKey: .byType)
    }
}
