import Foundation
import RecurrentTensor

/// How a file of pretrained word vectors is laid out.
public enum VectorFileFormat: String, Codable, CaseIterable, Sendable {
    /// One word per line followed by its values, separated by spaces (word2vec `-binary 0`, GloVe,
    /// fastText `.vec`). A first line of two integers, "count dimension", is a header (word2vec, fastText);
    /// GloVe files have none. Detected either way.
    case text
    /// word2vec's binary format (`-binary 1`): a text header line "count dimension", then per word its
    /// bytes, a space, and `dimension` little-endian float32 values (optionally followed by a newline).
    case word2vecBinary

    /// `.bin` files are word2vec binary, everything else text.
    public static func guess(forPath path: String) -> VectorFileFormat {
        path.lowercased().hasSuffix(".bin") ? .word2vecBinary : .text
    }
}

/// How a vocabulary word was found among the pretrained vectors.
public enum VectorMatch: String, Sendable {
    /// The word itself.
    case exact
    /// Its lowercased form (lowercased GloVe vectors for a cased vocabulary, as Lample et al. 2016).
    case lowercased
}

/// How much of a vocabulary the pretrained vectors cover.
public struct VectorCoverage: Equatable, Sendable, CustomStringConvertible {
    /// Vocabulary words considered (rows not skipped).
    public var words = 0
    /// Found as they are.
    public var exact = 0
    /// Found only lowercased.
    public var lowercased = 0
    /// Not found: their rows keep their initial values.
    public var missing = 0
    /// The first few missing words, in vocabulary order.
    public var missingExamples: [String] = []

    /// A report of `words` vocabulary words: `exact` and `lowercased` matches, `missing` ones and examples of them.
    public init(words: Int = 0, exact: Int = 0, lowercased: Int = 0, missing: Int = 0, missingExamples: [String] = []) {
        (self.words, self.exact, self.lowercased, self.missing, self.missingExamples) = (words, exact, lowercased, missing, missingExamples)
    }

    public var description: String {
        let share = words == 0 ? 0 : 100 * Double(exact + lowercased) / Double(words)
        var text = "pretrained vectors for \(exact + lowercased) of \(words) words (\(String(format: "%.1f", share))%: \(exact) exact, \(lowercased) lowercased); \(missing) missing"
        if !missingExamples.isEmpty { text += ", e.g. " + missingExamples.joined(separator: " ") }
        return text
    }
}

/// Pretrained word vectors (word2vec, GloVe, fastText) read from a file, to initialise an `Embedding`.
///
/// Everything read is validated where it enters: the header's claims are checked against the file's size
/// before anything is allocated from them, every value must be a finite number, every line (or binary
/// entry) must hold exactly `dimension` values; a malformed file throws a `DataError` naming the line
/// (text) or the entry (binary). When a word appears twice the first vector wins.
public struct PretrainedVectors: Sendable {
    /// Largest dimension accepted (the tagger's embedding limit).
    public static let maximumDimension = 65_536

    /// Values per vector (E).
    public let dimension: Int
    /// The words in file order (duplicates dropped).
    public let words: [String]
    /// (N, E) row-major: row i is the vector of `words[i]`.
    public let values: [Float]
    private let index: [String: Int]

    /// Number of vectors N.
    public var count: Int { words.count }

