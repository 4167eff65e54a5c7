import XCTest
@testable import RecurrentData

/// `predict tag` tokenizes raw text the way the training data was tokenized.
final class TaggingTokenizerTests: XCTestCase {
    let plain = TaggingTokenizer(lowercases: false, splitsContractions: false)
    let treebank = TaggingTokenizer(lowercases: false, splitsContractions: true)

    func texts(_ tokenizer: TaggingTokenizer, _ line: String) -> [String] { tokenizer(line).map(\.text) }

    func testPunctuationIsSplitFromWords() {
        XCTAssertEqual(texts(plain, "book a table for monday morning?"), ["book", "a", "table", "for", "monday", "morning", "?"])
        XCTAssertEqual(texts(plain, "Wow!!! (really) \"Paris\", ok..."), ["Wow", "!!!", "(", "really", ")", "\"", "Paris", "\"", ",", "ok", "..."])
        XCTAssertEqual(texts(plain, "what?! ... :)"), ["what", "?!", "...", ":)"])
        XCTAssertEqual(texts(plain, "top-rated r&b at 3:30 in the U.S."), ["top-rated", "r&b", "at", "3:30", "in", "the", "U.S", "."])
        XCTAssertEqual(texts(plain, "@paulwalk #ESB http://t.co/x1?a=b."), ["@paulwalk", "#ESB", "http://t.co/x1?a=b", "."])
        XCTAssertEqual(texts(plain, "  "), [])
    }

    func testContractionsSplitOnlyForTreebankData() {
        XCTAssertEqual(texts(treebank, "It's what I don't want, I'm sure"), ["It", "'s", "what", "I", "do", "n't", "want", ",", "I", "'m", "sure"])
        XCTAssertEqual(texts(treebank, "Paul's 's"), ["Paul", "'s", "'s"])
        XCTAssertEqual(texts(plain, "it's don't"), ["it's", "don't"])
    }

    func testOffsetsPointIntoTheLine() {
        let line = "Visit  New York, now!"
        let tokens = plain(line)
        let characters = Array(line)
        XCTAssertEqual(tokens.map { String(characters[$0.range]) }, tokens.map(\.text))
        XCTAssertEqual(tokens.map(\.range), [0..<5, 7..<10, 11..<15, 15..<16, 17..<20, 20..<21])
    }

    func testMatchingAVocabulary() {
        XCTAssertEqual(TaggingTokenizer(matching: ["<pad>", "play", "jazz"]), TaggingTokenizer(lowercases: true, splitsContractions: false))
        XCTAssertEqual(TaggingTokenizer(matching: ["<pad>", "Paris", "'s"]), TaggingTokenizer(lowercases: false, splitsContractions: true))
    }
}
