import CSV
import Foundation

/// Labelled sequences from a "long" CSV file: one row per time step, with a header row naming the columns.
///
/// ```
/// id,time,ax,ay,az,label
/// walk-01,0,0.12,0.98,0.03,walking
/// walk-01,1,0.15,0.95,0.02,walking
/// ```
///
/// - `idColumn` groups rows into sequences (in order of first appearance); the rows of a sequence need not be adjacent.
/// - `timeColumn`, when given, orders each sequence's rows (numbers; ties keep file order); without it, file order.
/// - `labelColumn` holds the class; every row of a sequence must carry the same, non-empty label.
/// - `featureColumns`, when given, are the feature columns in that order; otherwise every other column.
///
/// Fields are RFC 4180 (quotes, embedded commas) through CSV.swift. Every problem throws `DataError.badRow` naming
/// the file and the 1-based line (the header is line 1; a record with a quoted line break counts as one line):
/// a row with a different number of fields than the header, a value that is not a finite number, a missing or
/// changing label, a time that is not a number. Unknown column names throw `DataError.badFile` listing the header.
public enum LongCSVSeries {
    /// Reads a file; without `requireLabels`, a file with no label column gives sequences labelled "" (for prediction).
    public static func read(path: String, idColumn: String = "id", timeColumn: String? = nil, labelColumn: String = "label",
                            featureColumns: [String]? = nil, requireLabels: Bool = true) throws -> [LabelledSeries] {
        try parse(readTextFile(path), path: path, idColumn: idColumn, timeColumn: timeColumn, labelColumn: labelColumn, featureColumns: featureColumns,
                  requireLabels: requireLabels)
    }

    /// Parses a long CSV file (read from `path`, which messages name) into labelled sequences, one per `idColumn` value.
    /// - Throws: `DataError` naming the file and line of what cannot be read.
    public static func parse(_ text: String, path: String, idColumn: String = "id", timeColumn: String? = nil, labelColumn: String = "label",
                             featureColumns: [String]? = nil, requireLabels: Bool = true) throws -> [LabelledSeries] {
        let reader: CSVReader
        do { reader = try CSVReader(string: text, hasHeaderRow: true, trimFields: true) } catch {
            throw DataError.badRow(path: path, line: 1, reason: "cannot read the header row (\(error))")
        }
        guard let header = reader.headerRow, !header.isEmpty else { throw DataError.badRow(path: path, line: 1, reason: "no header row") }
        func column(_ name: String, _ role: String) throws -> Int {
            guard let i = header.firstIndex(of: name) else {
                throw DataError.badFile(path: path, reason: "no \(role) column '\(name)' (the header has \(header.joined(separator: ", ")))")
            }
            return i
        }
        let id = try column(idColumn, "id")
        let label: Int? = requireLabels || header.contains(labelColumn) ? try column(labelColumn, "label") : nil
        let time = try timeColumn.map { try column($0, "time") }
        let features = try featureColumns.map { try $0.map { try column($0, "feature") } }
            ?? header.indices.filter { $0 != id && $0 != label && $0 != time }
        guard !features.isEmpty else { throw DataError.badFile(path: path, reason: "no feature columns besides id, time and label") }
        let F = features.count
        struct Group { var label: String; var line: Int; var rows: [(time: Double, values: [Float])] }
        var groups: [String: Group] = [:], order: [String] = []
        var line = 1
        while let row = reader.next() {
            line += 1
            func bad(_ reason: String) -> DataError { .badRow(path: path, line: line, reason: reason) }
            if row.count == 1 && row[0].isEmpty { continue }                     // a blank line
            guard row.count == header.count else { throw bad("\(row.count) fields, the header has \(header.count)") }
            let key = row[id], rowLabel = label.map { row[$0] } ?? ""
            guard !rowLabel.isEmpty || label == nil else { throw bad("missing label in column '\(labelColumn)'") }
            var t = Double(groups[key]?.rows.count ?? 0)
            if let time {
                guard let value = Double(row[time]), value.isFinite else { throw bad("time '\(row[time].prefix(20))' is not a number") }
                t = value
            }
            let values = try features.map { c -> Float in
                guard let v = Double(row[c]), v.isFinite, Swift.abs(v) <= Double(Float.greatestFiniteMagnitude) else {
                    throw bad("column '\(header[c])': '\(row[c].prefix(20))' is not a finite number")
                }
                return Float(v)
            }
            if groups[key] == nil { groups[key] = Group(label: rowLabel, line: line, rows: []); order.append(key) }
            guard groups[key]!.label == rowLabel else {
                throw bad("sequence '\(key)' has label '\(rowLabel)' here but '\(groups[key]!.label)' on line \(groups[key]!.line)")
            }
            groups[key]!.rows.append((t, values))
        }
        if let error = reader.error { throw DataError.badRow(path: path, line: line, reason: "unreadable CSV (\(error))") }
        guard !order.isEmpty else { throw DataError.empty(path: path) }
        let name = (path as NSString).lastPathComponent
        return order.map { key in
            let group = groups[key]!
            let rows = time == nil ? group.rows : group.rows.enumerated().sorted { ($0.element.time, $0.offset) < ($1.element.time, $1.offset) }.map(\.element)
            return LabelledSeries(values: rows.flatMap(\.values), steps: rows.count, features: F, label: group.label,
                                  source: "\(name), sequence '\(key)' (line \(group.line))")
        }
    }
}
