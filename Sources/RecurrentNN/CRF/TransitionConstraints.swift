/// A tagging scheme whose tag names imply which tag may follow which.
public enum TagScheme: String, Codable, CaseIterable, Sendable {
    /// IOB2: every chunk starts with `B-X`, continues with `I-X`; `O` outside chunks.
    case bio
    /// BIOES (IOBES): `B-X I-X… E-X` for chunks of two or more tokens, `S-X` for one token, `O` outside.
    case bioes
}

/// Which transitions a linear-chain CRF may use: from the sentence start to a tag, from tag to tag,
/// and from a tag to the sentence end. A disallowed transition gets a score of
/// `TransitionConstraints.penalty` added, in the likelihood and in decoding alike.
///
/// Built from tag names (`TransitionConstraints(scheme:tags:)`) or given explicitly.
public struct TransitionConstraints: Equatable, Sendable {
    /// Added to the score of every disallowed transition. Finite (as AllenNLP's −10000), so the forward
    /// algorithm never sees −∞ − (−∞) and cannot produce NaN; e^−10000 is exactly 0 in Float and Double,
    /// so a disallowed transition has probability 0 whenever an allowed path exists.
    public static var penalty: Double { -10_000 }

    /// Tags K.
    public let tagCount: Int
    /// (K): may a sentence start with tag j?
    public let allowedStart: [Bool]
    /// (K): may a sentence end with tag i?
    public let allowedEnd: [Bool]
    /// (K, K) row-major: may tag j (column) follow tag i (row)?
    public let allowed: [Bool]

    /// - Parameters:
    ///   - allowedStart: (K) tags a sentence may start with.
    ///   - allowedEnd: (K) tags a sentence may end with.
    ///   - allowed: K rows of K: `allowed[i][j]` says whether tag j may follow tag i.
    public init(allowedStart: [Bool], allowedEnd: [Bool], allowed: [[Bool]]) {
        let k = allowedStart.count
        precondition(k > 0 && allowedEnd.count == k && allowed.count == k && allowed.allSatisfy { $0.count == k },
                     "TransitionConstraints: start \(allowedStart.count), end \(allowedEnd.count) and a \(allowed.count)-row matrix must all have K entries")
        tagCount = k
        self.allowedStart = allowedStart
        self.allowedEnd = allowedEnd
        self.allowed = allowed.flatMap { $0 }
    }

    /// Every transition allowed except those from or to a tag of `forbidden` (a `<pad>` tag that must never
    /// be decoded, for a CRF without a tagging scheme).
    /// - Parameters:
    ///   - tagCount: tags K.
    ///   - forbidden: tag ids in 0..<K that no path may contain.
    public init(tagCount: Int, forbidden: Set<Int>) {
        let ok = (0..<tagCount).map { !forbidden.contains($0) }
        self.init(allowedStart: ok, allowedEnd: ok, allowed: ok.map { from in ok.map { from && $0 } })
    }

    /// The constraints of `scheme` for the tag names in id order.
    ///
    /// BIO (IOB2): `I-X` only after `B-X` or `I-X` (never at the start, never after `O` or `B-Y`/`I-Y`).
    /// BIOES: additionally `B-X`/`I-X` must be followed by `I-X` or `E-X`, a sentence may not end in
    /// `B-X`/`I-X`, and `I-X`/`E-X` never follow `O`, `E-Y`, `S-Y` or the start.
    /// A name that is not a tag of the scheme (`O`, or a prefix `B-`, `I-` — and `E-`, `S-` for BIOES —
    /// followed by a type) is never allowed anywhere: the tagger's `<pad>` tag, for instance, is never
    /// a transition's source or target, so decoding never outputs it.
    /// - Parameters:
    ///   - scheme: how tag names encode chunks.
    ///   - tags: K tag names, indexed by tag id.
    public init(scheme: TagScheme, tags: [String]) {
        let parsed = tags.map { Self.parse($0, scheme: scheme) }
        let k = tags.count
        var start = [Bool](repeating: false, count: k), end = start
        var matrix = [[Bool]](repeating: start, count: k)
        for j in 0..<k {
            guard let to = parsed[j] else { continue }
            start[j] = Self.follows(nil, to, scheme: scheme)
            end[j] = Self.precedesEnd(to, scheme: scheme)
            for i in 0..<k {
                guard let from = parsed[i] else { continue }
                matrix[i][j] = Self.follows(from, to, scheme: scheme)
            }
        }
        self.init(allowedStart: start, allowedEnd: end, allowed: matrix)
    }

    /// May tag `to` follow tag `from`?
    public func allows(from: Int, to: Int) -> Bool { allowed[from * tagCount + to] }

    /// The prefix letter (O, B, I, E, S) and chunk type of a tag name, nil outside the scheme.
    static func parse(_ name: String, scheme: TagScheme) -> (prefix: Character, type: Substring)? {
        if name == "O" { return ("O", "") }
        let prefixes: Set<Character> = scheme == .bio ? ["B", "I"] : ["B", "I", "E", "S"]
        guard name.count > 2, let first = name.first, prefixes.contains(first), name.dropFirst().first == "-" else { return nil }
        return (first, name.dropFirst(2))
    }

    /// May `to` follow `from` (nil: the sentence start)?
    static func follows(_ from: (prefix: Character, type: Substring)?, _ to: (prefix: Character, type: Substring), scheme: TagScheme) -> Bool {
        // Inside a chunk: after B-X or I-X (and only there) comes I-X or (BIOES) E-X of the same type.
        let inside = from.map { $0.prefix == "B" || $0.prefix == "I" } ?? false
        let continues = to.prefix == "I" || to.prefix == "E"
        switch scheme {
        case .bio:
            guard continues else { return true }
            return inside && from!.type == to.type
        case .bioes:
            if inside { return continues && from!.type == to.type }
            return !continues
        }
    }

    /// May a sentence end with `tag`? Always in BIO; in BIOES not inside a chunk.
    static func precedesEnd(_ tag: (prefix: Character, type: Substring), scheme: TagScheme) -> Bool {
        scheme == .bio || !(tag.prefix == "B" || tag.prefix == "I")
    }
}
