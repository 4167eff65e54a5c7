import Foundation

/// The `.ts` format of the UEA & UCR time-series classification archive (also what aeon and sktime read and write):
/// univariate and multivariate, equal and unequal lengths, class labels.
///
/// ```
/// # comments
/// @problemName JapaneseVowels
/// @timeStamps false
/// @univariate false
/// @dimensions 12
/// @equalLength false
/// @seriesLength 29          (equal lengths only)
/// @classLabel true 1 2 3    (or false: no labels)
/// @data
/// 1.86,1.89,1.93:-0.20,-0.19,-0.23:…:3      one case per line: dimensions separated by ':', then the label
/// ```
///
/// Header keywords are case-insensitive; unknown ones are ignored. Every line is checked against the header, and
/// everything that disagrees throws `DataError.badRow` with the file and the 1-based line: a case with more or
/// fewer dimensions than `@dimensions` (or than the first case, when the header does not say), dimensions of
/// different lengths within a case, a length other than `@seriesLength`, unequal lengths under `@equalLength true`,
/// a missing label or one not listed in `@classLabel`, and any value that is not a finite number (`?` and `NaN`
/// included: this reader does not impute). Time-stamped (`@timeStamps true`) and regression (`@targetLabel true`)
/// files are refused with a message saying so.
public enum UEATimeSeriesFile {
    /// What the header declares (nil where it says nothing).
    public struct Header: Equatable, Sendable {
        /// `@problemName`.
        public var problemName: String?
        /// `@dimensions`: features per step.
        public var dimensions: Int?
        /// `@univariate`.
        public var univariate: Bool?
        /// `@equalLength`.
        public var equalLength: Bool?
        /// `@seriesLength`.
        public var seriesLength: Int?
        /// Whether cases end in a class label.
        public var hasLabels = false
        /// The labels `@classLabel true` lists, in its order (empty when it lists none).
        public var classLabels: [String] = []
    }

    /// Reads one `.ts` file.
    public static func read(path: String) throws -> (header: Header, series: [LabelledSeries]) {
        try parse(readTextFile(path), path: path)
    }

    /// Parses the text of one file; `path` names it in errors and in each series' `source`.
    public static func parse(_ text: String, path: String) throws -> (header: Header, series: [LabelledSeries]) {
        let name = (path as NSString).lastPathComponent
        var header = Header(), inData = false, series: [LabelledSeries] = []
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            func bad(_ reason: String) -> DataError { .badRow(path: path, line: lineNumber, reason: reason) }
            if !inData {
                guard line.hasPrefix("@") else { throw bad("expected a @keyword header line or @data before the data") }
                let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
                let key = words[0].lowercased(), rest = Array(words.dropFirst())
                func flag() throws -> Bool {
                    guard let word = rest.first?.lowercased(), word == "true" || word == "false" else { throw bad("\(words[0]) must be followed by true or false") }
                    return word == "true"
                }
                func count() throws -> Int {
                    guard let word = rest.first, let n = Int(word), n >= 1, n <= 10_000_000 else { throw bad("\(words[0]) must be followed by a positive integer") }
                    return n
                }
                switch key {
                case "@problemname": header.problemName = rest.joined(separator: " ")
                case "@timestamps": if try flag() { throw bad("time-stamped .ts files (@timeStamps true) are not supported; write the values without time stamps") }
                case "@univariate": header.univariate = try flag()
                case "@dimensions", "@dimension": header.dimensions = try count()
                case "@equallength": header.equalLength = try flag()
                case "@serieslength": header.seriesLength = try count()
                case "@targetlabel": if try flag() { throw bad("regression files (@targetLabel true) are not supported; classification needs @classLabel") }
                case "@classlabel":
                    header.hasLabels = try flag()
                    if header.hasLabels { header.classLabels = Array(rest.dropFirst()) }
                    if Set(header.classLabels).count != header.classLabels.count { throw bad("@classLabel lists a label twice") }
                case "@data":
                    if header.univariate == true, let d = header.dimensions, d != 1 {
                        throw bad("the header says @univariate true but @dimensions \(d)")
                    }
                    if header.univariate == true { header.dimensions = 1 }
                    inData = true
                default: continue
                }
                continue
            }
            series.append(try parseCase(line, header: &header, source: "\(name), line \(lineNumber)", bad: bad))
            if header.equalLength == true, let first = series.first, series.last!.steps != first.steps {
                throw bad("\(series.last!.steps) values per dimension, but the header says @equalLength true and the first case has \(first.steps)")
            }
        }
        guard inData else { throw DataError.badFile(path: path, reason: "no @data line: not a .ts file") }
        guard !series.isEmpty else { throw DataError.empty(path: path) }
        return (header, series)
    }

    /// One data line: `d1v1,d1v2,…:d2v1,…[:label]`.
    static func parseCase(_ line: String, header: inout Header, source: String, bad: (String) -> DataError) throws -> LabelledSeries {
        var fields = line.split(separator: ":", omittingEmptySubsequences: false)
        var label = ""
        if header.hasLabels {
            guard fields.count >= 2 else { throw bad("missing class label (expected values:…:label)") }
            let last = fields.last!.trimmingCharacters(in: .whitespaces)
            // With the dimensions known, a case of exactly that many fields has no label, unless its last field can
            // only be a label (a listed class, not a list of values): then it is the dimensions that disagree.
            if let d = header.dimensions, fields.count == d, last.contains(",") || !header.classLabels.contains(last) {
                throw bad("missing class label: \(fields.count) dimensions and no label after them")
            }
            label = String(fields.removeLast()).trimmingCharacters(in: .whitespaces)
            guard !label.isEmpty else { throw bad("missing class label after the last ':'") }
            if !header.classLabels.isEmpty && !header.classLabels.contains(label) {
                throw bad("label '\(label)' is not one of @classLabel's \(header.classLabels.joined(separator: " "))")
            }
        }
        if let d = header.dimensions {
            guard fields.count == d else { throw bad("\(fields.count) dimensions, but the header says @dimensions \(d)") }
        } else {
            header.dimensions = fields.count       // the first case decides for a header that does not say
        }
        let F = fields.count
        var columns: [[Float]] = []
        columns.reserveCapacity(F)
        for (d, field) in fields.enumerated() {
            var column: [Float] = []
            for (i, word) in field.split(separator: ",", omittingEmptySubsequences: false).enumerated() {
                let text = word.trimmingCharacters(in: .whitespaces)
                guard let value = Double(text), value.isFinite, Swift.abs(value) <= Double(Float.greatestFiniteMagnitude) else {
                    let what = text.isEmpty ? "an empty value" : text == "?" || text.lowercased() == "nan" ? "a missing value ('\(text)')" : "'\(text.prefix(20))'"
                    throw bad("dimension \(d + 1), value \(i + 1): \(what) is not a finite number")
                }
                column.append(Float(value))
            }
            if d > 0, column.count != columns[0].count {
                throw bad("dimension \(d + 1) has \(column.count) values but dimension 1 has \(columns[0].count)")
            }
            columns.append(column)
        }
        let T = columns[0].count
        if let length = header.seriesLength, header.equalLength != false, T != length {
            throw bad("\(T) values per dimension, but the header says @seriesLength \(length)")
        }
        var values = [Float](repeating: 0, count: T * F)
        for f in 0..<F { for t in 0..<T { values[t * F + f] = columns[f][t] } }
        return LabelledSeries(values: values, steps: T, features: F, label: label, source: source)
    }
}
