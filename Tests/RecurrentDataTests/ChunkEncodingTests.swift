import Foundation
import XCTest
@testable import RecurrentData

/// Chunk encodings (IOB1, IOB2, BIOES, BILOU, plain) detected and converted to IOB2, and the CoNLL
/// files as distributed (several columns, `-DOCSTART-`) read into data sets named after their folder.
final class ChunkEncodingTests: ScratchFolderTestCase {
    func testDetection() throws {
        XCTAssertEqual(try ChunkEncoding.detect([["B-PER", "I-PER", "O", "B-LOC"]]), .iob2)
        XCTAssertEqual(try ChunkEncoding.detect([["O", "O"]]), .iob2, "no chunks: nothing to convert")
        XCTAssertEqual(try ChunkEncoding.detect([["I-ORG", "O", "I-PER", "I-PER", "B-PER"]]), .iob1, "an I- that starts a chunk")
        XCTAssertEqual(try ChunkEncoding.detect([["B-X", "I-X"], ["I-Y"]]), .iob1)
        XCTAssertEqual(try ChunkEncoding.detect([["B-PER", "E-PER", "O", "S-LOC"]]), .bioes)
        XCTAssertEqual(try ChunkEncoding.detect([["B-PER", "L-PER", "U-LOC"]]), .bilou)
        XCTAssertEqual(try ChunkEncoding.detect([["PER", "PER", "O", "LOC", "creative-work"]]), .plain)
        XCTAssertThrowsError(try ChunkEncoding.detect([["B-PER", "O"], ["LOC"]])) { error in
            XCTAssertEqual((error as? ChunkEncoding.Mismatch)?.reason,
                           "the tags mix prefixed and unprefixed labels ('B-PER' and 'LOC'): expected one of IOB1, IOB2, BIOES, BILOU "
                           + "(B-/I-/E-/S-/L-/U- prefixes) or plain tags without prefixes")
        }
        XCTAssertThrowsError(try ChunkEncoding.detect([["S-PER", "U-LOC"]])) { error in
            XCTAssertEqual((error as? ChunkEncoding.Mismatch)?.reason, "the tags mix BIOES and BILOU prefixes ('S-PER' and 'U-LOC')")
        }
    }

    func testConversionToIOB2KeepsTheChunks() {
        // IOB1: I- opens a chunk, B- separates two adjacent chunks of one type.
        XCTAssertEqual(ChunkEncoding.iob1.toIOB2(["I-ORG", "I-ORG", "O", "I-PER", "B-PER", "I-PER", "I-LOC"]),
                       ["B-ORG", "I-ORG", "O", "B-PER", "B-PER", "I-PER", "B-LOC"])
        XCTAssertEqual(ChunkEncoding.bioes.toIOB2(["B-PER", "I-PER", "E-PER", "S-PER", "S-LOC", "O", "B-X", "E-X"]),
                       ["B-PER", "I-PER", "I-PER", "B-PER", "B-LOC", "O", "B-X", "I-X"])
        XCTAssertEqual(ChunkEncoding.bioes.toIOB2(["E-PER", "I-PER"]), ["B-PER", "B-PER"], "an E- closes its chunk; what follows opens one")
        XCTAssertEqual(ChunkEncoding.bilou.toIOB2(["B-PER", "L-PER", "U-PER", "O"]), ["B-PER", "I-PER", "B-PER", "O"])
        XCTAssertEqual(ChunkEncoding.plain.toIOB2(["PER", "PER", "O", "LOC", "PER", "creative-work"]),
                       ["B-PER", "I-PER", "O", "B-LOC", "B-PER", "B-creative-work"])
        XCTAssertEqual(ChunkEncoding.iob2.toIOB2(["B-A", "I-A", "I-B"]), ["B-A", "I-A", "B-B"])
        // conlleval reads IOB1 as it is: the converted tags score the same chunks.
        XCTAssertEqual(TaggedSentence.chunks(ChunkEncoding.bioes.toIOB2(["B-PER", "I-PER", "E-PER", "S-PER", "O", "S-LOC"])).map(\.range),
                       [0..<3, 3..<4, 5..<6])
        let iob1 = ["I-ORG", "O", "I-PER", "B-PER"]
        XCTAssertEqual(ChunkScore(gold: [ChunkEncoding.iob1.toIOB2(iob1)], guessed: [iob1]).f1, 1)
    }

