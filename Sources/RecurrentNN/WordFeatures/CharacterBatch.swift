/// The characters of many words, padded to the longest: what the character-level word encoders read.
///
/// Ids are laid out time-major, (C, N) row-major: character c of word n at `ids[c · N + n]`, so that an
/// embedding of them is the (C, N, E) sequence batch the recurrent layers take. Id 0 is padding (past each
/// word's length); real characters use ids 1..<V.
public struct CharacterBatch: Equatable, Sendable {
    /// (C, N) character ids, time-major; 0 past each word's length.
    public let ids: [Int]
    /// (N) characters of each word, each at least 1.
    public let lengths: [Int]
    /// Words N.
    public var words: Int { lengths.count }
    /// Characters C of the longest word.
    public let steps: Int

    /// - Parameter words: N words as their character ids, each with at least one id, none of them 0 (padding).
    public init(_ words: [[Int]]) {
        precondition(!words.isEmpty, "CharacterBatch: no words")
        let n = words.count, c = words.map(\.count).max()!
        var ids = [Int](repeating: 0, count: c * n)
        for (w, chars) in words.enumerated() {
            precondition(!chars.isEmpty, "CharacterBatch: word \(w) has no characters")
            for (t, id) in chars.enumerated() {
                precondition(id > 0, "CharacterBatch: word \(w) has character id \(id); 0 is padding, ids must be positive")
                ids[t * n + w] = id
            }
        }
        self.ids = ids
        lengths = words.map(\.count)
        steps = c
    }
}
