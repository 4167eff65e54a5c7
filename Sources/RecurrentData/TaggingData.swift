import Foundation

/// One sentence for sequence labelling: its tokens, one tag per token (BIO), and an optional
/// sentence-level label (the intent, for joint slot filling).
public struct TaggedSentence: Equatable, Sendable {
    /// The sentence's tokens.
    public var tokens: [String]
    /// One tag per token (BIO).
    public var tags: [String]
    /// The sentence's intent, for data sets that have one.
    public var intent: String?

    /// A sentence with one tag per token and an optional intent.
    public init(tokens: [String], tags: [String], intent: String? = nil) {
        precondition(tokens.count == tags.count, "TaggedSentence: \(tokens.count) tokens but \(tags.count) tags")
        self.tokens = tokens
        self.tags = tags
        self.intent = intent
    }
}

/// A sequence-labelling data set: train, validation and test splits.
public struct TaggingDataset: Sendable {
    /// `snips` (folders of seq.in / seq.out / label) or `conll` (token<TAB>tag files).
    public enum Format: String, Sendable, Codable {
        /// Folders of `seq.in` / `seq.out` / `label` files (SNIPS, ATIS).
        case snips
        /// CoNLL files: a token per line with its tag last, a blank line between sentences.
        case conll
    }

    /// The layout the data set was read from.
    public var format: Format
    /// The data set's name: its folder's (`snips`, `atis`, `wnut17`, `conll2003`).
    public var name: String
    /// How the files marked chunks; the splits hold the tags converted to IOB2.
    public var encoding: ChunkEncoding
    /// The training sentences.
    public var train: [TaggedSentence]
    /// The validation sentences.
    public var validation: [TaggedSentence]
    /// The test sentences.
    public var test: [TaggedSentence]
    /// Whether every sentence has an intent (joint slot filling + intent detection).
    public var hasIntents: Bool { !train.isEmpty && train.allSatisfy { $0.intent != nil } }

    /// A data set from sentences already split, with tags in IOB2.
    public init(format: Format, name: String = "", encoding: ChunkEncoding = .iob2,
                train: [TaggedSentence], validation: [TaggedSentence], test: [TaggedSentence]) {
        self.format = format
        self.name = name
        self.encoding = encoding
        self.train = train
        self.validation = validation
        self.test = test
    }

    /// Detects the splits' chunk encoding (one for all three) and converts their tags to IOB2.
    /// - Throws: `DataError.badFile` naming `path` when the tags fit no encoding (`ChunkEncoding.detect`).
    static func converted(format: Format, path: String, train: [TaggedSentence], validation: [TaggedSentence],
                          test: [TaggedSentence]) throws -> TaggingDataset {
        let encoding: ChunkEncoding
        do { encoding = try ChunkEncoding.detect((train + validation + test).map(\.tags)) } catch let error as ChunkEncoding.Mismatch {
            throw DataError.badFile(path: path, reason: error.reason)
        }
        func convert(_ sentences: [TaggedSentence]) -> [TaggedSentence] {
            guard encoding != .iob2 else { return sentences }
            return sentences.map { TaggedSentence(tokens: $0.tokens, tags: encoding.toIOB2($0.tags), intent: $0.intent) }
        }
        let name = URL(fileURLWithPath: path).standardizedFileURL.lastPathComponent
        return TaggingDataset(format: format, name: name, encoding: encoding,
                              train: convert(train), validation: convert(validation), test: convert(test))
    }

