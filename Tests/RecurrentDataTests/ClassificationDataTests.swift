import Foundation
import XCTest
@testable import RecurrentData

final class ClassificationDataTests: XCTestCase {
    func testReaderKeepsSentencesLabelsAndLineNumbers() throws {
        // A CRLF line, a sentence with a tab inside, U+0085 and trailing spaces (as in the IMDB file), no final newline.
        let text = "Great phone.\t1\r\nNot\tgood at all.\t0\nThe script is\u{85}was there a script?  \t0\n  Loved it \t 1 "
        let rows = try ClassificationTSV.parse(text, path: "f.txt")
        XCTAssertEqual(rows.map(\.label), [1, 0, 0, 1])
        XCTAssertEqual(rows.map(\.line), [1, 2, 3, 4])
        XCTAssertEqual(rows[0].text, "Great phone.")
        XCTAssertEqual(rows[1].text, "Not\tgood at all.", "the label follows the last tab")
        XCTAssertEqual(rows[2].text, "The script is\u{85}was there a script?  ", "U+0085 does not end a line")
        XCTAssertEqual(try ClassificationTSV.parse("a\t1\n", path: "f").count, 1, "a final newline is not a row")
        XCTAssertEqual(try ClassificationTSV.parse("a\t2\n", path: "f", classes: 3).map(\.label), [2])
    }

    func testBadRowsThrowWithFileAndLine() {
        func assertBadRow(_ text: String, line: Int, _ reason: String, file: StaticString = #filePath, lineNumber: UInt = #line) {
            XCTAssertThrowsError(try ClassificationTSV.parse(text, path: "data.tsv"), file: file, line: lineNumber) {
                XCTAssertEqual($0 as? DataError, .badRow(path: "data.tsv", line: line, reason: reason), file: file, line: lineNumber)
            }
        }
        assertBadRow("good\t1\nno tab here 0\n", line: 2, "missing tab between the sentence and its label")
        assertBadRow("good\t1\n\t0\n", line: 2, "empty sentence")
        assertBadRow("good\t1\n   \t0\n", line: 2, "empty sentence")
        assertBadRow("good\t1\nbad\tpositive\n", line: 2, "label 'positive' is not an integer")
        assertBadRow("good\t1\nbad\t0.5\n", line: 2, "label '0.5' is not an integer")
        assertBadRow("good\t1\nbad\t\n", line: 2, "missing label after the tab")
        assertBadRow("a\t0\nb\t1\nc\t2\n", line: 3, "label 2 is not a known class (expected an integer in 0...1)")
        assertBadRow("a\t0\nb\t-1\n", line: 2, "label -1 is not a known class (expected an integer in 0...1)")
        assertBadRow("a\t0\n\nb\t1\n", line: 2, "empty line, expected sentence<TAB>label")
        XCTAssertEqual(DataError.badRow(path: "data.tsv", line: 2, reason: "empty sentence").description, "data.tsv, line 2: empty sentence")
    }

    func testFilesAndFolders() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("recurrent-tsv-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try "b one\t1\nb two\t0\n".write(to: folder.appendingPathComponent("b_labelled.txt"), atomically: true, encoding: .utf8)
        try "a one\t0\n".write(to: folder.appendingPathComponent("a_labelled.txt"), atomically: true, encoding: .utf8)
        try "ignored\n".write(to: folder.appendingPathComponent("readme.txt"), atomically: true, encoding: .utf8)
        let rows = try ClassificationTSV.load(path: folder.path)
        XCTAssertEqual(rows.map(\.text), ["a one", "b one", "b two"], "*_labelled.txt files in name order, others skipped")
        XCTAssertEqual(rows[2].path, folder.appendingPathComponent("b_labelled.txt").path)

        let missing = folder.appendingPathComponent("missing.txt").path
        XCTAssertThrowsError(try ClassificationTSV.load(path: missing)) { XCTAssertEqual($0 as? DataError, .fileNotFound(path: missing)) }
        let empty = folder.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        XCTAssertThrowsError(try ClassificationTSV.load(path: empty.path)) {
            XCTAssertEqual($0 as? DataError, .unreadable(path: empty.path, reason: "the folder has no *_labelled.txt files"))
        }
        let bad = folder.appendingPathComponent("c_labelled.txt")
        try Data([0x61, 0x09, 0x31, 0x0A, 0xFF, 0xFE]).write(to: bad)
        XCTAssertThrowsError(try ClassificationTSV.load(path: folder.path)) { XCTAssertEqual($0 as? DataError, .notUTF8(path: bad.path)) }
    }

