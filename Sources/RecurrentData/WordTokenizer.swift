/// A simple word tokenizer for English-like text: lowercases, splits at whitespace, and makes every
/// punctuation or symbol character a token of its own ("Great, 10/10!" → great , 10 / 10 !).
///
/// A word is a run of letters and digits; an apostrophe between two word characters
/// stays inside the word (’ becomes '), so contractions survive ("didn't", "it's"), while quotes around a word do not.
/// Every whitespace character (U+0085 included) separates tokens.
public struct WordTokenizer: Sendable {
    /// The tokenizer (it has no settings).
    public init() {}

    /// The tokens of `text` (same as `tokenize`).
    public func callAsFunction(_ text: String) -> [String] { tokenize(text) }

    /// Lowercases `text` and splits it into words, numbers and single punctuation or symbol characters.
    public func tokenize(_ text: String) -> [String] {
        let characters = Array(text.lowercased())
        var tokens: [String] = []
        var word = ""
        func isWordCharacter(_ c: Character) -> Bool { c.isLetter || c.isNumber }
        func flush() { if !word.isEmpty { tokens.append(word); word = "" } }
        for (i, c) in characters.enumerated() {
            if isWordCharacter(c) {
                word.append(c)
            } else if (c == "'" || c == "’"), !word.isEmpty, i + 1 < characters.count, isWordCharacter(characters[i + 1]) {
                word.append("'")
            } else if c.isWhitespace {
                flush()
            } else {
                flush()
                tokens.append(String(c))
            }
        }
        flush()
        return tokens
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
