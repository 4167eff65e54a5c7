import Foundation

/// Which column of a column file holds the series: a 0-based index or a header name.
public enum TimeSeriesColumn: Equatable, Sendable, CustomStringConvertible {
    /// The column at this 0-based index.
    case index(Int)
    /// The column whose header is this name.
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

/// A series read from a file: the target column, optional covariate columns on the same rows, and the
/// times of a date column when the file has one; every missing value filled (see `TimeSeriesReader`).
public struct TimeSeries: Equatable, Sendable {
    /// The target's values in time order; interior missing values filled by linear interpolation.
    public var values: [Double]
    /// The covariates' values, one array per column, each as long as `values`.
    public var covariates: [[Double]]
    /// The header names of the covariate columns.
    public var covariateNames: [String]
    /// One label per value: the date as written (NOAA: "YYYY-MM"), else "".
    public var labels: [String]
    /// The 1-based line of each value in the file (for a filled gap, the line after it).
    public var lines: [Int]
    /// How many values were missing and filled (missing fields plus steps the date column skipped).
    public var filled: Int
    /// Name of the target column (header name, NOAA's name, or "column N").
    public var columnName: String
    /// Whether the file had the NOAA GML monthly layout (year, month, decimal date, average, …).
    public var isNOAAMonthly: Bool
    /// The date column's times (empty without one), its step and how it was written.
    public var times: [TimeStamp]
    /// The spacing of the times, inferred from the date column; nil without one.
    public var step: TimeStep?
    /// How the date column wrote its times, to write forecasts' times the same way; nil without one.
    public var style: TimeStyle?
    /// Name of the date column ("year, month" for NOAA), nil without one.
    public var dateColumn: String?

    /// A series of values with its optional labels (dates as written), source lines, count of filled values, covariates and times.
    public init(values: [Double], labels: [String]? = nil, lines: [Int]? = nil, filled: Int = 0, columnName: String = "value", isNOAAMonthly: Bool = false,
                covariates: [[Double]] = [], covariateNames: [String] = [], times: [TimeStamp] = [], step: TimeStep? = nil, style: TimeStyle? = nil,
                dateColumn: String? = nil) {
        self.values = values
        self.labels = labels ?? Array(repeating: "", count: values.count)
        self.lines = lines ?? (0..<values.count).map { $0 + 1 }
        self.filled = filled
        self.columnName = columnName
        self.isNOAAMonthly = isNOAAMonthly
        self.covariates = covariates
        self.covariateNames = covariateNames
        self.times = times
        self.step = step
        self.style = style
        self.dateColumn = dateColumn
    }

    /// The label `steps` after the last one (continuing the date column), "" without dates.
    public func label(after steps: Int) -> String {
        if let last = times.last, let step, let style { return step.advance(last, by: steps).label(style) }
        guard let last = labels.last, let (stamp, style) = TimeStamp.parse(last), style == .month else { return "" }
        return TimeStep.months(1).advance(stamp, by: steps).label(.month)
    }

    /// The season a date column implies, and why (nil without dates or for a step without a usual season).
    public var defaultSeason: (season: Int, reason: String)? { step?.defaultSeason(count: values.count) }

    /// Keeps the values in `range` (and their labels, lines, times).
    public mutating func keep(_ range: Range<Int>) {
        values = Array(values[range])
        labels = Array(labels[range])
        lines = Array(lines[range])
        covariates = covariates.map { Array($0[range]) }
        if !times.isEmpty { times = Array(times[range]) }
    }
}

/// Reads a series from a column file through `CSVTableReader` (RFC 4180 CSV through yaslab/CSV.swift;
/// semicolon, tab, pipe or whitespace separators, detected or given).
///
/// - Lines starting with `#` and blank lines are skipped.
/// - **NOAA GML monthly layout** (the Mauna Loa `co2_mm_mlo.txt`): recognised by its comment header
///   (a line with "de-season"). Columns are named year, month, decimal_date, average, deseasonalized,
///   ndays, sdev, unc; the default column is `average` (index 3); year and month are the dates.
/// - **Generic files**: a header row when no field of the first row is a number (required for columns
///   given by name). The default target is the last column holding numbers. The date column is the one
///   named (`TimeSeriesReading.date`) or the first column whose first value is a date (`TimeStamp.parse`);
///   without one, integer columns named `year` and `quarter` (or `year` and `month`) give the dates.
/// - **Dates**: the step is inferred (`TimeStep.infer`); a repeated or earlier time, a time off the step,
///   and skipped steps throw `DataError.badRow` naming the line, unless `fill` says how to fill skipped ones.
/// - **Missing values**: an empty field, `NA`, `NaN`, `-`, `?`, or a sentinel number ≤ −99 (NOAA writes
///   −99.99; others −999). Interior gaps are filled by linear interpolation (or the previous value with
///   `fill: .previous`); leading and trailing gaps of the target are dropped.
/// - Anything else that is not a finite number, or a row too short for a column, throws
///   `DataError.badRow` with the file and the 1-based line.
public enum TimeSeriesReader {
    /// NOAA's names for the columns of `co2_mm_mlo.txt`.
    public static let noaaColumns = ["year", "month", "decimal_date", "average", "deseasonalized", "ndays", "sdev", "unc"]
    /// The most rows a series may have after its skipped steps are filled.
    public static let maxFilledSteps = 1_000_000
    /// Numbers at or below this are missing-value sentinels.
    public static let sentinelThreshold = -99.0
    static let missingMarkers: Set<String> = ["", "na", "nan", "n/a", "-", "?", "null"]

