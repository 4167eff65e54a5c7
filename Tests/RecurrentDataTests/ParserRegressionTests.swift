import Foundation
import RecurrentData
import XCTest

/// Inputs that once broke a parser, kept so they stay fixed (see docs/RELIABILITY.md).
final class ParserRegressionTests: XCTestCase {
    /// "\r\n" is one Swift Character, so splitting a String on "\n" read a CRLF file as one line.
    func testCRLFFilesHaveManyLines() throws {
        let conll = try parseCoNLL("EU\tB-ORG\r\nrejects\tO\r\n\r\nGerman\tB-MISC\r\n", path: "crlf.conll")
        XCTAssertEqual(conll, [TaggedSentence(tokens: ["EU", "rejects"], tags: ["B-ORG", "O"]), TaggedSentence(tokens: ["German"], tags: ["B-MISC"])])

        let snips = try parseSNIPSSplit(seqIn: "play jazz\r\nstop\r\n", seqOut: "O B-genre\r\nO\r\n", label: "PlayMusic\r\nStop\r\n", folder: "split")
        XCTAssertEqual(snips.map(\.intent), ["PlayMusic", "Stop"])
        XCTAssertEqual(snips.map(\.tags), [["O", "B-genre"], ["O"]])

        let series = try TimeSeriesReader.parse("t,value\r\n1,10\r\n2,11\r\n3,12\r\n", path: "crlf.csv")
        XCTAssertEqual(series.values, [10, 11, 12])
        XCTAssertEqual(series.lines, [2, 3, 4])
    }
}
