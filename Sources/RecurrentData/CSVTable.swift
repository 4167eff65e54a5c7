import CSV
import Foundation

/// The field separator of a column file.
public enum CSVSeparator: String, Codable, CaseIterable, Sendable {
    /// Detected from the first lines (see `CSVTableReader`).
    case auto
    /// `,` (RFC 4180), `;`, tab, `|`.
    case comma, semicolon, tab, pipe
    /// Runs of spaces and tabs (NOAA's text files); no quoting.
    case whitespace

    /// The one character of a delimited format, nil for `auto` and `whitespace`.
    public var character: UnicodeScalar? {
        switch self {
        case .comma: ","
        case .semicolon: ";"
        case .tab: "\t"
        case .pipe: "|"
        case .auto, .whitespace: nil
        }
    }

    /// How messages show it: `','`, `tab`, `whitespace`.
    public var shown: String {
        switch self {
        case .tab: "tab"
        case .auto, .whitespace: rawValue
        default: "'\(character!)'"
        }
    }
}

/// The rows of a column file, each with the 1-based line it starts on; comment (`#`) and blank lines left out.
public struct CSVTable: Equatable, Sendable {
    /// The fields of every data row, in file order.
    public var rows: [[String]]
    /// The 1-based line each row starts on, for messages.
    public var lines: [Int]
    /// The separator the rows were split at (detected when `.auto` was asked for).
    public var separator: CSVSeparator
    /// `#` lines before the first row (NOAA's files describe their columns there).
    public var comments: [String]
}

/// Reads RFC 4180 CSV (and semicolon, tab, pipe and whitespace-separated files) through yaslab/CSV.swift.
///
/// The library parses quoting leniently (an unterminated quote runs to the end of the file, text after a
/// closing quote is kept); a file with such a mistake would be read as something else without a word, so
/// one pass over the bytes checks the quoting first and names the line of the first mistake. The same pass
/// blanks `#` comment lines (outside quotes, keeping the line count) and remembers the line each record
/// starts on, which the library does not report.
///
/// Separator detection (`.auto`): on the first 20 records, the first of `,` `;` tab `|` that occurs
/// outside quotes the same number of times (at least once) on each; otherwise whitespace when the first
/// record has several space-separated fields; otherwise comma (one column).
public enum CSVTableReader {
    static let candidates: [CSVSeparator] = [.comma, .semicolon, .tab, .pipe]

    /// Parses `text` (read from `path`, which messages name) with the given separator, or the detected one for `.auto`.
    /// - Throws: `DataError.badRow` naming the line of a quoting mistake or a row that does not split.
    public static func parse(_ text: String, path: String, separator: CSVSeparator = .auto) throws -> CSVTable {
        let bytes = Array(text.utf8)
        let records = scanRecords(bytes)
        let chosen = try choose(separator, records: records, bytes: bytes, path: path)
        var cleaned = bytes
        var comments: [String] = []
        var seenData = false
        for r in records {
            guard r.isComment else {
                if !bytes[r.start..<r.end].allSatisfy({ $0 == 32 || $0 == 9 || $0 == 13 }) { seenData = true }
                continue
            }
            if !seenData { comments.append(String(decoding: bytes[r.start..<r.end], as: UTF8.self)) }
            for i in r.start..<r.end where cleaned[i] != 10 && cleaned[i] != 13 { cleaned[i] = UInt8(ascii: " ") }
        }
        if chosen == .whitespace {
            for i in cleaned.indices where cleaned[i] == UInt8(ascii: "\t") { cleaned[i] = UInt8(ascii: " ") }
        } else {
            try checkQuoting(bytes, records: records, separator: UInt8(chosen.character!.value), path: path)
        }
        let delimiter: UnicodeScalar = chosen.character ?? " "
        let reader = try CSVReader(string: String(decoding: cleaned, as: UTF8.self), hasHeaderRow: false, trimFields: true, delimiter: delimiter)
        var rows: [[String]] = [], lines: [Int] = []
        var line = 1
        while let row = reader.next() {
            let start = line
            for field in row { line += newlines(in: field) }
            line += 1
            let fields = chosen == .whitespace ? row.filter { !$0.isEmpty } : row
            // A blank (or blanked comment) line; a line of separators is a row of missing values.
            if fields.isEmpty || (fields.count == 1 && fields[0].trimmingCharacters(in: .whitespaces).isEmpty) { continue }
            rows.append(fields)
            lines.append(start)
        }
        if let error = reader.error { throw DataError.unreadable(path: path, reason: "\(error)") }
        return CSVTable(rows: rows, lines: lines, separator: chosen, comments: comments)
    }

    /// A record (a line, or several when a quoted field holds line breaks), found without knowing the separator.
    struct Record {
        var start: Int, end: Int, line: Int
        var isComment: Bool
        /// Occurrences outside quotes of `,` `;` tab `|`.
        var counts: [Int]
    }