    /// Reads `path` (see the type's documentation for the format).
    /// - Parameter column: the target column; nil for the default (NOAA `average`, else the last numeric column).
    public static func read(path: String, column: TimeSeriesColumn? = nil) throws -> TimeSeries {
        try parse(readTextFile(path), path: path, column: column)
    }

    /// Reads the series in the file at `path`.
    /// - Throws: `DataError` naming the file and line of what cannot be read.
    public static func read(path: String, reading: TimeSeriesReading) throws -> TimeSeries {
        try parse(readTextFile(path), path: path, reading: reading)
    }

    /// Parses file contents; `path` is only used in error messages.
    public static func parse(_ text: String, path: String, column: TimeSeriesColumn? = nil) throws -> TimeSeries {
        try parse(text, path: path, reading: TimeSeriesReading(target: column))
    }

    /// Reads a series from `text` (read from `path`, which messages name).
    /// - Throws: `DataError` naming the line of what cannot be read.
    public static func parse(_ text: String, path: String, reading: TimeSeriesReading) throws -> TimeSeries {
        let table = try CSVTableReader.parse(text, path: path, separator: reading.separator)
        var rows = Array(zip(table.lines, table.rows)).map { (line: $0.0, fields: $0.1) }
        guard let first = rows.first else { throw DataError.empty(path: path) }
        let isNOAA = table.comments.contains { $0.lowercased().contains("de-season") }

        // Header: NOAA's names, or the first row when none of its fields is a number.
        var names: [String]? = isNOAA ? noaaColumns : nil
        if !isNOAA, !first.fields.contains(where: { number($0) != nil }) {
            names = first.fields
            rows.removeFirst()
        }
        guard let firstRow = rows.first else { throw DataError.empty(path: path) }
        func resolve(_ column: TimeSeriesColumn, what: String) throws -> Int {
            switch column {
            case .index(let i):
                guard i >= 0 else { throw DataError.badRow(path: path, line: first.line, reason: "column index must not be negative, got \(i)") }
                return i
            case .name(let name):
                guard let names else {
                    throw DataError.badRow(path: path, line: first.line, reason: "no header row, so no column named '\(name)' (name columns by 0-based index)")
                }
                guard let i = names.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces).caseInsensitiveCompare(name) == .orderedSame }) else {
                    var hint = ""
                    if what == "target", ForecastTarget(rawValue: name) != nil { hint = "; --target names the forecast column, --predict \(name) chooses what the model predicts" }
                    throw DataError.badRow(path: path, line: first.line, reason: "no column named '\(name)' (columns: \(names.joined(separator: ", ")))\(hint)")
                }
                return i
            }
        }
        let target: Int
        if let t = reading.target { target = try resolve(t, what: "target") }
        else if isNOAA { target = 3 }
        else { target = firstRow.fields.indices.last { number(firstRow.fields[$0]) != nil || isMissing(firstRow.fields[$0]) } ?? firstRow.fields.count - 1 }
        let covariates = try reading.covariates.map { try resolve($0, what: "covariate") }.filter { $0 != target }
        let name = { (i: Int) in names.flatMap { i < $0.count ? $0[i].trimmingCharacters(in: .whitespaces) : nil } ?? "column \(i)" }

        let columns = [target] + covariates

        // The date column.
        var dateIndex: Int? = nil
        if isNOAA {
        } else if let d = reading.date {
            dateIndex = try resolve(d, what: "date")
        } else {
            dateIndex = firstRow.fields.indices.first { $0 != target && !covariates.contains($0) && TimeStamp.parse(firstRow.fields[$0]) != nil }
        }
        // No date column, but the date in two: `year` and `quarter` (statsmodels' macrodata) or `year` and `month`.
        var yearAndPart: (year: Int, part: Int, isQuarter: Bool)? = nil
        if !isNOAA, reading.date == nil, dateIndex == nil, let names {
            let index = { (n: String) in names.firstIndex { $0.trimmingCharacters(in: .whitespaces).lowercased() == n } }
            if let y = index("year"), let p = index("quarter") ?? index("month"), !columns.contains(y), !columns.contains(p),
               y < firstRow.fields.count, p < firstRow.fields.count, Int(firstRow.fields[y]) != nil, Int(firstRow.fields[p]) != nil {
                yearAndPart = (y, p, names[p].trimmingCharacters(in: .whitespaces).lowercased() == "quarter")
            }
        }

        var values: [[Double?]] = Array(repeating: [], count: 1 + covariates.count)
        var labels: [String] = [], lines: [Int] = [], times: [TimeStamp] = []
        var style: TimeStyle? = nil
        for (line, fields) in rows {
            for (k, c) in columns.enumerated() {
                guard c < fields.count else {
                    throw DataError.badRow(path: path, line: line, reason: "has \(fields.count) field\(fields.count == 1 ? "" : "s"), column \(c) ('\(name(c))') needs at least \(c + 1)")
                }
                let field = fields[c]
                if isMissing(field) { values[k].append(nil) }
                else if let x = number(field) { values[k].append(x <= sentinelThreshold ? nil : x) }
                else { throw DataError.badRow(path: path, line: line, reason: "'\(name(c))' is '\(field)', not a finite number") }
            }
            var label = ""
            if isNOAA {
                // The value column may be 0 or 1 (--column), so a row may be too short for year and month
                // even though it holds the value (found by the timeseries fuzz target).
                guard fields.count >= 2 else {
                    throw DataError.badRow(path: path, line: line, reason: "has \(fields.count) field, the NOAA layout needs a year and a month first")
                }
                // Years are bounded so that year·12 + month cannot overflow (a 19-digit year once trapped here).
                guard let year = Int(fields[0]), let month = Int(fields[1]), let stamp = TimeStamp(year: year, month: month) else {
                    throw DataError.badRow(path: path, line: line, reason: "expected a year in 0...9999 and a month in 1...12, found '\(fields[0])' '\(fields[1])'")
                }
                times.append(stamp)
                style = .month
                label = stamp.label(.month)
            } else if let d = dateIndex {
                guard d < fields.count else {
                    throw DataError.badRow(path: path, line: line, reason: "has \(fields.count) field\(fields.count == 1 ? "" : "s"), the date column \(d) ('\(name(d))') needs at least \(d + 1)")
                }
                guard let (stamp, s) = TimeStamp.parse(fields[d]) ?? epochSeconds(fields[d], named: reading.date != nil) else {
                    throw DataError.badRow(path: path, line: line, reason: "the date column '\(name(d))' has '\(fields[d])', not a date "
                                           + "(2012-01-31, 2012-01, 1959Q3, 2012-01-31T13:00:00 or, with --date, seconds since 1970)")
                }
                if style == nil { style = s }
                times.append(stamp)
                label = fields[d].trimmingCharacters(in: .whitespaces)
            } else if let (y, p, isQuarter) = yearAndPart {
                let partName = isQuarter ? "quarter" : "month"
                guard y < fields.count, p < fields.count, let year = Int(fields[y]), let part = Int(fields[p]), (1...(isQuarter ? 4 : 12)).contains(part),
                      let stamp = TimeStamp(year: year, month: isQuarter ? 3 * part - 2 : part) else {
                    throw DataError.badRow(path: path, line: line, reason: "expected a year in 0...9999 and a \(partName) in 1...\(isQuarter ? 4 : 12) in "
                                           + "'\(name(y))' and '\(name(p))', found '\(y < fields.count ? fields[y] : "")' '\(p < fields.count ? fields[p] : "")'")
                }
                style = isQuarter ? .quarter : .month
                times.append(stamp)
                label = stamp.label(isQuarter ? .quarter : .month)
            } else if target > 0 {
                label = fields[0]
            }
            labels.append(label)
            lines.append(line)
        }

        // The step, and the times checked against it; skipped steps become missing values when filled.
        var step: TimeStep? = nil
        if !times.isEmpty {
            step = isNOAA ? .months(1) : TimeStep.infer(times)
            if let step {
                var out: [[Double?]] = Array(repeating: [], count: values.count)
                var outLabels: [String] = [], outLines: [Int] = [], outTimes: [TimeStamp] = []
                for i in times.indices {
                    if i > 0 {
                        let (a, b) = (times[i - 1], times[i])
                        guard let n = step.steps(from: a, to: b), n >= 1 else {
                            let shown = { (t: TimeStamp) in t.label(style ?? .dateTime) }
                            let reason = b.seconds == a.seconds ? "\(shown(b)) repeats line \(lines[i - 1]) (a duplicate time)"
                                : b < a ? "\(shown(b)) comes before \(shown(a)) (line \(lines[i - 1])); the rows must be in time order"
                                : "\(shown(b)) is off the \(step) step after \(shown(a)) (line \(lines[i - 1]))"
                            throw DataError.badRow(path: path, line: lines[i], reason: reason)
                        }
                        if n > 1 {
                            // Filling allocates a row per skipped step: a year-long gap in a per-second series would be
                            // tens of millions of rows, so long gaps are refused whatever --fill says.
                            guard n - 1 <= maxFilledSteps, outTimes.count + n <= maxFilledSteps else {
                                throw DataError.badRow(path: path, line: lines[i], reason: "\(n - 1) \(step) steps missing between \(a.label(style ?? .dateTime)) (line \(lines[i - 1])) "
                                                       + "and \(b.label(style ?? .dateTime)), more than the \(maxFilledSteps) that --fill fills")
                            }
                            guard reading.fill != .none else {
                                throw DataError.badRow(path: path, line: lines[i], reason: "\(n - 1) \(step) step\(n == 2 ? "" : "s") missing between \(a.label(style ?? .dateTime)) (line \(lines[i - 1])) "
                                                       + "and \(b.label(style ?? .dateTime)); --fill linear or --fill previous fills them")
                            }
                            for k in 1..<n {
                                let t = step.advance(a, by: k)
                                outTimes.append(t)
                                outLabels.append(t.label(style ?? .dateTime))
                                outLines.append(lines[i])
                                for c in out.indices { out[c].append(nil) }
                            }
                        }
                    }
                    outTimes.append(times[i])
                    outLabels.append(labels[i])
                    outLines.append(lines[i])
                    for c in out.indices { out[c].append(values[c][i]) }
                }
                (values, labels, lines, times) = (out, outLabels, outLines, outTimes)
            }
        }

        // Drop the target's leading and trailing gaps, fill interior ones.
        guard let start = values[0].firstIndex(where: { $0 != nil }), let end = values[0].lastIndex(where: { $0 != nil }) else {
            throw DataError.tooFewValues(path: path, needed: 1, found: 0, reason: "every value of '\(name(target))' is missing")
        }
        var filled = 0
        var filledColumns: [[Double]] = []
        for (c, column) in values.enumerated() {
            let part = Array(column[start...end])
            guard part.contains(where: { $0 != nil }) else {
                throw DataError.tooFewValues(path: path, needed: 1, found: 0, reason: "every value of '\(name(columns[c]))' is missing where '\(name(target))' has values")
            }
            let (out, n) = fillGaps(part, method: reading.fill)
            if c == 0 { filled = n }
            filledColumns.append(out)
        }
        var series = TimeSeries(values: filledColumns[0], labels: labels, lines: lines, filled: max(filled, 0), columnName: name(target), isNOAAMonthly: isNOAA,
                                covariates: Array(filledColumns.dropFirst()), covariateNames: covariates.map(name),
                                times: times, step: step, style: style,
                                dateColumn: isNOAA ? "year, month" : yearAndPart.map { "\(name($0.year)), \(name($0.part))" } ?? dateIndex.map(name))
        series.labels = Array(labels[start...end])
        series.lines = Array(lines[start...end])
        if !times.isEmpty { series.times = Array(times[start...end]) }
        return series
    }

    /// Fills interior nils (linear or previous value); leading and trailing ones take the nearest value.
    static func fillGaps(_ column: [Double?], method: GapFill) -> ([Double], Int) {
        var out = [Double](repeating: 0, count: column.count)
        var filled = 0
        let known = column.indices.filter { column[$0] != nil }
        guard let firstKnown = known.first, let lastKnown = known.last else { return (out, 0) }
        for i in 0..<firstKnown { out[i] = column[firstKnown]!; filled += 1 }
        for i in (lastKnown + 1)..<column.count { out[i] = column[lastKnown]!; filled += 1 }
        for (a, b) in zip(known, known.dropFirst()) {
            let (va, vb) = (column[a]!, column[b]!)
            out[a] = va
            for j in (a + 1)..<b {
                out[j] = method == .previous ? va : va + (vb - va) * Double(j - a) / Double(b - a)
                filled += 1
            }
        }
        out[lastKnown] = column[lastKnown]!
        return (out, filled)
    }

    /// Seconds since 1970 in a column named as the date column (a column of plain numbers is only taken
    /// for times when the user says so).
    static func epochSeconds(_ field: String, named: Bool) -> (TimeStamp, TimeStyle)? {
        guard named, let s = Int(field.trimmingCharacters(in: .whitespaces)), (0...253_402_300_799).contains(s) else { return nil }
        return (TimeStamp(seconds: s), .dateTime)
    }

    static func isMissing(_ field: String) -> Bool { missingMarkers.contains(field.trimmingCharacters(in: .whitespaces).lowercased()) }

    /// A finite number, or nil ("inf", "nan" and text are not numbers here).
    static func number(_ field: String) -> Double? {
        guard let x = Double(field.trimmingCharacters(in: .whitespaces)), x.isFinite else { return nil }
        return x
    }
}