    /// Reads a data folder, detecting its format: `train/`, `valid/` (or `dev/`) and `test/` sub-folders
    /// holding `seq.in`, `seq.out` and `label` (SNIPS, ATIS), or files whose names contain `train`, `dev`
    /// (or `valid`, or CoNLL-2003's `testa`) and `test` (or `testb`) in CoNLL format (WNUT-17, CoNLL-2003).
    /// The tags' chunk encoding is detected and converted to IOB2 (`encoding` says which it was); the
    /// data set is named after the folder.
    public static func load(folder path: String) throws -> TaggingDataset {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw DataError.fileNotFound(path: path) }
        guard isDirectory.boolValue else {
            throw DataError.unreadable(path: path, reason: "expected a folder with train/valid/test splits (SNIPS) or *train*, *dev*, *test* files (CoNLL)")
        }
        let folder = URL(fileURLWithPath: path)
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: path).sorted() } catch {
            throw DataError.unreadable(path: path, reason: error.localizedDescription)
        }
        func isFolder(_ name: String) -> Bool {
            var dir: ObjCBool = false
            return FileManager.default.fileExists(atPath: folder.appendingPathComponent(name).path, isDirectory: &dir) && dir.boolValue
        }
        if names.contains("train"), isFolder("train") {
            guard let validName = ["valid", "dev", "validation"].first(where: { names.contains($0) && isFolder($0) }) else {
                throw DataError.fileNotFound(path: folder.appendingPathComponent("valid").path)
            }
            guard names.contains("test"), isFolder("test") else { throw DataError.fileNotFound(path: folder.appendingPathComponent("test").path) }
            return try converted(format: .snips, path: path,
                                  train: try readSNIPSSplit(folder.appendingPathComponent("train").path),
                                  validation: try readSNIPSSplit(folder.appendingPathComponent(validName).path),
                                  test: try readSNIPSSplit(folder.appendingPathComponent("test").path))
        }
        let files = names.filter { !isFolder($0) && !$0.hasPrefix(".") && !$0.lowercased().hasSuffix(".md") }
        func find(_ keys: [String], excluding: [String] = []) throws -> String {
            let matches = files.filter { name in
                keys.contains { name.lowercased().contains($0) } && !excluding.contains { name.lowercased().contains($0) }
            }
            guard matches.count == 1 else {
                let what = keys.map { "*\($0)*" }.joined(separator: " or ")
                throw DataError.unreadable(path: path, reason: matches.isEmpty
                    ? "no \(what) file (expected SNIPS train/valid/test folders or CoNLL *train*, *dev*, *test* files)"
                    : "several \(what) files: \(matches.joined(separator: ", "))")
            }
            return folder.appendingPathComponent(matches[0]).path
        }
        // CoNLL-2003 names its files eng.train, eng.testa (development) and eng.testb (test).
        let hasTestA = files.contains { $0.lowercased().contains("testa") }
        return try converted(format: .conll, path: path,
                             train: try readCoNLL(try find(["train"])),
                             validation: try readCoNLL(try find(hasTestA ? ["dev", "valid", "testa"] : ["dev", "valid"])),
                             test: try readCoNLL(try find(["test"], excluding: hasTestA ? ["testa"] : [])))
    }
}

/// Lines of `text` with their 1-based line numbers (a final newline does not make an empty line; a `\r` before `\n` is dropped).
func numberedLines(text: String) -> [(number: Int, text: Substring)] {
    // Split the bytes, not the Characters: "\r\n" is one Character, so a Character split would read a
    // CRLF file as a single line.
    var lines = text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { Substring($0) }
    if lines.last?.isEmpty == true { lines.removeLast() }
    return lines.enumerated().map { ($0 + 1, $1.hasSuffix("\r") ? $1.dropLast() : $1) }
}

/// Reads one SNIPS/ATIS split: `seq.in` (space-separated tokens), `seq.out` (one tag per token) and
/// `label` (one intent per line), parallel line by line.
/// - Throws: `DataError.badRow` naming the file and line when line counts or token counts disagree,
///   or a line is empty.
public func readSNIPSSplit(_ folder: String) throws -> [TaggedSentence] {
    let base = URL(fileURLWithPath: folder)
    let inPath = base.appendingPathComponent("seq.in").path
    let outPath = base.appendingPathComponent("seq.out").path
    let labelPath = base.appendingPathComponent("label").path
    return try parseSNIPSSplit(seqIn: try readTextFile(inPath), seqOut: try readTextFile(outPath), label: try readTextFile(labelPath), folder: folder)
}

/// Parses the texts of one SNIPS/ATIS split (see `readSNIPSSplit(_:)`); `folder` only names the files in errors.
public func parseSNIPSSplit(seqIn: String, seqOut: String, label: String, folder: String) throws -> [TaggedSentence] {
    let base = URL(fileURLWithPath: folder)
    let inPath = base.appendingPathComponent("seq.in").path
    let outPath = base.appendingPathComponent("seq.out").path
    let labelPath = base.appendingPathComponent("label").path
    let inputs = numberedLines(text: seqIn), outputs = numberedLines(text: seqOut), labels = numberedLines(text: label)
    for (path, lines) in [(outPath, outputs), (labelPath, labels)] where lines.count != inputs.count {
        throw DataError.badRow(path: path, line: min(lines.count, inputs.count) + 1,
                               reason: "has \(lines.count) lines but \(inPath) has \(inputs.count)")
    }
    var sentences: [TaggedSentence] = []
    sentences.reserveCapacity(inputs.count)
    for i in inputs.indices {
        let line = i + 1
        let tokens = inputs[i].text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        let tags = outputs[i].text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        let intent = labels[i].text.trimmingCharacters(in: .whitespaces)
        guard !tokens.isEmpty else { throw DataError.badRow(path: inPath, line: line, reason: "no tokens") }
        guard tags.count == tokens.count else {
            throw DataError.badRow(path: outPath, line: line, reason: "has \(tags.count) tags but \(inPath) has \(tokens.count) tokens")
        }
        guard !intent.isEmpty, !intent.contains(" ") else {
            throw DataError.badRow(path: labelPath, line: line, reason: "expected one intent label, found '\(intent)'")
        }
        sentences.append(TaggedSentence(tokens: tokens, tags: tags, intent: intent))
    }
    return sentences
}