    func testPlainTagsDoNotScoreZero() throws {
        // Tags without prefixes: a perfect tagging must score F1 1 once converted, not 0.
        _ = try write("Alice\tPER\nlives\tO\nin\tO\nNew\tLOC\nYork\tLOC\n", "plain/a.train")
        _ = try write("Bob\tPER\n", "plain/a.dev")
        _ = try write("Paris\tLOC\nand\tO\nRome\tLOC\n", "plain/a.test")
        let data = try TaggingDataset.load(folder: folder.appendingPathComponent("plain").path)
        XCTAssertEqual(data.encoding, .plain)
        XCTAssertEqual(data.name, "plain")
        XCTAssertEqual(data.train[0].tags, ["B-PER", "O", "O", "B-LOC", "I-LOC"])
        let tags = data.test.map(\.tags)
        let score = ChunkScore(gold: tags, guessed: tags)
        XCTAssertEqual([score.gold, score.correct], [2, 2])
        XCTAssertEqual(score.f1, 1)
    }

    func testChunksOfIOB2Tags() {
        let chunks = TaggedSentence.chunks(["B-PER", "I-PER", "O", "I-LOC", "B-LOC", "I-ORG"])
        XCTAssertEqual(chunks.map(\.type), ["PER", "LOC", "LOC", "ORG"])
        XCTAssertEqual(chunks.map(\.range), [0..<2, 3..<4, 4..<5, 5..<6])
        XCTAssertTrue(TaggedSentence.chunks(["O", "O"]).isEmpty)
    }

    /// CoNLL-2003 English exactly as distributed: `token POS chunk NER`, space-separated, IOB1 tags,
    /// `-DOCSTART- -X- -X- O` lines each followed by a blank line; files eng.train, eng.testa, eng.testb.
    func testCoNLL2003AsDistributed() throws {
        let train = """
        -DOCSTART- -X- -X- O

        EU NNP I-NP I-ORG
        rejects VBZ I-VP O
        German JJ I-NP I-MISC
        call NN I-NP O
        to TO I-VP O
        boycott VB I-VP O
        British JJ I-NP I-MISC
        lamb NN I-NP O
        . . O O

        Peter NNP I-NP I-PER
        Blackburn NNP I-NP I-PER

        -DOCSTART- -X- -X- O

        In IN I-PP O
        Lisbon NNP I-NP I-LOC
        and CC O O
        Porto NNP I-NP B-LOC
        .

        """
        // (the last line, ".", lacks its columns: completed here, broken on purpose below)
        let good = train.replacingOccurrences(of: "\n.\n", with: "\n. . O O\n")
        _ = try write(good, "conll2003/eng.train")
        _ = try write("-DOCSTART- -X- -X- O\n\nJapan NNP I-NP I-LOC\nwins VBZ I-VP O\n", "conll2003/eng.testa")
        _ = try write("-DOCSTART- -X- -X- O\n\nSoccer NN I-NP O\n- : O O\nJapan NNP I-NP I-LOC\n", "conll2003/eng.testb")
        let data = try TaggingDataset.load(folder: folder.appendingPathComponent("conll2003").path)
        XCTAssertEqual(data.name, "conll2003")
        XCTAssertEqual(data.format, .conll)
        XCTAssertEqual(data.encoding, .iob1)
        XCTAssertEqual(data.train.count, 3, "-DOCSTART- lines and the blank lines after them are not sentences")
        XCTAssertEqual(data.train[0].tokens, ["EU", "rejects", "German", "call", "to", "boycott", "British", "lamb", "."])
        XCTAssertEqual(data.train[0].tags, ["B-ORG", "O", "B-MISC", "O", "O", "O", "B-MISC", "O", "O"], "IOB1 read as IOB2")
        XCTAssertEqual(data.train[2].tags, ["O", "B-LOC", "O", "B-LOC", "O"])
        XCTAssertEqual(data.validation.map(\.tokens), [["Japan", "wins"]], "eng.testa is the development split")
        XCTAssertEqual(data.test.map(\.tokens), [["Soccer", "-", "Japan"]], "eng.testb is the test split")

        // A line with another number of columns is refused, naming the line.
        let bad = try write(train.replacingOccurrences(of: "\n.\n", with: "\n. . O\n"), "bad/eng.train")
        XCTAssertThrowsError(try readCoNLL(bad)) { error in
            XCTAssertEqual(error as? DataError, .badRow(path: bad, line: 22, reason: "has 3 columns but line 3 has 4"))
        }
        let mixed = try write("a\tB-PER\nb\tPER\n", "mixed/x.train")
        _ = try write("a\tO\n", "mixed/x.dev")
        _ = try write("a\tO\n", "mixed/x.test")
        XCTAssertThrowsError(try TaggingDataset.load(folder: folder.appendingPathComponent("mixed").path)) { error in
            guard case let .badFile(path, reason)? = error as? DataError else { return XCTFail("\(error)") }
            XCTAssertEqual(path, folder.appendingPathComponent("mixed").path)
            XCTAssertTrue(reason.contains("'B-PER' and 'PER'"), reason)
        }
        _ = mixed
    }

