import Foundation
import XCTest
@testable import RecurrentData

final class TaggingDataTests: ScratchFolderTestCase {
    func writeSNIPSSplit(_ split: String, seqIn: String, seqOut: String, label: String) throws -> String {
        _ = try write(seqIn, "\(split)/seq.in")
        _ = try write(seqOut, "\(split)/seq.out")
        _ = try write(label, "\(split)/label")
        return folder.appendingPathComponent(split).path
    }

    // MARK: chunk scores (conlleval)

    func score(_ gold: [[String]], _ guessed: [[String]]) -> ChunkScore { ChunkScore(gold: gold, guessed: guessed) }

    func testPerfectTaggingAndHyphenatedTypes() {
        let s = score([["B-PER", "I-PER", "O", "B-creative-work", "I-creative-work"]], [["B-PER", "I-PER", "O", "B-creative-work", "I-creative-work"]])
        XCTAssertEqual([s.gold, s.guessed, s.correct], [2, 2, 2])
        XCTAssertEqual(s.f1, 1)
        XCTAssertEqual(s.byType["creative-work"]?.correct, 1, "the type is everything after the first hyphen")
        XCTAssertEqual(s.tokenAccuracy, 1)
    }

    func testIWithoutBStartsAChunk() {
        // conlleval: O→I starts a chunk, so a gold I-PER I-PER equals a guessed B-PER I-PER.
        let s = score([["I-PER", "I-PER", "O"]], [["B-PER", "I-PER", "O"]])
        XCTAssertEqual([s.gold, s.guessed, s.correct], [1, 1, 1])
        // An I- of another type starts a new chunk too.
        let t = score([["B-PER", "I-LOC"]], [["B-PER", "B-LOC"]])
        XCTAssertEqual([t.gold, t.guessed, t.correct], [2, 2, 2])
        XCTAssertEqual(t.tokenAccuracy, 0.5)
    }

    func testSpanAndTypeMustBothMatch() {
        let span = score([["B-PER", "I-PER", "O"]], [["B-PER", "O", "O"]])
        XCTAssertEqual([span.gold, span.guessed, span.correct], [1, 1, 0], "a shorter guess is wrong")
        let longer = score([["B-PER", "O"]], [["B-PER", "I-PER"]])
        XCTAssertEqual([longer.gold, longer.guessed, longer.correct], [1, 1, 0], "a longer guess is wrong")
        let type = score([["B-PER"]], [["B-LOC"]])
        XCTAssertEqual([type.gold, type.guessed, type.correct], [1, 1, 0])
        let adjacent = score([["B-PER", "B-PER"]], [["B-PER", "I-PER"]])
        XCTAssertEqual([adjacent.gold, adjacent.guessed, adjacent.correct], [2, 1, 0], "B-B is two chunks")
        let switched = score([["B-A", "I-A"]], [["B-A", "I-B"]])
        XCTAssertEqual([switched.gold, switched.guessed, switched.correct], [1, 2, 0])
    }

    func testSentenceBoundaryClosesChunks() {
        // Without the boundary, I-PER would continue the chunk of the previous sentence.
        let s = score([["O", "B-PER"], ["I-PER", "O"]], [["O", "B-PER"], ["I-PER", "O"]])
        XCTAssertEqual([s.gold, s.guessed, s.correct], [2, 2, 2])
        let t = score([["B-PER"], ["I-PER"]], [["B-PER"], ["O"]])
        XCTAssertEqual([t.gold, t.guessed, t.correct], [2, 1, 1])
    }