/// Reads a CoNLL-style file: one token per line in whitespace-separated columns, the token first and
/// its tag last (`token<TAB>tag` as WNUT-17, `token POS chunk NER` as CoNLL-2003; columns between are
/// ignored), sentences separated by blank (or whitespace-only) lines. Lines starting with `-DOCSTART-`
/// (document boundaries) are skipped. A line with a tab is split at tabs only, so that a token may hold
/// a space there; otherwise at runs of spaces and tabs. Every line of a file has the same number of columns.
/// The tags are returned as written (see `ChunkEncoding` for their conversion).
/// - Throws: `DataError.badRow` naming the line when it has fewer than two columns, another number of
///   columns than the file's first line, or an empty token or tag; `.empty` when it has no sentence.
public func readCoNLL(_ path: String) throws -> [TaggedSentence] {
    try parseCoNLL(try readTextFile(path), path: path)
}

/// Parses the text of a CoNLL-style file (see `readCoNLL(_:)`); `path` only names it in errors.
public func parseCoNLL(_ text: String, path: String) throws -> [TaggedSentence] {
    var sentences: [TaggedSentence] = []
    var tokens: [String] = [], tags: [String] = []
    var columns: (count: Int, line: Int)? = nil
    func flush() {
        if !tokens.isEmpty { sentences.append(TaggedSentence(tokens: tokens, tags: tags)) }
        tokens = []; tags = []
    }
    for (number, text) in numberedLines(text: text) {
        if text.allSatisfy({ $0 == " " || $0 == "\t" }) { flush(); continue }
        if text.hasPrefix("-DOCSTART-") { flush(); continue }
        let fields = text.contains("\t")
            ? text.split(separator: "\t", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            : text.split(whereSeparator: { $0 == " " }).map(String.init)
        guard fields.count >= 2 else {
            throw DataError.badRow(path: path, line: number, reason: "expected a token and a tag (token<TAB>tag, or whitespace-separated "
                                   + "columns with the token first and the tag last), found \(fields.count) column")
        }
        if let columns, columns.count != fields.count {
            throw DataError.badRow(path: path, line: number, reason: "has \(fields.count) columns but line \(columns.line) has \(columns.count)")
        }
        columns = columns ?? (fields.count, number)
        let token = fields[0], tag = fields[fields.count - 1]
        guard !token.isEmpty else { throw DataError.badRow(path: path, line: number, reason: "empty token") }
        guard !tag.isEmpty, !tag.contains(" ") else { throw DataError.badRow(path: path, line: number, reason: "expected one tag, found '\(tag)'") }
        tokens.append(token)
        tags.append(tag)
    }
    flush()
    guard !sentences.isEmpty else { throw DataError.empty(path: path) }
    return sentences
}

/// The vocabularies of a tagging task: words (`<pad>` = 0, `<unk>`), tags (`<pad>` = 0, used as the
/// loss's ignore index) and intents (none when the data has no intents).
public struct TaggingVocabularies: Equatable, Sendable {
    /// Words: `<pad>` 0, `<unk>` 1, then words.
    public var words: Vocabulary
    /// Tags: `<pad>` 0, then tags.
    public var tags: Vocabulary
    /// Intents, or nil when the data has none.
    public var intents: Vocabulary?
    /// Words are looked up lowercased (`words` holds lowercased words).
    public var lowercase: Bool
    /// Characters of the training words (`<pad>` = 0, `<unk>` = 1, then by code point), for character-level
    /// word features; nil when the model has none.
    public var characters: Vocabulary?

    /// Groups the vocabularies; `lowercase` says whether `words` holds lowercased words.
    public init(words: Vocabulary, tags: Vocabulary, intents: Vocabulary?, lowercase: Bool = false, characters: Vocabulary? = nil) {
        self.words = words
        self.tags = tags
        self.intents = intents
        self.lowercase = lowercase
        self.characters = characters
    }

    /// The character vocabulary of `sentences`' tokens (as written, never lowercased): `<pad>`, `<unk>`,
    /// then every character by code point.
    public static func characters(of sentences: [TaggedSentence]) throws -> Vocabulary {
        var seen = Set<String>()
        for s in sentences { for token in s.tokens { for c in token { seen.insert(String(c)) } } }
        seen.subtract([Vocabulary.pad, Vocabulary.unk])
        return try Vocabulary(tokens: [Vocabulary.pad, Vocabulary.unk] + seen.sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) })
    }

    /// The character ids of `token` (unknown characters: `<unk>`), at most `limit` of them (the first
    /// and last halves of a longer token), never empty.
    public func characterIds(_ token: String, limit: Int = 32) -> [Int] {
        guard let characters else { return [] }
        let unk = characters.unknownId ?? 1
        var ids = token.map { characters.id(String($0)) ?? unk }
        if ids.count > limit { ids = Array(ids.prefix(limit / 2) + ids.suffix(limit - limit / 2)) }
        return ids.isEmpty ? [unk] : ids
    }

    /// Builds the vocabularies from training sentences; words seen fewer than `minCount` times become `<unk>`.
    /// With `lowercase`, words are counted (and later looked up) lowercased.
    public init(training sentences: [TaggedSentence], minCount: Int = 1, lowercase: Bool = false) throws {
        self.lowercase = lowercase
        words = try Vocabulary(counting: sentences.lazy.flatMap(\.tokens).map { lowercase ? $0.lowercased() : $0 }, minCount: minCount,
                               specials: [Vocabulary.pad, Vocabulary.unk])
        tags = try Vocabulary(tokens: [Vocabulary.pad] + Self.ordered(sentences.flatMap(\.tags)))
        let intentLabels = sentences.compactMap(\.intent)
        intents = intentLabels.count == sentences.count && !intentLabels.isEmpty ? try Vocabulary(tokens: Self.ordered(intentLabels)) : nil
    }

    /// The id of `token` in `words` (lowercased first with `lowercase`), nil when absent.
    @inline(__always)
    public func wordId(_ token: String) -> Int? { words.id(lowercase ? token.lowercased() : token) }

    /// Distinct labels sorted by name (stable across runs and data order).
    static func ordered(_ labels: [String]) -> [String] { Array(Set(labels)).sorted() }

    /// `{"words": [...], "tags": [...], "intents": [...]}` for run folders.
    public func jsonString() -> String {
        var object: [String: [String]] = ["words": words.tokens, "tags": tags.tokens]
        if let intents { object["intents"] = intents.tokens }
        if let characters { object["characters"] = characters.tokens }
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }
}

