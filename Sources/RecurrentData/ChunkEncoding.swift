/// How the tags of a sequence-labelling data set mark chunks (entities, slots). Readers detect it
/// (`detect(_:)`) and convert every data set to IOB2 (`toIOB2(_:)`), the one encoding models train on
/// and scores are computed from, so that a data set in any of these encodings scores the same chunks.
///
/// - `iob1`: `I-X` starts a chunk; `B-X` only where a chunk follows another of the same type (CoNLL-2003 as distributed).
/// - `iob2`: every chunk starts with `B-X` and continues with `I-X` (SNIPS, ATIS, WNUT-17).
/// - `bioes`: `B-X I-X… E-X` for longer chunks, `S-X` for one token (IOBES).
/// - `bilou`: BIOES spelt `B- I- L- U-`.
/// - `plain`: no prefixes (`PER`, `LOC`, `O`): a chunk is a run of tokens of the same type, so two adjacent
///   chunks of one type merge (the IO encoding cannot tell them apart).
///
/// `O` is outside every chunk in all of them.
public enum ChunkEncoding: String, Codable, CaseIterable, Sendable {
    /// IOB1 (CoNLL-2003 as distributed): `I-X` inside, `B-X` only where a chunk follows one of the same type.
    case iob1
    /// IOB2 (BIO): every chunk starts with `B-X`; the encoding the data is converted to.
    case iob2
    /// BIOES: `B-X` begin, `I-X` inside, `E-X` end, `S-X` a one-token chunk.
    case bioes
    /// BILOU: BIOES with `L-` for the last token and `U-` for a unit chunk.
    case bilou
    /// Types without prefixes (`PER`, `O`): each run of one type is one chunk.
    case plain

    /// Why a data set's tags fit none of the encodings.
    public struct Mismatch: Error, Equatable, Sendable, CustomStringConvertible {
        /// The message, naming the tags that disagree.
        public var reason: String
        public var description: String { reason }
    }

    /// A tag's prefix letter and type, or nil for a tag without a prefix (`O`, `PER`, `creative-work`).
    static func prefixed(_ tag: String) -> (prefix: Character, type: Substring)? {
        let scalars = tag.utf8
        guard scalars.count > 2, let first = tag.first, "BIESLU".contains(first), tag.dropFirst().first == "-" else { return nil }
        return (first, tag.dropFirst(2))
    }

    /// The encoding of `sentences` (tag sequences), by the prefixes the tags use: BIOES when `E-`/`S-`
    /// occur, BILOU when `L-`/`U-` do, IOB1 when some `I-X` starts a chunk (follows neither `B-X` nor
    /// `I-X`), IOB2 otherwise (also for data with `O` tags only); `plain` when no tag but `O` has a prefix.
    /// - Throws: `Mismatch` naming two example tags when prefixed and unprefixed tags are mixed
    ///   (`B-PER` beside `LOC`) or BIOES and BILOU letters are (`E-X` beside `L-Y`).
    public static func detect(_ sentences: [[String]]) throws -> ChunkEncoding {
        var prefixedExample: String?, plainExample: String?
        var letters: [Character: String] = [:]
        var iStartsChunk = false
        for tags in sentences {
            var previous: (prefix: Character, type: Substring)? = nil
            for tag in tags {
                if tag == "O" { previous = nil; continue }
                guard let p = prefixed(tag) else {
                    plainExample = plainExample ?? tag
                    previous = nil
                    continue
                }
                prefixedExample = prefixedExample ?? tag
                if letters[p.prefix] == nil { letters[p.prefix] = tag }
                if p.prefix == "I", !(previous.map { ($0.prefix == "B" || $0.prefix == "I") && $0.type == p.type } ?? false) { iStartsChunk = true }
                previous = p
            }
        }
        if let plainExample, let prefixedExample {
            throw Mismatch(reason: "the tags mix prefixed and unprefixed labels ('\(prefixedExample)' and '\(plainExample)'): "
                + "expected one of IOB1, IOB2, BIOES, BILOU (B-/I-/E-/S-/L-/U- prefixes) or plain tags without prefixes")
        }
        if plainExample != nil { return .plain }
        let bioes = letters["E"] ?? letters["S"], bilou = letters["L"] ?? letters["U"]
        if let bioes, let bilou {
            throw Mismatch(reason: "the tags mix BIOES and BILOU prefixes ('\(bioes)' and '\(bilou)')")
        }
        if bioes != nil { return .bioes }
        if bilou != nil { return .bilou }
        return iStartsChunk ? .iob1 : .iob2
    }

    /// `tags` (one sentence, in this encoding) in IOB2: the same chunks, each starting with `B-`.
    /// A tag that breaks its encoding's rules (an `I-X` after `O` in BIOES, say) starts a chunk, as conlleval reads it.
    public func toIOB2(_ tags: [String]) -> [String] {
        var out: [String] = []
        out.reserveCapacity(tags.count)
        var previous: (prefix: Character, type: Substring)? = nil   // nil: outside a chunk
        for tag in tags {
            if tag == "O" { out.append("O"); previous = nil; continue }
            let current: (prefix: Character, type: Substring)
            let starts: Bool
            switch self {
            case .plain:
                current = ("I", Substring(tag))
                starts = previous?.type != current.type
            case .iob1, .iob2, .bioes, .bilou:
                guard let p = Self.prefixed(tag) else { out.append(tag); previous = nil; continue }
                current = p
                let opens: Set<Character> = ["B", "S", "U"], closed: Set<Character> = ["E", "S", "L", "U"]
                starts = opens.contains(p.prefix) || previous == nil || previous!.type != p.type || closed.contains(previous!.prefix)
            }
            out.append((starts ? "B-" : "I-") + current.type)
            previous = current
        }
        return out
    }
}

extension TaggedSentence {
    /// The chunks of IOB2 `tags` as (type, tokens `range`), in order; an `I-X` that does not continue
    /// an `X` chunk starts one, as conlleval reads it.
    public static func chunks(_ tags: [String]) -> [(type: String, range: Range<Int>)] {
        var chunks: [(type: String, range: Range<Int>)] = []
        var open: (type: String, start: Int)? = nil
        func close(_ end: Int) { if let o = open { chunks.append((o.type, o.start..<end)) }; open = nil }
        for (i, tag) in tags.enumerated() {
            guard tag != "O", let p = ChunkEncoding.prefixed(tag), p.prefix == "B" || p.prefix == "I" else { close(i); continue }
            let type = String(p.type)
            if p.prefix == "I", open?.type == type { continue }
            close(i)
            open = (type, i)
        }
        close(tags.count)
        return chunks
    }
}
