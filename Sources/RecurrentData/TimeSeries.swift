import Foundation

/// Which column of a column file holds the series: a 0-based index or a header name.
public enum TimeSeriesColumn: Equatable, Sendable, CustomStringConvertible {
    case index(Int)
    case name(String)

    /// "3" is an index, anything else a name.
    public init(parsing text: String) {
        if let i = Int(text.trimmingCharacters(in: .whitespaces)) { self = .index(i) } else { self = .name(text) }
    }

    public var description: String {
        switch self {
        case let .index(i): "\(i)"
        case let .name(n): n
        }
    }
}

/// A univariate series read from a file, with every missing value filled (see `TimeSeriesReader`).
public struct TimeSeries: Equatable, Sendable {
    /// The values in file order; interior gaps filled by linear interpolation.
    public var values: [Double]
    /// One label per value: "YYYY-MM" for the NOAA monthly layout, else the row's first field when the
    /// series is not in column 0, else "".
    public var labels: [String]
    /// The 1-based line of each value in the file.
    public var lines: [Int]
    /// How many values were missing and filled by interpolation (leading and trailing gaps are dropped instead).
    public var filled: Int
    /// Name of the column the values came from (header name, NOAA's name, or "column N").
    public var columnName: String
    /// Whether the file had the NOAA GML monthly layout (year, month, decimal date, average, …).
    public var isNOAAMonthly: Bool

    public init(values: [Double], labels: [String]? = nil, lines: [Int]? = nil, filled: Int = 0, columnName: String = "value", isNOAAMonthly: Bool = false) {
        self.values = values
        self.labels = labels ?? Array(repeating: "", count: values.count)
        self.lines = lines ?? (0..<values.count).map { $0 + 1 }
        self.filled = filled
        self.columnName = columnName
        self.isNOAAMonthly = isNOAAMonthly
    }

    /// The label `steps` after the last one: the next months for "YYYY-MM" labels, "" otherwise.
    public func label(after steps: Int) -> String {
        guard let last = labels.last, let (year, month) = TimeSeriesReader.yearMonth(last) else { return "" }
        let index = year * 12 + (month - 1) + steps
        return String(format: "%04d-%02d", index / 12, index % 12 + 1)
    }
}

/// Reads a univariate series from a column file.
///
/// - Lines starting with `#` and blank lines are skipped. A line containing a comma is split on commas,
///   any other on whitespace.
/// - **NOAA GML monthly layout** (the Mauna Loa `co2_mm_mlo.txt`): recognised by its comment header
///   (a line with "de-season"). Columns are named year, month, decimal_date, average, deseasonalized,
///   ndays, sdev, unc; the default column is `average` (the monthly mean, index 3 — not the
///   deseasonalized one). Year and month must be integers, the month in 1...12 and each row the month
///   after the previous one.
/// - **Generic files**: an optional header row (the first row, when its field in the chosen column is not
///   a number; required for a column given by name). The default column is the last one.
/// - **Missing values**: an empty field, `NA`, `NaN`, `-`, `?`, or a sentinel number ≤ −99 (NOAA writes
///   −99.99; others −999). Interior gaps are filled by linear interpolation between the neighbours;
///   leading and trailing gaps are dropped.
/// - Anything else that is not a finite number, or a row too short for the column, throws
///   `DataError.badRow` with the file and the 1-based line.
public enum TimeSeriesReader {
    /// NOAA's names for the columns of `co2_mm_mlo.txt`.
    public static let noaaColumns = ["year", "month", "decimal_date", "average", "deseasonalized", "ndays", "sdev", "unc"]
    /// Numbers at or below this are missing-value sentinels.
    public static let sentinelThreshold = -99.0
    static let missingMarkers: Set<String> = ["", "na", "nan", "n/a", "-", "?", "null"]

    /// Reads `path` (see the type's documentation for the format).
    /// - Parameter column: the value column; nil for the default (NOAA `average`, else the last column).
    public static func read(path: String, column: TimeSeriesColumn? = nil) throws -> TimeSeries {
        try parse(readTextFile(path), path: path, column: column)
    }

    /// Parses file contents; `path` is only used in error messages.
    public static func parse(_ text: String, path: String, column: TimeSeriesColumn? = nil) throws -> TimeSeries {
        var rows: [(line: Int, fields: [String])] = []
        var isNOAA = false
        // Bytes, not Characters: "\r\n" is one Character, and a CRLF file must still have many lines.
        for (i, raw) in text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map({ Substring($0) }).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.hasPrefix("#") {
                if line.lowercased().contains("de-season") { isNOAA = true }
                continue
            }
            if line.isEmpty { continue }
            let fields = line.contains(",")
                ? line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
                : line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            rows.append((i + 1, fields))
        }
        guard let first = rows.first else { throw DataError.empty(path: path) }

