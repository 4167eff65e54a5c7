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

    /// Found by review and confirmed with the timeseries fuzz target (Fuzz/corpus/timeseries/regression-noaa-year-overflow.txt):
    /// a NOAA row with a 19-digit year made `year * 12 + month` overflow and trap.
    func testNOAAYearsBeyondFourDigitsAreBadRowsNotOverflows() {
        let text = "# year month decimal average de-season\n999999999999999999 1 1 300 300 1 1 1\n999999999999999999 2 1 301 300 1 1 1\n"
        XCTAssertThrowsError(try TimeSeriesReader.parse(text, path: "co2.txt")) {
            XCTAssertEqual($0 as? DataError, .badRow(path: "co2.txt", line: 2,
                                                     reason: "expected a year in 0...9999 and a month in 1...12, found '999999999999999999' '1'"))
        }
    }

    /// Found by the timeseries fuzz target (Fuzz/corpus/timeseries/regression-noaa-short-row.txt): in the
    /// NOAA layout with the value column 0, a one-field row passed the column check and `fields[1]`
    /// (the month) was read out of range.
    func testNOAARowsWithoutAMonthAreBadRows() throws {
        let text = "# year month decimal average de-season\n1958 3 1958.2 315.7 314.4 -1 -9.99 -0.99\n1958\n"
        XCTAssertThrowsError(try TimeSeriesReader.parse(text, path: "co2.txt", column: .index(0))) {
            XCTAssertEqual($0 as? DataError, .badRow(path: "co2.txt", line: 3, reason: "has 1 field, the NOAA layout needs a year and a month first"))
        }
        // The input the fuzzer wrote, as it came (its first byte chose column 0).
        let crash = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fuzz/corpus/timeseries/regression-noaa-short-row.txt")
        let bytes = try Data(contentsOf: crash).dropFirst()
        let fuzzed = try XCTUnwrap(String(data: bytes, encoding: .utf8))
        XCTAssertThrowsError(try TimeSeriesReader.parse(fuzzed, path: "fuzz.csv", column: .index(0)))
    }
}
