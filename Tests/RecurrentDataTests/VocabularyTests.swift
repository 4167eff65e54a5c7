import XCTest
@testable import RecurrentData
import RecurrentTensor

final class VocabularyTests: XCTestCase {
    func testCountingOrdersByFrequencyThenFirstSeenAndKeepsSpecialsFirst() throws {
        let words = "b a c a b a d".split(separator: " ").map(String.init)
        let vocab = try Vocabulary(counting: words, minCount: 2, specials: [Vocabulary.pad, Vocabulary.unk])
        XCTAssertEqual(vocab.tokens, ["<pad>", "<unk>", "a", "b"])
        XCTAssertEqual(vocab.paddingId, 0)
        XCTAssertEqual(try vocab.encode(["a", "c", "b"]), [2, 1, 3], "rare and unseen words map to <unk>")
    }

    func testCharacterVocabularyRoundTripAndErrors() throws {
        let vocab = try Vocabulary.characters(of: "hello, world")
        XCTAssertEqual(vocab.count, 9)
        let ids = try vocab.encode(characters: "lower")
        XCTAssertEqual(vocab.decode(ids), "lower")
        XCTAssertThrowsError(try vocab.encode(characters: "xyz")) { XCTAssertEqual($0 as? DataError, .unknownToken("x")) }
        XCTAssertEqual(try Vocabulary(jsonString: vocab.jsonString()), vocab)
        XCTAssertThrowsError(try Vocabulary(jsonString: "{\"a\": 1}"))
        XCTAssertThrowsError(try Vocabulary(jsonString: "[\"a\", \"a\"]"))
        XCTAssertThrowsError(try Vocabulary(jsonString: "[1, 2]"))
        XCTAssertThrowsError(try Vocabulary(tokens: []))
    }

    func testCorpusSplitAndBatchesAreTimeMajorShiftedByOne() throws {
        let corpus = try TextCorpus(text: String(repeating: "abcdefghij", count: 10), validationFraction: 0.1)
        XCTAssertEqual(corpus.train.count, 90)
        XCTAssertEqual(corpus.validation.count, 10)
        let batch = LanguageModelBatch.windows(from: corpus.train, starts: [0, 5], steps: 3)
        // inputs (T=3, B=2): a f / b g / c h ; targets shifted by one
        XCTAssertEqual(corpus.vocabulary.decode(batch.inputs), "afbgch")
        XCTAssertEqual(corpus.vocabulary.decode(batch.targets), "bgchdi")
        var g1 = RandomGenerator(seed: 5), g2 = RandomGenerator(seed: 5)
        XCTAssertEqual(LanguageModelBatch.random(from: corpus.train, steps: 8, batch: 4, generator: &g1).inputs,
                       LanguageModelBatch.random(from: corpus.train, steps: 8, batch: 4, generator: &g2).inputs)
        let streams = LanguageModelBatch.sequential(from: corpus.train, steps: 4, batch: 2)
        XCTAssertEqual(streams.count, 11)
        XCTAssertEqual(streams[1].inputs[0], streams[0].targets[3 * 2], "stream 0 continues where the previous chunk ended")
    }

    func testBadFilesThrowClearErrors() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("recurrent-data-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        XCTAssertThrowsError(try TextCorpus(path: dir.appendingPathComponent("missing.txt").path)) {
            XCTAssertEqual($0 as? DataError, .fileNotFound(path: dir.appendingPathComponent("missing.txt").path))
        }
        let empty = dir.appendingPathComponent("empty.txt")
        try Data().write(to: empty)
        XCTAssertThrowsError(try TextCorpus(path: empty.path)) { XCTAssertEqual($0 as? DataError, .empty(path: empty.path)) }
        let binary = dir.appendingPathComponent("binary.txt")
        try Data([0xff, 0xfe, 0xc3]).write(to: binary)
        XCTAssertThrowsError(try TextCorpus(path: binary.path)) { XCTAssertEqual($0 as? DataError, .notUTF8(path: binary.path)) }
        let short = dir.appendingPathComponent("short.txt")
        try "ab".write(to: short, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try TextCorpus(path: short.path, minimumLength: 2)) {
            XCTAssertEqual($0 as? DataError, .tooShort(path: short.path, needed: 4, found: 2))
        }
        XCTAssertThrowsError(try TextCorpus(path: dir.path)) { error in
            guard case .unreadable = error as? DataError else { return XCTFail("\(error)") }
        }
    }
}