    /// Splits into records; quotes toggle (an escaped `""` toggles twice), so the counts are outside quotes.
    static func scanRecords(_ b: [UInt8]) -> [Record] {
        let seps: [UInt8] = [44, 59, 9, 124]
        var records: [Record] = []
        var i = 0, line = 1
        while i < b.count {
            let start = i, startLine = line
            var inQuote = false
            var counts = [0, 0, 0, 0]
            var firstNonSpace: UInt8? = nil
            while i < b.count {
                let c = b[i]
                if firstNonSpace == nil, c != 32, c != 9 { firstNonSpace = c }
                if c == 34 { inQuote.toggle() }
                else if c == 10 || c == 13 {
                    if c == 13, i + 1 < b.count, b[i + 1] == 10 { i += 1 }
                    line += 1
                    if !inQuote || firstNonSpace == 35 { break }
                } else if !inQuote, let k = seps.firstIndex(of: c) { counts[k] += 1 }
                i += 1
            }
            let end = min(i, b.count)
            i += 1
            // A comment line ends at its line break whatever quotes it holds.
            records.append(Record(start: start, end: end, line: startLine, isComment: firstNonSpace == 35, counts: counts))
        }
        return records
    }

    static func choose(_ requested: CSVSeparator, records: [Record], bytes: [UInt8], path: String) throws -> CSVSeparator {
        let data = records.filter { !$0.isComment && $0.end > $0.start && !bytes[$0.start..<$0.end].allSatisfy { $0 == 32 || $0 == 9 || $0 == 13 || $0 == 10 } }
        let sample = Array(data.prefix(20))
        guard let first = sample.first else { throw DataError.empty(path: path) }
        if requested != .auto {
            if let k = candidates.firstIndex(of: requested), sample.allSatisfy({ $0.counts[k] == 0 }) {
                let found = candidates.indices.first { first.counts[$0] > 0 }.map { "; it has \(candidates[$0].shown): try --separator \(candidates[$0].rawValue)" } ?? ""
                throw DataError.badRow(path: path, line: first.line, reason: "the separator \(requested.shown) splits nothing (no line of the first \(sample.count) holds one)\(found)")
            }
            return requested
        }
        for (k, candidate) in candidates.enumerated() where first.counts[k] > 0 && sample.allSatisfy({ $0.counts[k] == first.counts[k] }) {
            return candidate
        }
        // Inconsistent counts (ragged rows): the most frequent candidate still splits best, and the row
        // that is short will be reported with its line.
        if let k = candidates.indices.max(by: { first.counts[$0] < first.counts[$1] }), first.counts[k] > 0 { return candidates[k] }
        let firstText = String(decoding: bytes[first.start..<first.end], as: UTF8.self)
        if firstText.split(whereSeparator: { $0 == " " || $0 == "\t" }).count > 1, !firstText.contains("\"") { return .whitespace }
        return .comma
    }

    /// RFC 4180 quoting: a quote opens a field or is doubled inside a quoted one; a closing quote is followed
    /// by the separator or the end of the line; every opened quote closes.
    static func checkQuoting(_ b: [UInt8], records: [Record], separator: UInt8, path: String) throws {
        for r in records where !r.isComment {
            var i = r.start, line = r.line
            var atFieldStart = true
            while i < r.end {
                let c = b[i]
                if c == 34 {
                    guard atFieldStart else {
                        throw DataError.badRow(path: path, line: line, reason: "a quote (\") inside an unquoted field; quote the whole field and double the quote (RFC 4180)")
                    }
                    // Quoted field: to the closing quote.
                    let openLine = line
                    i += 1
                    var closed = false
                    while i < b.count {
                        if b[i] == 34 {
                            if i + 1 < b.count, b[i + 1] == 34 { i += 2; continue }
                            closed = true
                            break
                        }
                        if b[i] == 10 { line += 1 }
                        i += 1
                    }
                    guard closed else { throw DataError.badRow(path: path, line: openLine, reason: "a quoted field is never closed (quote opened here)") }
                    i += 1
                    while i < r.end, b[i] == 32 || b[i] == 9, b[i] != separator { i += 1 }
                    if i < r.end, b[i] != separator, b[i] != 10, b[i] != 13 {
                        throw DataError.badRow(path: path, line: line, reason: "text after the closing quote of a field; a quote inside a quoted field is written twice (RFC 4180)")
                    }
                    continue
                }
                if c == separator { atFieldStart = true } else if c != 32, c != 9 { atFieldStart = false }
                i += 1
            }
        }
    }

    static func newlines(in field: String) -> Int {
        var n = 0
        var previous: UInt8 = 0
        for c in field.utf8 {
            if c == 10, previous != 13 { n += 1 } else if c == 13 { n += 1 }
            previous = c
        }
        return n
    }
}
