/// Splits raw text into tokens the way sequence-labelling data sets are tokenized, so that a tagger
/// sees at prediction time what it saw in training: "monday morning?" → `monday`, `morning`, `?`.
///
/// Whitespace separates tokens; punctuation at either end of a word is split off (a run of `.`, `!`,
/// `?` stays one token, as `...` and `?!` are in WNUT-17; other marks are one token each); what is
/// inside a word stays (`top-rated`, `r&b`, `U.S`, `3:30`); `@user`, `#tag` and URLs stay whole.
/// With `splitsContractions` (training data tokenized the Penn Treebank way, as CoNLL-2003 and WNUT-17
/// are), `don't` → `do`, `n't` and `it's` → `it`, `'s` (likewise `'m`, `'re`, `'ve`, `'ll`, `'d`).
/// `lowercases` says that the training data has no capitals (SNIPS, ATIS): the tokens keep their case
/// here (they are shown as written) and the caller lowercases what the model reads.
public struct TaggingTokenizer: Equatable, Sendable {
    /// Whether the training data has no capitals, so the caller lowercases what the model reads.
    public var lowercases: Bool
    /// Whether contractions are split the Penn Treebank way (`don't` → `do`, `n't`).
    public var splitsContractions: Bool

    /// A tokenizer with both choices given.
    public init(lowercases: Bool, splitsContractions: Bool) {
        self.lowercases = lowercases
        self.splitsContractions = splitsContractions
    }

    /// The tokenizer that matches a training vocabulary: lowercasing when no word has a capital letter,
    /// splitting contractions when `'s` or `n't` is a word of its own.
    public init(matching words: [String]) {
        lowercases = !words.contains { $0.contains { $0.isUppercase } }
        splitsContractions = words.contains { ["'s", "n't", "'m", "'re"].contains($0.lowercased()) }
    }

    /// One token: its text for the model, and where it is in the line (`Character` offsets).
    public struct Token: Equatable, Sendable {
        /// The token as written.
        public var text: String
        /// Its `Character` offsets in the line.
        public var range: Range<Int>
        /// A token at `range` of the line.
        public init(text: String, range: Range<Int>) {
            self.text = text
            self.range = range
        }
    }

    /// The tokens of one line of raw text (`tokenize(_:)`).
    public func callAsFunction(_ line: String) -> [Token] { tokenize(line) }

    /// The tokens of one line of raw text, in order, each with its place in the line.
    public func tokenize(_ line: String) -> [Token] {
        let characters = Array(line)
        var tokens: [Token] = []
        var i = 0
        while i < characters.count {
            if characters[i].isWhitespace { i += 1; continue }
            var j = i
            while j < characters.count, !characters[j].isWhitespace { j += 1 }
            split(characters, i..<j, into: &tokens)
            i = j
        }
        return tokens
    }

    static func isMark(_ c: Character) -> Bool { (c.isPunctuation || c.isSymbol) && c != "@" && c != "#" }
    static func isSentenceEnd(_ c: Character) -> Bool { c == "." || c == "!" || c == "?" || c == "…" }

    /// Splits one whitespace-free word `range` of `characters`.
    func split(_ characters: [Character], _ range: Range<Int>, into tokens: inout [Token]) {
        func add(_ r: Range<Int>) { if !r.isEmpty { tokens.append(Token(text: String(characters[r]), range: r)) } }
        var lower = range.lowerBound, upper = range.upperBound
        let word = String(characters[range]).lowercased()
        if word.contains("://") || word.hasPrefix("www.") {
            while upper > lower + 1, Self.isMark(characters[upper - 1]), characters[upper - 1] != "/" { upper -= 1 }
            add(lower..<upper)
            splitTrailing(characters, upper..<range.upperBound, add)
            return
        }
        let contractions: Set<String> = ["'s", "n't", "'m", "'d", "'ll", "'re", "'ve"]
        if characters[range].allSatisfy(Self.isMark) || (splitsContractions && contractions.contains(word.replacingOccurrences(of: "’", with: "'"))) {
            add(range)   // "...", "?!", ":)", or a contraction written apart ("'s")
            return
        }
        // Leading marks, one token each (a run of the same mark together: "((", "--").
        while lower < upper, Self.isMark(characters[lower]) {
            var end = lower + 1
            while end < upper, characters[end] == characters[lower] { end += 1 }
            add(lower..<end)
            lower = end
        }
        // Trailing marks.
        var trailingStart = upper
        while trailingStart > lower + 1, Self.isMark(characters[trailingStart - 1]) { trailingStart -= 1 }
        // Contractions in what remains.
        var core = lower..<trailingStart
        var suffix: Range<Int>? = nil
        if splitsContractions {
            let text = String(characters[core]).lowercased().replacingOccurrences(of: "’", with: "'")
            let count = core.count
            if text.hasSuffix("n't"), count > 3 {
                suffix = (core.upperBound - 3)..<core.upperBound
            } else if let apostrophe = text.lastIndex(of: "'"), apostrophe != text.startIndex {
                let tail = text[text.index(after: apostrophe)...]
                if ["s", "m", "d", "ll", "re", "ve"].contains(String(tail)) {
                    suffix = (core.upperBound - tail.count - 1)..<core.upperBound
                }
            }
            if let s = suffix { core = core.lowerBound..<s.lowerBound }
        }
        add(core)
        if let suffix { add(suffix) }
        splitTrailing(characters, trailingStart..<upper, add)
    }

    /// Trailing marks: a run of `.`, `!`, `?` is one token; any other mark (or run of one mark) is one.
    func splitTrailing(_ characters: [Character], _ range: Range<Int>, _ add: (Range<Int>) -> Void) {
        var k = range.lowerBound
        while k < range.upperBound {
            var end = k + 1
            if Self.isSentenceEnd(characters[k]) {
                while end < range.upperBound, Self.isSentenceEnd(characters[end]) { end += 1 }
            } else {
                while end < range.upperBound, characters[end] == characters[k] { end += 1 }
            }
            add(k..<end)
            k = end
        }
    }
}

extension TaggingTokenizer {
    /// Tokens separated by whitespace only (input already tokenized).
    public func whitespaceTokens(_ line: String) -> [Token] {
        let characters = Array(line)
        var tokens: [Token] = [], i = 0
        while i < characters.count {
            if characters[i].isWhitespace { i += 1; continue }
            var j = i
            while j < characters.count, !characters[j].isWhitespace { j += 1 }
            let text = String(characters[i..<j])
            tokens.append(Token(text: text, range: i..<j))
            i = j
        }
        return tokens
    }
}