    /// Reads a vector file.
    /// - Parameters:
    ///   - path: the file.
    ///   - format: its layout; `VectorFileFormat.guess(forPath:)` picks by extension.
    ///   - maximumWords: read at most this many vectors (the first ones: the files list frequent words first); nil: all.
    public init(contentsOf path: String, format: VectorFileFormat, maximumWords: Int? = nil) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw DataError.fileNotFound(path: path) }
        if isDirectory.boolValue { throw DataError.unreadable(path: path, reason: "it is a directory") }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe) } catch {
            throw DataError.unreadable(path: path, reason: error.localizedDescription)
        }
        try self.init(data: data, format: format, path: path, maximumWords: maximumWords)
    }

    /// Reads vectors from bytes in memory; `path` names them in errors.
    public init(data: Data, format: VectorFileFormat, path: String = "<vectors>", maximumWords: Int? = nil) throws {
        guard !data.isEmpty else { throw DataError.empty(path: path) }
        if let maximumWords, maximumWords < 1 { throw DataError.badFile(path: path, reason: "maximumWords must be at least 1, got \(maximumWords)") }
        let limit = maximumWords ?? Int.max
        let parsed = try data.withUnsafeBytes { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            return switch format {
            case .text: try Self.parseText(bytes, path: path, limit: limit)
            case .word2vecBinary: try Self.parseBinary(bytes, path: path, limit: limit)
            }
        }
        (dimension, words, values) = (parsed.dimension, parsed.words, parsed.values)
        index = Dictionary(words.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The row of `word`: the word itself if present, else its lowercased form; nil when neither is.
    public func lookup(_ word: String) -> (row: Int, match: VectorMatch)? {
        if let row = index[word] { return (row, .exact) }
        if let row = index[word.lowercased()] { return (row, .lowercased) }
        return nil
    }

    /// The E values of row `row`.
    public func vector(atRow row: Int) -> ArraySlice<Float> {
        values[(row * dimension)..<((row + 1) * dimension)]
    }

    /// Copies the vector of every vocabulary word found (`lookup`) into its row of `weight`, an embedding's
    /// (V, E) matrix; the other rows keep their (random) initial values.
    /// - Parameters:
    ///   - weight: (V, E) with V = `vocabulary.count`, E = `dimension`; written in place (not recorded by autograd).
    ///   - vocabulary: V words, indexed by id.
    ///   - skipping: ids left alone and not counted (the padding row, which must stay zero; `<unk>`).
    /// - Returns: how many words were found exactly, lowercased, or not at all.
    /// - Throws: `DataError.badVocabulary` when the matrix does not have V rows of E values.
    @discardableResult
    public func fill(_ weight: Tensor<Float>, vocabulary: [String], skipping: Set<Int> = []) throws -> VectorCoverage {
        guard weight.rank == 2, weight.shape[0] == vocabulary.count, weight.shape[1] == dimension else {
            throw DataError.badVocabulary(reason: "the embedding is \(weight.shape), the pretrained vectors need (\(vocabulary.count), \(dimension)): "
                                          + "set the embedding size to \(dimension)")
        }
        var coverage = VectorCoverage()
        let E = dimension
        values.withUnsafeBufferPointer { source in
            for (id, word) in vocabulary.enumerated() where !skipping.contains(id) {
                coverage.words += 1
                guard let (row, match) = lookup(word) else {
                    coverage.missing += 1
                    if coverage.missingExamples.count < 10 { coverage.missingExamples.append(word) }
                    continue
                }
                if match == .exact { coverage.exact += 1 } else { coverage.lowercased += 1 }
                (weight.data + id * E).update(from: source.baseAddress! + row * E, count: E)
            }
        }
        return coverage
    }

    // MARK: parsing

    private typealias Parsed = (dimension: Int, words: [String], values: [Float])

    private static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0D }

    /// The whitespace-separated fields of a line, as byte ranges.
    private static func fields(_ line: Slice<UnsafeBufferPointer<UInt8>>) -> [Range<Int>] {
        var result: [Range<Int>] = []
        var i = line.startIndex
        while i < line.endIndex {
            while i < line.endIndex, isSpace(line[i]) { i += 1 }
            let start = i
            while i < line.endIndex, !isSpace(line[i]) { i += 1 }
            if start < i { result.append(start..<i) }
        }
        return result
    }

    private static func string(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }

    /// A finite Float from the bytes of one field, or nil.
    private static func number(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Float? {
        guard range.count <= 64, let value = Float(string(bytes, range)), value.isFinite else { return nil }
        return value
    }

    /// Checks a header's "count dimension" against the limits and the bytes left: each vector needs at
    /// least `minimumBytesPerValue` bytes per value plus two (a one-byte word and a separator).
    private static func checkHeader(count: Int, dimension: Int, bytesLeft: Int, minimumBytesPerValue: Int, path: String) throws {
        guard dimension >= 1, dimension <= maximumDimension else {
            throw DataError.badRow(path: path, line: 1, reason: "the header's dimension \(dimension) is outside 1...\(maximumDimension)")
        }
        guard count >= 1 else { throw DataError.badRow(path: path, line: 1, reason: "the header claims \(count) vectors") }
        let (perVector, overflow1) = dimension.multipliedReportingOverflow(by: minimumBytesPerValue)
        let (needed, overflow2) = count.multipliedReportingOverflow(by: perVector + 2)
        guard !overflow1, !overflow2, needed <= bytesLeft else {
            throw DataError.badRow(path: path, line: 1, reason: "the header claims \(count) vectors of \(dimension) values, "
                                   + "which need at least \(overflow2 ? "more than \(Int.max)" : "\(needed)") bytes; the file has \(bytesLeft) after the header")
        }
    }

    /// The header "count dimension" if `line` is two non-negative integers.
    private static func header(_ bytes: UnsafeBufferPointer<UInt8>, _ line: Slice<UnsafeBufferPointer<UInt8>>) -> (count: Int, dimension: Int)? {
        let f = fields(line)
        guard f.count == 2, let count = Int(string(bytes, f[0])), let dimension = Int(string(bytes, f[1])) else { return nil }
        return (count, dimension)
    }

    private static func parseText(_ bytes: UnsafeBufferPointer<UInt8>, path: String, limit: Int) throws -> Parsed {
        // Lines as byte ranges (the last one may lack its newline).
        var lines: [Slice<UnsafeBufferPointer<UInt8>>] = []
        var start = 0
        for i in 0..<bytes.count where bytes[i] == 0x0A {
            lines.append(bytes[start..<i])
            start = i + 1
        }
        if start < bytes.count { lines.append(bytes[start..<bytes.count]) }

        var dimension: Int? = nil, claimed: Int? = nil, first = 0
        if let line = lines.first, let h = header(bytes, line) {
            // Each value of a text vector takes at least two bytes ("0 ").
            try checkHeader(count: h.count, dimension: h.dimension, bytesLeft: bytes.count - line.count - 1, minimumBytesPerValue: 2, path: path)
            (dimension, claimed, first) = (h.dimension, h.count, 1)
        }
        var words: [String] = [], values: [Float] = []
        if let claimed, let dimension { values.reserveCapacity(Swift.min(claimed, limit) * dimension) }
        for n in first..<lines.count {
            if words.count == limit { break }
            let f = fields(lines[n])
            if f.isEmpty { continue }                                            // blank lines, a trailing newline
            let lineNumber = n + 1
            if let claimed, words.count == claimed {
                throw DataError.badRow(path: path, line: lineNumber, reason: "the header claims \(claimed) vectors, the file has more")
            }
            if dimension == nil {
                // GloVe: no header; the first line says the dimension.
                guard f.count >= 2 else { throw DataError.badRow(path: path, line: lineNumber, reason: "expected a word and its values, found \(f.count) field") }
                guard f.count - 1 <= maximumDimension else {
                    throw DataError.badRow(path: path, line: lineNumber, reason: "\(f.count - 1) values, more than the limit of \(maximumDimension)")
                }
                dimension = f.count - 1
            }
            let E = dimension!
            // The last E fields are the values; everything before them is the word (GloVe 840B has words with spaces).
            guard f.count > E else {
                throw DataError.badRow(path: path, line: lineNumber, reason: "expected a word and \(E) values, found \(f.count) fields")
            }
            if claimed == nil, f.count != E + 1 {
                throw DataError.badRow(path: path, line: lineNumber, reason: "expected a word and \(E) values, found \(f.count) fields")
            }
            for k in (f.count - E)..<f.count {
                guard let v = number(bytes, f[k]) else {
                    throw DataError.badRow(path: path, line: lineNumber, reason: "value \(k - (f.count - E) + 1), '\(string(bytes, f[k]).prefix(40))', is not a finite number")
                }
                values.append(v)
            }
            words.append(string(bytes, f[0].lowerBound..<f[f.count - E - 1].upperBound))
        }
        guard let dimension, !words.isEmpty else { throw DataError.badFile(path: path, reason: "no vectors") }
        if let claimed, words.count < Swift.min(claimed, limit) {
            throw DataError.badFile(path: path, reason: "the header claims \(claimed) vectors, the file has \(words.count)")
        }
        return deduplicated(dimension, words, values)
    }

    private static func parseBinary(_ bytes: UnsafeBufferPointer<UInt8>, path: String, limit: Int) throws -> Parsed {
        guard let newline = bytes.prefix(100).firstIndex(of: 0x0A), let h = header(bytes, bytes[0..<newline]) else {
            throw DataError.badRow(path: path, line: 1, reason: "expected a header line \"count dimension\" of word2vec's binary format")
        }
        try checkHeader(count: h.count, dimension: h.dimension, bytesLeft: bytes.count - newline - 1, minimumBytesPerValue: 4, path: path)
        let E = h.dimension, n = Swift.min(h.count, limit)
        var words: [String] = [], values = [Float](repeating: 0, count: n * E)
        words.reserveCapacity(n)
        var i = newline + 1
        for k in 0..<n {
            let entry = "vector \(k + 1) of \(h.count)"
            while i < bytes.count, bytes[i] == 0x0A || bytes[i] == 0x20 { i += 1 }  // the newline (or space) after the previous vector
            let start = i
            while i < bytes.count, bytes[i] != 0x20, i - start <= 1000 { i += 1 }
            guard i < bytes.count, i > start, bytes[i] == 0x20 else {
                throw DataError.badItem(path: path, index: entry, reason: i - start > 1000 ? "no space after the word within 1000 bytes"
                                        : "the file ends inside the word")
            }
            words.append(string(bytes, start..<i))
            i += 1
            guard bytes.count - i >= 4 * E else {
                throw DataError.badItem(path: path, index: entry, reason: "the file ends after \(bytes.count - i) of its \(4 * E) bytes of values")
            }
            for j in 0..<E {
                var raw: UInt32 = 0
                for b in 0..<4 { raw |= UInt32(bytes[i + 4 * j + b]) << (8 * b) }
                let v = Float(bitPattern: raw)
                guard v.isFinite else { throw DataError.badItem(path: path, index: entry, reason: "value \(j + 1) is not finite (\(v))") }
                values[k * E + j] = v
            }
            i += 4 * E
        }
        return deduplicated(E, words, values)
    }

    /// Drops every repeated word after its first vector.
    private static func deduplicated(_ dimension: Int, _ words: [String], _ values: [Float]) -> Parsed {
        var seen = Set<String>()
        guard words.contains(where: { !seen.insert($0).inserted }) else { return (dimension, words, values) }
        seen = []
        var keptWords: [String] = [], keptValues: [Float] = []
        for (k, word) in words.enumerated() where seen.insert(word).inserted {
            keptWords.append(word)
            keptValues += values[(k * dimension)..<((k + 1) * dimension)]
        }
        return (dimension, keptWords, keptValues)
    }
}