/// A padded batch of tagged sentences, time-major: element (t, b) at index t·B + b.
public struct TaggingBatch: Sendable {
    /// (T, B) word ids; `<pad>` past each length.
    public var words: [Int]
    /// (T, B) tag ids; `ignoreIndex` past each length and for tags the vocabulary lacks.
    public var tags: [Int]
    /// (B) intent ids, `intentIgnoreIndex` when unknown or absent.
    public var intents: [Int]
    /// (B) valid steps of each sentence.
    public var lengths: [Int]
    /// T, the longest sentence of the batch, and B, the number of sentences.
    public var steps: Int, batch: Int
    /// (T, B) the tokens as written; "" past each length.
    public var surface: [String]
    /// With a character vocabulary: the character ids of each distinct token of the batch, and for each
    /// (t, b) 1 + the index of its token there (0 past each length). Empty without one.
    public var distinctWordCharacters: [[Int]] = [], wordIndex: [Int] = []
    /// The sentences' positions in the list the batch was made from.
    public var indices: [Int]

    /// Target id meaning "no target" (the tag vocabulary's `<pad>`).
    public static let ignoreIndex = 0
    /// Intent target meaning "no target" (intents have no `<pad>`).
    public static let intentIgnoreIndex = -1

    /// - Parameters:
    ///   - sentences: the data set.
    ///   - indices: which sentences, in batch order.
    ///   - maxSteps: sentences longer than this are cut (nil: no limit).
    public init(_ sentences: [TaggedSentence], indices: [Int], vocabularies: TaggingVocabularies, maxSteps: Int? = nil) {
        precondition(!indices.isEmpty, "TaggingBatch: no sentences")
        let B = indices.count
        let lengths = indices.map { i in min(sentences[i].tokens.count, maxSteps ?? .max) }
        let T = lengths.max()!
        let pad = vocabularies.words.paddingId ?? 0
        var words = [Int](repeating: pad, count: T * B), tags = [Int](repeating: Self.ignoreIndex, count: T * B)
        var intents = [Int](repeating: Self.intentIgnoreIndex, count: B)
        var surface = [String](repeating: "", count: T * B)
        for (b, i) in indices.enumerated() {
            let s = sentences[i]
            for t in 0..<lengths[b] {
                words[t * B + b] = vocabularies.wordId(s.tokens[t]) ?? pad
                tags[t * B + b] = vocabularies.tags.id(s.tags[t]) ?? Self.ignoreIndex
                surface[t * B + b] = s.tokens[t]
            }
            if let intent = s.intent, let v = vocabularies.intents, let id = v.id(intent) { intents[b] = id }
        }
        var distinct: [[Int]] = [], index: [Int] = []
        if vocabularies.characters != nil {
            var position: [String: Int] = [:]
            index = [Int](repeating: 0, count: T * B)
            for (n, token) in surface.enumerated() where !token.isEmpty {
                if let k = position[token] { index[n] = k + 1; continue }
                position[token] = distinct.count
                distinct.append(vocabularies.characterIds(token))
                index[n] = distinct.count
            }
        }
        self.surface = surface
        distinctWordCharacters = distinct
        wordIndex = index
        self.words = words
        self.tags = tags
        self.intents = intents
        self.lengths = lengths
        self.steps = T
        self.batch = B
        self.indices = indices
    }

