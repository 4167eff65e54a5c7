import Foundation
import RecurrentTensor

/// One labelled sentence of a classification data set, with where it came from (for messages).
public struct LabelledSentence: Equatable, Sendable {
    /// The sentence as read.
    public var text: String
    /// Class id in 0..<classes.
    public var label: Int
    /// The file it came from ("" when built in code).
    public var path: String
    /// 1-based line number in `path`.
    public var line: Int

    /// A sentence with its class id and where it came from (`path`, 1-based `line`) for messages.
    public init(text: String, label: Int, path: String = "", line: Int = 0) {
        self.text = text
        self.label = label
        self.path = path
        self.line = line
    }
}

/// Sentence classification data in `sentence<TAB>label` files, one sentence per line, such as the
/// UCI "Sentiment Labelled Sentences" (Kotzias et al., KDD 2015).
///
/// Every row is validated where it enters: a row without a tab, with an empty sentence, or with a
/// label that is not an integer in 0..<classes throws `DataError.badRow` with the file and 1-based
/// line number. The label follows the *last* tab, so a sentence may contain tabs. Lines end at
/// `\n` only (a `\r` before it is dropped): characters such as U+0085 (NEL), which the IMDB file
/// uses as an ellipsis, stay inside the sentence, where the tokenizer treats them as spaces.
/// Whitespace around the label is ignored. A final line without `\n` is read; blank lines are bad rows.
public enum ClassificationTSV {
    /// Parses the text of one file. `path` only names it in errors.
    public static func parse(_ text: String, path: String, classes: Int = 2) throws -> [LabelledSentence] {
        precondition(classes >= 2, "ClassificationTSV: classes must be at least 2")
        var rows: [LabelledSentence] = []
        var lines = text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }       // the file's final newline
        for (index, bytes) in lines.enumerated() {
            let line = index + 1
            var row = Substring(bytes)
            if row.hasSuffix("\r") { row = row.dropLast() }
            func bad(_ reason: String) -> DataError { .badRow(path: path, line: line, reason: reason) }
            guard let tab = row.lastIndex(of: "\t") else {
                throw bad(row.allSatisfy(\.isWhitespace) ? "empty line, expected sentence<TAB>label"
                                                           : "missing tab between the sentence and its label")
            }
            let sentence = row[..<tab], labelText = row[row.index(after: tab)...].trimmingCharacters(in: .whitespaces)
            guard !sentence.allSatisfy(\.isWhitespace) else { throw bad("empty sentence") }
            guard !labelText.isEmpty else { throw bad("missing label after the tab") }
            guard let label = Int(labelText) else { throw bad("label '\(labelText)' is not an integer") }
            guard label >= 0 && label < classes else {
                throw bad("label \(label) is not a known class (expected an integer in 0...\(classes - 1))")
            }
            rows.append(LabelledSentence(text: String(sentence), label: label, path: path, line: line))
        }
        guard !rows.isEmpty else { throw DataError.empty(path: path) }
        return rows
    }

    /// Reads one `sentence<TAB>label` file.
    public static func read(path: String, classes: Int = 2) throws -> [LabelledSentence] {
        try parse(try readTextFile(path), path: path, classes: classes)
    }

    /// Reads a file, or every `*_labelled.txt` file of a folder in name order (the UCI layout).
    public static func load(path: String, classes: Int = 2) throws -> [LabelledSentence] {
        try files(at: path).flatMap { try read(path: $0, classes: classes) }
    }

    /// The files `load` reads: `path` itself, or the folder's `*_labelled.txt` files sorted by name.
    public static func files(at path: String) throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw DataError.fileNotFound(path: path) }
        guard isDirectory.boolValue else { return [path] }
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: path) } catch {
            throw DataError.unreadable(path: path, reason: error.localizedDescription)
        }
        let files = names.filter { $0.hasSuffix("_labelled.txt") }.sorted()
        guard !files.isEmpty else { throw DataError.unreadable(path: path, reason: "the folder has no *_labelled.txt files") }
        return files.map { (path as NSString).appendingPathComponent($0) }
    }
}

/// A seeded train / validation / test split of a data set that defines none.
///
/// The items are shuffled with `RandomGenerator(seed:)` (Fisher–Yates, `RandomGenerator.permutation`),
/// then cut in that order: the first `train` fraction (rounded down) for training, the next
/// `validation` fraction for validation, the rest for testing. The same items and seed give the same
/// split on every platform, so `eval` finds the test sentences that `train` held out.
public struct DataSplit<Item> {
    /// The training items.
    public var train: [Item]
    /// The validation items.
    public var validation: [Item]
    /// The test items.
    public var test: [Item]

    /// Splits made elsewhere (a test file, a stratified or spatial split).
    public init(train: [Item], validation: [Item], test: [Item]) {
        self.train = train
        self.validation = validation
        self.test = test
    }

    /// Shuffles `items` with a generator seeded by `seed` and cuts them into the `train` and `validation` fractions (rounded down) and the rest for test.
    public init(_ items: [Item], seed: UInt64, train: Double = 0.8, validation: Double = 0.1) {
        precondition(train > 0 && validation >= 0 && train + validation <= 1, "DataSplit: bad fractions \(train), \(validation)")
        var generator = RandomGenerator(seed: seed)
        let order = generator.permutation(items.count)
        let nTrain = Int(Double(items.count) * train), nValidation = Int(Double(items.count) * validation)
        self.train = order[..<nTrain].map { items[$0] }
        self.validation = order[nTrain..<(nTrain + nValidation)].map { items[$0] }
        self.test = order[(nTrain + nValidation)...].map { items[$0] }
    }
}

extension DataSplit: Sendable where Item: Sendable {}