    func testCoNLLColumnsAndSeparators() throws {
        // token<TAB>tag (WNUT-17), spaces, and extra columns: the token is first, the tag last.
        XCTAssertEqual(try parseCoNLL("New York\tB-LOC\n", path: "t").first?.tokens, ["New York"], "tabs only split at tabs")
        XCTAssertEqual(try parseCoNLL("a  x  B-X\nb y I-X\n", path: "s").first, TaggedSentence(tokens: ["a", "b"], tags: ["B-X", "I-X"]))
        XCTAssertThrowsError(try parseCoNLL("a\n", path: "one")) { error in
            XCTAssertEqual(error as? DataError, .badRow(path: "one", line: 1, reason: "expected a token and a tag (token<TAB>tag, or whitespace-separated "
                                                        + "columns with the token first and the tag last), found 1 column"))
        }
    }

    func testMismatchedTagSetsAndIntents() throws {
        let train = [TaggedSentence(tokens: ["a", "b"], tags: ["B-x", "O"], intent: "Play"),
                     TaggedSentence(tokens: ["c"], tags: ["O"], intent: "Rate")]
        let v = try TaggingVocabularies(training: train)
        XCTAssertNil(v.mismatch(train))
        let otherTags = v.mismatch([TaggedSentence(tokens: ["a"], tags: ["B-PER"], intent: "Play")])
        XCTAssertEqual(otherTags, "1 of the data's 1 entity types are not the model's (PER); the model was trained on 1: x")
        // One unseen tag of a known type is no reason to refuse; it is listed.
        let rare = [TaggedSentence(tokens: ["a", "b"], tags: ["B-x", "I-x"], intent: "Play")]
        XCTAssertNil(v.mismatch(rare))
        XCTAssertEqual(v.unknownTags(rare), ["I-x"])
        XCTAssertEqual(v.mismatch([TaggedSentence(tokens: ["a"], tags: ["O"])]),
                       "the model predicts intents but the data has none (it was trained on data with intents)")
        XCTAssertEqual(v.mismatch([TaggedSentence(tokens: ["a"], tags: ["O"], intent: "Other")]),
                       "only 0 of the data's 1 intents are among the model's 2 (Play, Rate…)")
        // A few unseen intents are allowed (and reported by the evaluation); multi-intent parts count as known.
        let someUnseen = train + [TaggedSentence(tokens: ["a"], tags: ["O"], intent: "Play#Rate"), TaggedSentence(tokens: ["a"], tags: ["O"], intent: "New")]
        XCTAssertNil(v.mismatch(someUnseen))
        let noIntents = try TaggingVocabularies(training: train.map { TaggedSentence(tokens: $0.tokens, tags: $0.tags) })
        XCTAssertEqual(noIntents.mismatch(train), "the data has intents but the model has no intent head (it was trained on data without intents)")
    }

    func testLowercaseVocabularies() throws {
        let train = [TaggedSentence(tokens: ["Paris", "paris", "Rome"], tags: ["B-x", "B-x", "B-x"])]
        let v = try TaggingVocabularies(training: train, lowercase: true)
        XCTAssertEqual(v.words.tokens, ["<pad>", "<unk>", "paris", "rome"])
        XCTAssertEqual(v.wordId("PARIS"), 2)
        let b = TaggingBatch(train, indices: [0], vocabularies: v)
        XCTAssertEqual(b.words, [2, 2, 3])
    }
}
