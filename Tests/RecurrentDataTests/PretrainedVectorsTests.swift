import Foundation
import RecurrentData
import RecurrentTensor
import XCTest

final class PretrainedVectorsTests: ScratchFolderTestCase {
    /// word2vec's binary layout: header, then word, space, little-endian float32 values, newline.
    private func binary(_ entries: [(String, [Float])], header: String? = nil, newlines: Bool = true) -> Data {
        var data = Data((header ?? "\(entries.count) \(entries.first?.1.count ?? 0)\n").utf8)
        for (word, values) in entries {
            data += Data((word + " ").utf8)
            for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { data += Data($0) } }
            if newlines { data += Data("\n".utf8) }
        }
        return data
    }

    private let expected: [(String, [Float])] = [("the", [0.5, -1, 2]), ("Paris", [1e-3, 4, -0.25]), ("paris", [7, 8, 9]), ("london", [1, 2, 3])]

    private func check(_ v: PretrainedVectors, _ what: String) {
        XCTAssertEqual(v.dimension, 3, what)
        XCTAssertEqual(v.words, expected.map(\.0), what)
        XCTAssertEqual(v.values, expected.flatMap(\.1), what)
    }

    func testReadsTextWithAndWithoutHeaderAndBinary() throws {
        let lines = expected.map { w, v in ([w] + v.map { "\($0)" }).joined(separator: " ") }
        let glove = try write("glove.txt", Data(lines.joined(separator: "\n").utf8))                      // no trailing newline
        let word2vec = try write("w2v.txt", Data(("4 3\n" + lines.map { $0 + " " }.joined(separator: "\n") + "\n").utf8))  // trailing spaces
        let crlf = try write("crlf.vec", Data(("4 3\r\n" + lines.joined(separator: "\r\n") + "\r\n").utf8))
        let bin = try write("w2v.bin", binary(expected))
        let binNoNewlines = try write("w2v-tight.bin", binary(expected, newlines: false))
        check(try PretrainedVectors(contentsOf: glove, format: .text), "GloVe")
        check(try PretrainedVectors(contentsOf: word2vec, format: .text), "word2vec text")
        check(try PretrainedVectors(contentsOf: crlf, format: .text), "CRLF")
        check(try PretrainedVectors(contentsOf: bin, format: VectorFileFormat.guess(forPath: bin)), "binary")
        check(try PretrainedVectors(contentsOf: binNoNewlines, format: .word2vecBinary), "binary without newlines")
        XCTAssertEqual(try PretrainedVectors(contentsOf: bin, format: .word2vecBinary, maximumWords: 2).words, ["the", "Paris"])
        XCTAssertEqual(try PretrainedVectors(contentsOf: word2vec, format: .text, maximumWords: 1).values, [0.5, -1, 2])
    }

    func testWordsWithSpacesAndDuplicates() throws {
        let text = "3 2\n. . . 1 2\nа́б 3 4\n. . . 5 6\n"
        let v = try PretrainedVectors(data: Data(text.utf8), format: .text)
        XCTAssertEqual(v.words, [". . .", "а́б"])
        XCTAssertEqual(v.values, [1, 2, 3, 4], "the first of two vectors of one word wins")
    }

    func testLookupCoverageAndFill() throws {
        let v = try PretrainedVectors(data: Data(expected.map { w, v in ([w] + v.map { "\($0)" }).joined(separator: " ") }.joined(separator: "\n").utf8), format: .text)
        XCTAssertEqual(v.lookup("Paris")?.row, 1)
        XCTAssertEqual(v.lookup("Paris")?.match, .exact)
        XCTAssertEqual(v.lookup("London")?.row, 3)
        XCTAssertEqual(v.lookup("London")?.match, .lowercased)
        XCTAssertNil(v.lookup("Rome"))

        let vocabulary = ["<pad>", "<unk>", "the", "Paris", "London", "Rome", "THE"]
        var rng = RandomGenerator(seed: 1)
        let weight = Tensor<Float>.normal([7, 3], generator: &rng)
        (weight.data).update(repeating: 0, count: 3)
        let before = weight.scalars
        let coverage = try v.fill(weight, vocabulary: vocabulary, skipping: [0])
        XCTAssertEqual(coverage, VectorCoverage(words: 6, exact: 2, lowercased: 2, missing: 2, missingExamples: ["<unk>", "Rome"]))
        XCTAssertEqual(coverage.description, "pretrained vectors for 4 of 6 words (66.7%: 2 exact, 2 lowercased); 2 missing, e.g. <unk> Rome")
        let rows = (0..<7).map { Array(weight.scalars[($0 * 3)..<($0 * 3 + 3)]) }
        XCTAssertEqual(rows[0], [0, 0, 0], "skipped padding row")
        XCTAssertEqual(rows[1], Array(before[3..<6]), "missing rows keep their initial values")
        XCTAssertEqual(rows[2], [0.5, -1, 2])
        XCTAssertEqual(rows[3], [1e-3, 4, -0.25])
        XCTAssertEqual(rows[4], [1, 2, 3])
        XCTAssertEqual(rows[5], Array(before[15..<18]))
        XCTAssertEqual(rows[6], [0.5, -1, 2])
        XCTAssertThrowsError(try v.fill(Tensor<Float>(zeros: [7, 4]), vocabulary: vocabulary)) {
            XCTAssertEqual($0 as? DataError, .badVocabulary(reason: "the embedding is [7, 4], the pretrained vectors need (7, 3): set the embedding size to 3"))
        }
    }

    private func refuses(_ text: String, format: VectorFileFormat = .text, _ error: DataError, file: StaticString = #filePath, line: UInt = #line) {
        refuses(Data(text.utf8), format: format, error, file: file, line: line)
    }

    private func refuses(_ data: Data, format: VectorFileFormat, _ error: DataError, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try PretrainedVectors(data: data, format: format, path: "v"), file: file, line: line) {
            XCTAssertEqual($0 as? DataError, error, file: file, line: line)
        }
    }

    func testMalformedTextFilesAreRefusedWithLineNumbers() {
        refuses("a 1 2\nb 1 2 3\n", .badRow(path: "v", line: 2, reason: "expected a word and 2 values, found 4 fields"))
        refuses("a 1 2\nb 1\n", .badRow(path: "v", line: 2, reason: "expected a word and 2 values, found 2 fields"))
        refuses("2 2\na 1 2\nb 1\n\n\n", .badRow(path: "v", line: 3, reason: "expected a word and 2 values, found 2 fields"))
        refuses("a 1 2\n\nb 1 x2\n", .badRow(path: "v", line: 3, reason: "value 2, 'x2', is not a finite number"))
        refuses("a 1 nan\n", .badRow(path: "v", line: 1, reason: "value 2, 'nan', is not a finite number"))
        refuses("a 1 1e999\n", .badRow(path: "v", line: 1, reason: "value 2, '1e999', is not a finite number"))
        refuses("a\n", .badRow(path: "v", line: 1, reason: "expected a word and its values, found 1 field"))
        refuses("3 2\na 1 2\nb 3 4\n\n\n\n\n\n\n", .badFile(path: "v", reason: "the header claims 3 vectors, the file has 2"))
        refuses("1 2\na 1 2\nb 3 4\n", .badRow(path: "v", line: 3, reason: "the header claims 1 vectors, the file has more"))
        refuses("2 0\na\nb\n", .badRow(path: "v", line: 1, reason: "the header's dimension 0 is outside 1...65536"))
        refuses("1 100000\na 1\n", .badRow(path: "v", line: 1, reason: "the header's dimension 100000 is outside 1...65536"))
        refuses("1000000000 300\na 1\n", .badRow(path: "v", line: 1, reason: "the header claims 1000000000 vectors of 300 values, which need at least 602000000000 bytes; the file has 4 after the header"))
        refuses("9223372036854775807 300\na 1\n", .badRow(path: "v", line: 1, reason: "the header claims 9223372036854775807 vectors of 300 values, which need at least more than 9223372036854775807 bytes; the file has 4 after the header"))
        refuses("\n\n", .badFile(path: "v", reason: "no vectors"))
        refuses("", .empty(path: "v"))
    }

    func testMalformedBinaryFilesAreRefused() {
        let good = binary(expected)
        refuses(good.prefix(good.count - 5), format: .word2vecBinary, .badItem(path: "v", index: "vector 4 of 4", reason: "the file ends after 8 of its 12 bytes of values"))
        refuses(good.prefix(40), format: .word2vecBinary, .badRow(path: "v", line: 1, reason: "the header claims 4 vectors of 3 values, which need at least 56 bytes; the file has 36 after the header"))
        refuses(binary(expected, header: "4 3 \n").prefix(62), format: .word2vecBinary, .badItem(path: "v", index: "vector 4 of 4", reason: "the file ends inside the word"))
        refuses(binary([("a", [1, .nan])]), format: .word2vecBinary, .badItem(path: "v", index: "vector 1 of 1", reason: "value 2 is not finite (nan)"))
        refuses(binary(expected, header: "4000000 3\n"), format: .word2vecBinary, .badRow(path: "v", line: 1, reason: "the header claims 4000000 vectors of 3 values, which need at least 56000000 bytes; the file has 75 after the header"))
        refuses(binary(expected, header: "4 -3\n"), format: .word2vecBinary, .badRow(path: "v", line: 1, reason: "the header's dimension -3 is outside 1...65536"))
        refuses(Data("the 1.0 2.0\n".utf8), format: .word2vecBinary, .badRow(path: "v", line: 1, reason: "expected a header line \"count dimension\" of word2vec's binary format"))
        var longWord = Data("1 1\n".utf8)
        longWord += Data(repeating: 0x61, count: 2000)
        refuses(longWord, format: .word2vecBinary, .badItem(path: "v", index: "vector 1 of 1", reason: "no space after the word within 1000 bytes"))
    }

    func testMissingFileIsATypedError() {
        XCTAssertThrowsError(try PretrainedVectors(contentsOf: folder.appendingPathComponent("none.txt").path, format: .text)) {
            guard case .fileNotFound = $0 as? DataError else { return XCTFail("\($0)") }
        }
    }
}