    /// Batches over `sentences` in order (the last one may be smaller).
    public static func sequential(_ sentences: [TaggedSentence], batch: Int, vocabularies: TaggingVocabularies) -> [TaggingBatch] {
        stride(from: 0, to: sentences.count, by: batch).map {
            TaggingBatch(sentences, indices: Array($0..<min($0 + batch, sentences.count)), vocabularies: vocabularies)
        }
    }
}

extension TaggingVocabularies {
    /// Why a model with these vocabularies cannot be scored on `sentences` (tags in IOB2), or nil when it can:
    /// more than half of the sentences' chunk types are ones the model never learnt (another data set's
    /// tags), intents where the model has no intent head (or the reverse), or intents of which fewer than
    /// half are the model's (whole, or one `#` part). A few unseen tags or intents (a rare `I-X` of a small
    /// training set, ATIS's five multi-intent test labels) are allowed: `unknownTags` lists them, and the
    /// evaluation counts them wrong and reports the intents.
    public func mismatch(_ sentences: [TaggedSentence]) -> String? {
        func type(_ tag: String) -> String? { ChunkEncoding.prefixed(tag).map { String($0.type) } }
        let modelTypes = Set(tags.tokens.compactMap(type))
        let dataTypes = Set(sentences.lazy.flatMap(\.tags).compactMap(type))
        let unknownTypes = dataTypes.subtracting(modelTypes).sorted()
        if 2 * unknownTypes.count > dataTypes.count {
            let shown = unknownTypes.prefix(8).joined(separator: ", ") + (unknownTypes.count > 8 ? ", …" : "")
            let known = modelTypes.sorted()
            return "\(unknownTypes.count) of the data's \(dataTypes.count) entity types are not the model's (\(shown)); "
                + "the model was trained on \(known.count): \(known.prefix(8).joined(separator: ", "))\(known.count > 8 ? ", …" : "")"
        }
        let withIntents = sentences.count { $0.intent != nil }
        switch (intents, withIntents) {
        case (nil, let n) where n > 0:
            return "the data has intents but the model has no intent head (it was trained on data without intents)"
        case (.some, 0):
            return "the model predicts intents but the data has none (it was trained on data with intents)"
        case let (.some(v), n) where n > 0:
            let names = Set(v.tokens)
            let knownCount = sentences.count { s in
                guard let intent = s.intent else { return false }
                return names.contains(intent) || intent.split(separator: "#").contains { names.contains(String($0)) }
            }
            if 2 * knownCount < n {
                return "only \(knownCount) of the data's \(n) intents are among the model's \(v.count) (\(v.tokens.prefix(5).joined(separator: ", "))…)"
            }
        default: break
        }
        return nil
    }

    /// Tags of `sentences` that are not in `tags` (the model never predicts them), sorted.
    public func unknownTags(_ sentences: [TaggedSentence]) -> [String] {
        Set(sentences.lazy.flatMap(\.tags)).subtracting(tags.tokens).sorted()
    }
}
