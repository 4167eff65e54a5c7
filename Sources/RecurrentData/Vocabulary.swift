import Foundation

/// A bidirectional map between tokens and ids. Special tokens (`<pad>`, `<unk>`, …) come first, so
/// `<pad>` is id 0 when present, as padding-aware layers expect.
public struct Vocabulary: Equatable, Sendable {
    /// Every token, in id order.
    public private(set) var tokens: [String]
    private var ids: [String: Int]
    /// Id that unknown tokens map to, if the vocabulary has `<unk>`.
    public let unknownId: Int?
    /// The id of `<pad>`, when the vocabulary has one.
    public let paddingId: Int?

    /// The padding and unknown-token spellings.
    public static let pad = "<pad>", unk = "<unk>"

    /// A vocabulary with exactly these tokens, in order. Throws on duplicates or empty input.
    public init(tokens: [String]) throws {
        guard !tokens.isEmpty else { throw DataError.badVocabulary(reason: "no tokens") }
        var ids: [String: Int] = [:]
        for (i, t) in tokens.enumerated() {
            if ids[t] != nil { throw DataError.badVocabulary(reason: "token '\(t)' appears twice") }
            ids[t] = i
        }
        self.tokens = tokens
        self.ids = ids
        unknownId = ids[Vocabulary.unk]
        paddingId = ids[Vocabulary.pad]
    }

    /// Builds from a corpus: `specials` first, then tokens seen at least `minCount` times, most frequent
    /// first, ties broken by first appearance (deterministic).
    public init<S: Sequence>(counting corpus: S, minCount: Int = 1, specials: [String] = []) throws where S.Element == String {
        var counts: [String: Int] = [:]
        var order: [String] = []
        for token in corpus {
            if counts[token] == nil { order.append(token) }
            counts[token, default: 0] += 1
        }
        let firstSeen = Dictionary(uniqueKeysWithValues: order.enumerated().map { ($1, $0) })
        let kept = order.filter { counts[$0]! >= minCount && !specials.contains($0) }
            .sorted { (counts[$0]!, firstSeen[$1]!) > (counts[$1]!, firstSeen[$0]!) }
        try self.init(tokens: specials + kept)
    }

    /// Character vocabulary of a text: every distinct character, sorted by code point (char-rnn's choice).
    public static func characters(of text: String) throws -> Vocabulary {
        try Vocabulary(tokens: Set(text.map(String.init)).sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) })
    }

    /// Number of tokens.
    public var count: Int { tokens.count }

    /// The id of `token`; the `<unk>` id for an unknown token when the vocabulary has one, else nil.
    public func id(_ token: String) -> Int? { ids[token] ?? unknownId }

    /// The token with this id, or nil when out of range.
    public func token(_ id: Int) -> String? { id >= 0 && id < tokens.count ? tokens[id] : nil }

    /// Ids of `tokens`; unknown ones map to `<unk>` or throw when there is none.
    public func encode<S: Sequence>(_ tokens: S) throws -> [Int] where S.Element == String {
        try tokens.map { t in
            guard let i = id(t) else { throw DataError.unknownToken(t) }
            return i
        }
    }

    /// Characters of `text` as ids (for character vocabularies).
    public func encode(characters text: String) throws -> [Int] { try encode(text.lazy.map(String.init)) }

    /// The tokens of `ids` joined by `separator`; ids out of range are left out.
    public func decode(_ ids: [Int], separator: String = "") -> String {
        ids.compactMap(token).joined(separator: separator)
    }

    /// JSON array of tokens, for checkpoints and run folders.
    public func jsonString() -> String {
        let data = try! JSONSerialization.data(withJSONObject: tokens, options: [])
        return String(decoding: data, as: UTF8.self)
    }

    /// Parses `jsonString()`'s output, validating it.
    public init(jsonString: String) throws {
        guard let data = jsonString.data(using: .utf8),
              let array = try? JSONSerialization.jsonObject(with: data) as? [Any] else {
            throw DataError.badVocabulary(reason: "expected a JSON array of strings")
        }
        let tokens = try array.map { item -> String in
            guard let s = item as? String else { throw DataError.badVocabulary(reason: "expected strings, found \(type(of: item))") }
            return s
        }
        try self.init(tokens: tokens)
    }
}