        // Which column, and whether the first row is a header.
        var names: [String]? = isNOAA ? noaaColumns : nil
        var index: Int
        switch column {
        case .index(let i)?:
            guard i >= 0 else { throw DataError.badRow(path: path, line: first.line, reason: "column index must not be negative, got \(i)") }
            index = i
        case .name(let name)?:
            if names == nil { names = first.fields; rows.removeFirst() }
            guard let i = names!.firstIndex(where: { $0.caseInsensitiveCompare(name) == .orderedSame }) else {
                throw DataError.badRow(path: path, line: first.line, reason: "no column named '\(name)' (columns: \(names!.joined(separator: ", ")))")
            }
            index = i
        case nil:
            index = isNOAA ? 3 : first.fields.count - 1
        }
        var byName = false
        if case .name? = column { byName = true }
        if !isNOAA, !byName,
           let head = rows.first, index < head.fields.count, number(head.fields[index]) == nil, !isMissing(head.fields[index]) {
            names = head.fields
            rows.removeFirst()
            if column == nil { index = head.fields.count - 1 }
        }
        let columnName = names.flatMap { index < $0.count ? $0[index] : nil } ?? "column \(index)"

        var values: [Double?] = [], labels: [String] = [], lines: [Int] = []
        var previousMonth: (year: Int, month: Int, line: Int)? = nil
        for (line, fields) in rows {
            guard index < fields.count else {
                throw DataError.badRow(path: path, line: line, reason: "has \(fields.count) field\(fields.count == 1 ? "" : "s"), column \(index) ('\(columnName)') needs at least \(index + 1)")
            }
            var label = index > 0 ? fields[0] : ""
            if isNOAA {
                // The value column may be 0 or 1 (--column), so a row may be too short for year and month
                // even though it holds the value (found by the timeseries fuzz target).
                guard fields.count >= 2 else {
                    throw DataError.badRow(path: path, line: line, reason: "has \(fields.count) field, the NOAA layout needs a year and a month first")
                }
                // Years are bounded so that year·12 + month cannot overflow (a 19-digit year once trapped here)
                // and labels stay "YYYY-MM".
                guard let year = Int(fields[0]), (0...9999).contains(year), let month = Int(fields[1]), (1...12).contains(month) else {
                    throw DataError.badRow(path: path, line: line, reason: "expected a year in 0...9999 and a month in 1...12, found '\(fields[0])' '\(fields[1])'")
                }
                if let p = previousMonth, year * 12 + month != p.year * 12 + p.month + 1 {
                    throw DataError.badRow(path: path, line: line, reason: String(format: "%04d-%02d does not follow %04d-%02d (line %d)", year, month, p.year, p.month, p.line))
                }
                previousMonth = (year, month, line)
                label = String(format: "%04d-%02d", year, month)
            }
            let field = fields[index]
            if isMissing(field) {
                values.append(nil)
            } else if let x = number(field) {
                values.append(x <= sentinelThreshold ? nil : x)
            } else {
                throw DataError.badRow(path: path, line: line, reason: "'\(columnName)' is '\(field)', not a finite number")
            }
            labels.append(label)
            lines.append(line)
        }

        // Drop leading and trailing gaps, interpolate interior ones.
        guard let start = values.firstIndex(where: { $0 != nil }), let end = values.lastIndex(where: { $0 != nil }) else {
            throw DataError.tooFewValues(path: path, needed: 1, found: 0, reason: "every value of '\(columnName)' is missing")
        }
        var filled = 0
        var out = [Double](repeating: 0, count: end - start + 1)
        var lastKnown = start
        for i in start...end {
            if let v = values[i] {
                if i - lastKnown > 1 {
                    let a = values[lastKnown]!, span = Double(i - lastKnown)
                    for j in (lastKnown + 1)..<i { out[j - start] = a + (v - a) * Double(j - lastKnown) / span; filled += 1 }
                }
                out[i - start] = v
                lastKnown = i
            }
        }
        return TimeSeries(values: out, labels: Array(labels[start...end]), lines: Array(lines[start...end]), filled: filled,
                          columnName: columnName, isNOAAMonthly: isNOAA)
    }

    static func isMissing(_ field: String) -> Bool { missingMarkers.contains(field.lowercased()) }

    /// A finite number, or nil ("inf", "nan" and text are not numbers here).
    static func number(_ field: String) -> Double? {
        guard let x = Double(field), x.isFinite else { return nil }
        return x
    }

    /// Parses "YYYY-MM".
    static func yearMonth(_ label: String) -> (Int, Int)? {
        let parts = label.split(separator: "-")
        guard parts.count == 2, parts[0].count == 4, let y = Int(parts[0]), let m = Int(parts[1]), (1...12).contains(m) else { return nil }
        return (y, m)
    }
}