    func testTokenizerLowercasesAndSplitsPunctuation() {
        let tokenize = WordTokenizer()
        XCTAssertEqual(tokenize("Great, 10/10!"), ["great", ",", "10", "/", "10", "!"])
        XCTAssertEqual(tokenize("I didn't like it's \"ending\"..."), ["i", "didn't", "like", "it's", "\"", "ending", "\"", ".", ".", "."])
        XCTAssertEqual(tokenize("Don’t 'quote' me"), ["don't", "'", "quote", "'", "me"])
        XCTAssertEqual(tokenize("The script is\u{85}was there a script?  "), ["the", "script", "is", "was", "there", "a", "script", "?"])
        XCTAssertEqual(tokenize("slow-moving  Café\tÉTÉ"), ["slow", "-", "moving", "café", "été"])
        XCTAssertEqual(tokenize("   "), [])
    }

    func testWordVocabularyAndPaddedTimeMajorBatches() throws {
        let vocabulary = try Vocabulary.words(of: ["good good bad", "Good movie!"], minCount: 2)
        XCTAssertEqual(vocabulary.tokens, ["<pad>", "<unk>", "good"])
        let encoded = try EncodedSentences([LabelledSentence(text: "good movie", label: 1), LabelledSentence(text: "bad", label: 0),
                                            LabelledSentence(text: "good good good", label: 1)], vocabulary: vocabulary)
        XCTAssertEqual(encoded.sequences, [[2, 1], [1], [2, 2, 2]])
        let batch = ClassificationBatch(sequences: encoded.sequences, labels: encoded.labels, paddingId: 0)
        XCTAssertEqual(batch.steps, 3)
        XCTAssertEqual(batch.batch, 3)
        // (T=3, B=3) row-major: t=0: 2 1 2 / t=1: 1 0 2 / t=2: 0 0 2
        XCTAssertEqual(batch.ids, [2, 1, 2, 1, 0, 2, 0, 0, 2])
        XCTAssertEqual(batch.lengths, [2, 1, 3])
        XCTAssertEqual(batch.labels, [1, 0, 1])
        let batches = encoded.batches(size: 2, order: [2, 0, 1], paddingId: 0)
        XCTAssertEqual(batches.map(\.batch), [2, 1])
        XCTAssertEqual(batches[0].lengths, [3, 2])
        XCTAssertEqual(batches[1].ids, [1])
        let withEmpty = ClassificationBatch(sequences: [[], [5, 6]], paddingId: 0)
        XCTAssertEqual(withEmpty.lengths, [1, 2], "an empty sentence is one padding step")
        XCTAssertEqual(withEmpty.ids, [0, 5, 0, 6])
    }

    func testSeededSplitIsEightyTenTenDisjointAndReproducible() {
        let items = Array(0..<1000)
        let a = DataSplit(items, seed: 7), b = DataSplit(items, seed: 7), c = DataSplit(items, seed: 8)
        XCTAssertEqual([a.train.count, a.validation.count, a.test.count], [800, 100, 100])
        XCTAssertEqual(Set(a.train + a.validation + a.test), Set(items))
        XCTAssertEqual(a.test, b.test)
        XCTAssertNotEqual(a.test, c.test)
        XCTAssertNotEqual(a.train, Array(0..<800), "shuffled")
    }
}