    func testPrecisionRecallF1() {
        let s = score([["B-PER", "I-PER", "O", "B-LOC"], ["O", "B-ORG", "I-ORG"]],
                      [["B-PER", "I-PER", "O", "B-PER"], ["O", "B-ORG", "O"]])
        XCTAssertEqual([s.gold, s.guessed, s.correct], [3, 3, 1])
        XCTAssertEqual(s.precision, 1.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(s.recall, 1.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(s.f1, 1.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(s.f1(type: "PER"), 2.0 / 3, accuracy: 1e-12, "PER: 1 correct of 2 guessed, 1 gold")
        XCTAssertEqual(s.f1(type: "LOC"), 0)
        let u = score([["B-A", "O", "B-B", "O", "B-C"]], [["B-A", "O", "O", "O", "O"]])
        XCTAssertEqual(u.precision, 1)
        XCTAssertEqual(u.recall, 1.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(u.f1, 0.5, accuracy: 1e-12)
        let none = score([["O", "O"]], [["O", "O"]])
        XCTAssertEqual([none.precision, none.recall, none.f1], [0, 0, 0], "no chunks: conlleval reports 0")
        XCTAssertEqual(accuracy(gold: ["a", "b", "c", "d"], guessed: ["a", "b", "x", "d"]), 0.75)
    }

    /// 400 random sentences mixing BIO, stray I-, hyphenated types, E- and bare tags (Scripts/make_tag_fixtures.py);
    /// the counts are conlleval.pl's own output on that file.
    func testAgreesWithConllevalOnRandomSequences() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/tag/random_chunks.txt").path
        var gold: [[String]] = [[]], guessed: [[String]] = [[]]
        for line in try readTextFile(path).split(separator: "\n", omittingEmptySubsequences: false) {
            let fields = line.split(separator: " ").map(String.init)
            if fields.isEmpty {
                if !gold[gold.count - 1].isEmpty { gold.append([]); guessed.append([]) }
                continue
            }
            gold[gold.count - 1].append(fields[1])
            guessed[guessed.count - 1].append(fields[2])
        }
        if gold.last!.isEmpty { gold.removeLast(); guessed.removeLast() }
        XCTAssertEqual(gold.count, 400)
        let s = ChunkScore(gold: gold, guessed: guessed)
        XCTAssertEqual([s.tokens, s.gold, s.guessed, s.correct, s.correctTags], [2050, 1326, 1314, 768, 1349])
    }

    // MARK: readers

    func testSNIPSSplitReads() throws {
        let path = try writeSNIPSSplit("train", seqIn: "play some jazz\nadd song to  my list \n",
                                       seqOut: "O O B-genre\nO B-object O B-playlist_owner B-playlist\n", label: "PlayMusic\nAddToPlaylist\n")
        let sentences = try readSNIPSSplit(path)
        XCTAssertEqual(sentences, [
            TaggedSentence(tokens: ["play", "some", "jazz"], tags: ["O", "O", "B-genre"], intent: "PlayMusic"),
            TaggedSentence(tokens: ["add", "song", "to", "my", "list"], tags: ["O", "B-object", "O", "B-playlist_owner", "B-playlist"], intent: "AddToPlaylist"),
        ])
    }

    func testSNIPSMismatchesNameFileAndLine() throws {
        let lines = try writeSNIPSSplit("a", seqIn: "a b\nc\nd e\n", seqOut: "O O\nO\n", label: "X\nY\nZ\n")
        XCTAssertThrowsError(try readSNIPSSplit(lines)) { error in
            XCTAssertEqual(error as? DataError, .badRow(path: lines + "/seq.out", line: 3, reason: "has 2 lines but \(lines)/seq.in has 3"))
        }
        let tokens = try writeSNIPSSplit("b", seqIn: "a b\nc d e\n", seqOut: "O O\nO O\n", label: "X\nY\n")
        XCTAssertThrowsError(try readSNIPSSplit(tokens)) { error in
            XCTAssertEqual(error as? DataError, .badRow(path: tokens + "/seq.out", line: 2, reason: "has 2 tags but \(tokens)/seq.in has 3 tokens"))
            XCTAssertEqual("\(error)", "\(tokens)/seq.out, line 2: has 2 tags but \(tokens)/seq.in has 3 tokens")
        }
        let labels = try writeSNIPSSplit("c", seqIn: "a\nb\n", seqOut: "O\nO\n", label: "X\n")
        XCTAssertThrowsError(try readSNIPSSplit(labels)) { error in
            XCTAssertEqual(error as? DataError, .badRow(path: labels + "/label", line: 2, reason: "has 1 lines but \(labels)/seq.in has 2"))
        }
        let empty = try writeSNIPSSplit("d", seqIn: "a\n\n", seqOut: "O\n\n", label: "X\nY\n")
        XCTAssertThrowsError(try readSNIPSSplit(empty)) { error in
            XCTAssertEqual(error as? DataError, .badRow(path: empty + "/seq.in", line: 2, reason: "no tokens"))
        }
        let missing = folder.appendingPathComponent("nothing").path
        XCTAssertThrowsError(try readSNIPSSplit(missing)) { error in
            XCTAssertEqual(error as? DataError, .fileNotFound(path: missing + "/seq.in"))
        }
    }

    func testCoNLLReadsSentencesSeparatedByBlankOrTabOnlyLines() throws {
        let path = try write("-DOCSTART-\tO\n\nEmpire\tB-location\nState\tI-location\n\t\nhi\tO\n\n\n@bob\tB-person\n", "x.conll")
        XCTAssertEqual(try readCoNLL(path), [
            TaggedSentence(tokens: ["Empire", "State"], tags: ["B-location", "I-location"]),
            TaggedSentence(tokens: ["hi"], tags: ["O"]),
            TaggedSentence(tokens: ["@bob"], tags: ["B-person"]),
        ])
    }

    func testCoNLLBadLinesAreReportedExactly() throws {
        let one = try write("a\tO\nb\n", "bad1.conll")
        XCTAssertThrowsError(try readCoNLL(one)) { error in
            XCTAssertEqual(error as? DataError, .badRow(path: one, line: 2, reason: "expected a token and a tag (token<TAB>tag, or whitespace-separated "
                                                        + "columns with the token first and the tag last), found 1 column"))
        }
        let three = try write("a\tO\n\nb\tO\tX\n", "bad2.conll")
        XCTAssertThrowsError(try readCoNLL(three)) { error in
            XCTAssertEqual(error as? DataError, .badRow(path: three, line: 3, reason: "has 3 columns but line 1 has 2"))
        }
        let noTag = try write("a\t\n", "bad3.conll")
        XCTAssertThrowsError(try readCoNLL(noTag)) { error in
            XCTAssertEqual(error as? DataError, .badRow(path: noTag, line: 1, reason: "expected one tag, found ''"))
        }
        let blank = try write("\n\t\n", "bad4.conll")
        XCTAssertThrowsError(try readCoNLL(blank)) { XCTAssertEqual($0 as? DataError, .empty(path: blank)) }
        let binary = folder.appendingPathComponent("bad5.conll")
        try Data([0x41, 0x09, 0xff, 0x80, 0x0a]).write(to: binary)
        XCTAssertThrowsError(try readCoNLL(binary.path)) { XCTAssertEqual($0 as? DataError, .notUTF8(path: binary.path)) }
    }

    func testFolderFormatDetection() throws {
        _ = try writeSNIPSSplit("snips/train", seqIn: "a b\n", seqOut: "O B-x\n", label: "I\n")
        _ = try writeSNIPSSplit("snips/valid", seqIn: "a\n", seqOut: "O\n", label: "I\n")
        let snips = folder.appendingPathComponent("snips").path
        XCTAssertThrowsError(try TaggingDataset.load(folder: snips)) { XCTAssertEqual($0 as? DataError, .fileNotFound(path: snips + "/test")) }
        _ = try writeSNIPSSplit("snips/test", seqIn: "b\n", seqOut: "B-x\n", label: "J\n")
        let s = try TaggingDataset.load(folder: snips)
        XCTAssertEqual(s.format, .snips)
        XCTAssertTrue(s.hasIntents)
        XCTAssertEqual(s.test, [TaggedSentence(tokens: ["b"], tags: ["B-x"], intent: "J")])

        _ = try write("a\tO\n", "conll/my.train.txt")
        _ = try write("b\tB-x\n", "conll/my.dev.txt")
        _ = try write("# notes\n", "conll/README.md")
        let conll = folder.appendingPathComponent("conll").path
        XCTAssertThrowsError(try TaggingDataset.load(folder: conll)) { error in
            XCTAssertEqual(error as? DataError, .unreadable(path: conll, reason: "no *test* file (expected SNIPS train/valid/test folders or CoNLL *train*, *dev*, *test* files)"))
        }
        _ = try write("c\tO\n", "conll/my.test.txt")
        let c = try TaggingDataset.load(folder: conll)
        XCTAssertEqual(c.format, .conll)
        XCTAssertFalse(c.hasIntents)
        XCTAssertEqual(c.validation, [TaggedSentence(tokens: ["b"], tags: ["B-x"])])
        let nowhere = folder.appendingPathComponent("nowhere").path
        XCTAssertThrowsError(try TaggingDataset.load(folder: nowhere)) { XCTAssertEqual($0 as? DataError, .fileNotFound(path: nowhere)) }
    }

    func testBundledDataReads() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let snips = try TaggingDataset.load(folder: root.appendingPathComponent("Examples/data/snips").path)
        XCTAssertEqual([snips.train.count, snips.validation.count, snips.test.count], [13084, 700, 700])
        XCTAssertEqual(Set(snips.train.compactMap(\.intent)).count, 7)
        let wnut = try TaggingDataset.load(folder: root.appendingPathComponent("Examples/data/wnut17").path)
        XCTAssertEqual(wnut.format, .conll)
        XCTAssertEqual([wnut.train.count, wnut.validation.count, wnut.test.count], [3394, 1009, 1287])
    }

    // MARK: vocabularies and batches

    func testVocabulariesAndTimeMajorPaddedBatches() throws {
        let train = [TaggedSentence(tokens: ["play", "jazz", "play"], tags: ["O", "B-genre", "O"], intent: "Play"),
                     TaggedSentence(tokens: ["rate", "it"], tags: ["O", "B-obj"], intent: "Rate")]
        let v = try TaggingVocabularies(training: train, minCount: 1)
        XCTAssertEqual(v.words.tokens, ["<pad>", "<unk>", "play", "jazz", "rate", "it"])
        XCTAssertEqual(v.tags.tokens, ["<pad>", "B-genre", "B-obj", "O"])
        XCTAssertEqual(v.intents?.tokens, ["Play", "Rate"])
        XCTAssertEqual(try TaggingVocabularies(training: train, minCount: 2).words.tokens, ["<pad>", "<unk>", "play"])
        let json = try JSONSerialization.jsonObject(with: Data(v.jsonString().utf8)) as? [String: [String]]
        XCTAssertEqual(json?["tags"], v.tags.tokens)
        XCTAssertEqual(json?["intents"], ["Play", "Rate"])

        let sentences = train + [TaggedSentence(tokens: ["new"], tags: ["B-unseen"], intent: "Other")]
        let b = TaggingBatch(sentences, indices: [1, 0, 2], vocabularies: v)
        XCTAssertEqual([b.steps, b.batch], [3, 3])
        XCTAssertEqual(b.lengths, [2, 3, 1])
        // (T, B): row t holds step t of sentences 1, 0, 2.
        XCTAssertEqual(b.words, [4, 2, 1,
                                 5, 3, 0,
                                 0, 2, 0])
        XCTAssertEqual(b.tags, [3, 3, 0,
                                2, 1, 0,
                                0, 3, 0], "padding and unseen tags are the ignore index")
        XCTAssertEqual(b.intents, [1, 0, TaggingBatch.intentIgnoreIndex])
        XCTAssertEqual(TaggingBatch.sequential(sentences, batch: 2, vocabularies: v).map(\.indices), [[0, 1], [2]])
    }

    // MARK: training on part of the validation split

    /// Half of five validation sentences: the 2nd and 4th move to the end of training, the others stay; 0 moves none.
    func testMovingValidationIntoTrainingSpreadsTheMovedSentences() {
        func sentence(_ word: String) -> TaggedSentence { TaggedSentence(tokens: [word], tags: ["O"]) }
        let data = TaggingDataset(format: .conll, train: [sentence("t")], validation: ["v0", "v1", "v2", "v3", "v4"].map(sentence),
                                  test: [sentence("x")])
        let half = data.movingValidationIntoTraining(fraction: 0.5)
        XCTAssertEqual(half.train.map(\.tokens), [["t"], ["v1"], ["v3"]])
        XCTAssertEqual(half.validation.map(\.tokens), [["v0"], ["v2"], ["v4"]])
        XCTAssertEqual(half.test, data.test)
        let most = data.movingValidationIntoTraining(fraction: 0.75)
        XCTAssertEqual(most.validation.map(\.tokens), [["v0"], ["v4"]])
        XCTAssertEqual(most.train.count, 4)
        let none = data.movingValidationIntoTraining(fraction: 0)
        XCTAssertEqual(none.train, data.train)
        XCTAssertEqual(none.validation, data.validation)
    }
}
