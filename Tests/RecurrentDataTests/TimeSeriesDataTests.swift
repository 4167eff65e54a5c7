import XCTest
@testable import RecurrentData

final class TimeSeriesDataTests: XCTestCase {
    static let noaaHeader = """
    # USE OF NOAA GML DATA
    #            decimal       monthly    de-season  #days  st.dev  unc. of
    #             date         average     alized          of days  mon mean

    """

    func noaa(_ rows: String) -> String { Self.noaaHeader + rows }

    func testNOAAReaderTakesTheMonthlyAverageColumn() throws {
        let s = try TimeSeriesReader.parse(noaa("""
         1958    3   1958.2027      315.71      314.44     -1   -9.99   -0.99
         1958    4   1958.2877      317.45      315.16     -1   -9.99   -0.99
         1958    5   1958.3699      317.51      314.69     -1   -9.99   -0.99
        """), path: "co2.txt")
        XCTAssertTrue(s.isNOAAMonthly)
        XCTAssertEqual(s.values, [315.71, 317.45, 317.51])
        XCTAssertEqual(s.columnName, "average")
        XCTAssertEqual(s.labels, ["1958-03", "1958-04", "1958-05"])
        XCTAssertEqual(s.lines, [4, 5, 6])
        XCTAssertEqual(s.label(after: 8), "1959-01")
        let deseasonalized = try TimeSeriesReader.parse(noaa(" 1958    3   1958.2027      315.71      314.44     -1   -9.99   -0.99\n"),
                                                        path: "co2.txt", column: .name("deseasonalized"))
        XCTAssertEqual(deseasonalized.values, [314.44])
    }

    func testTheBundledFileReads() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Examples/data/co2/co2_mm_mlo.txt").path
        let s = try TimeSeriesReader.read(path: path)
        XCTAssertEqual(s.values.count, 805)
        XCTAssertEqual(s.labels.first, "1958-03")
        XCTAssertEqual(s.labels.last, "2025-03")
        XCTAssertEqual(s.values.last, 428.15)
    }

    func testBadRowsThrowWithFileAndLine() {
        func assertBadRow(_ text: String, column: TimeSeriesColumn? = nil, line: Int, reason: String, file: StaticString = #filePath, l: UInt = #line) {
            XCTAssertThrowsError(try TimeSeriesReader.parse(text, path: "x.txt", column: column), file: file, line: l) {
                XCTAssertEqual($0 as? DataError, .badRow(path: "x.txt", line: line, reason: reason), file: file, line: l)
            }
        }
        assertBadRow(noaa(" 1958 3 1958.2 315.71 314.44 -1 -9.99 -0.99\n 1958 4 1958.3 abc 315.16 -1 -9.99 -0.99\n"),
                     line: 5, reason: "'average' is 'abc', not a finite number")
        assertBadRow(noaa(" 1958 3 1958.2 315.71 314.44 -1 -9.99 -0.99\n 1958 4 1958.3\n"),
                     line: 5, reason: "has 3 fields, column 3 ('average') needs at least 4")
        assertBadRow(noaa(" 1958 3 1958.2 315.71 314.44 -1 -9.99 -0.99\n 1958 13 1958.3 316 315.16 -1 -9.99 -0.99\n"),
                     line: 5, reason: "expected a year in 0...9999 and a month in 1...12, found '1958' '13'")
        assertBadRow(noaa(" 1958 3 1958.2 315.71 314.44 -1 -9.99 -0.99\n 1958 5 1958.3 316 315.16 -1 -9.99 -0.99\n"),
                     line: 5, reason: "1 monthly step missing between 1958-03 (line 4) and 1958-05; --fill linear or --fill previous fills them")
        assertBadRow("date,co2\n2000-01,1.5\n2000-02,inf\n", line: 3, reason: "'co2' is 'inf', not a finite number")
        assertBadRow("date,co2\n2000-01,1.5\n", column: .name("ch4"), line: 1, reason: "no column named 'ch4' (columns: date, co2)")
        assertBadRow("1 2\n3\n", column: .index(1), line: 2, reason: "has 1 field, column 1 ('column 1') needs at least 2")
        XCTAssertThrowsError(try TimeSeriesReader.parse("# only comments\n\n", path: "x.txt")) { XCTAssertEqual($0 as? DataError, .empty(path: "x.txt")) }
        XCTAssertThrowsError(try TimeSeriesReader.read(path: "/nonexistent/co2.txt")) {
            XCTAssertEqual($0 as? DataError, .fileNotFound(path: "/nonexistent/co2.txt"))
        }
    }

    func testGenericColumnsByIndexAndNameWithAndWithoutHeader() throws {
        let csv = "# a comment\ndate, co2, ch4\n2000-01, 1.5, 10\n2000-02, 2.5, 11\n"
        XCTAssertEqual(try TimeSeriesReader.parse(csv, path: "x").values, [10, 11], "default: the last column")
        XCTAssertEqual(try TimeSeriesReader.parse(csv, path: "x", column: .name("CO2")).values, [1.5, 2.5])
        let byIndex = try TimeSeriesReader.parse(csv, path: "x", column: .index(1))
        XCTAssertEqual(byIndex.values, [1.5, 2.5])
        XCTAssertEqual(byIndex.columnName, "co2")
        XCTAssertEqual(byIndex.labels, ["2000-01", "2000-02"])
        XCTAssertEqual(try TimeSeriesReader.parse("4.0\n5.0\t\n6\n", path: "x").values, [4, 5, 6], "one bare column, no header")
        XCTAssertEqual(try TimeSeriesReader.parse("1 4.0\n2 5.0\n", path: "x", column: .index(0)).values, [1, 2])
        XCTAssertEqual(TimeSeriesColumn(parsing: "3"), .index(3))
        XCTAssertEqual(TimeSeriesColumn(parsing: "average"), .name("average"))
    }

    func testMissingValuesAreInterpolatedInsideAndDroppedAtTheEnds() throws {
        let s = try TimeSeriesReader.parse(noaa("""
         1958    3   1958.2027      -99.99      314.44     -1   -9.99   -0.99
         1958    4   1958.2877      317.00      315.16     -1   -9.99   -0.99
         1958    5   1958.3699      -99.99      314.69     -1   -9.99   -0.99
         1958    6   1958.4548      -99.99      315.15     -1   -9.99   -0.99
         1958    7   1958.5370      320.00      315.20     -1   -9.99   -0.99
         1958    8   1958.6219      -99.99      316.21     -1   -9.99   -0.99
        """), path: "co2.txt")
        XCTAssertEqual(s.values, [317, 318, 319, 320])
        XCTAssertEqual(s.filled, 2)
        XCTAssertEqual(s.labels, ["1958-04", "1958-05", "1958-06", "1958-07"])
        XCTAssertEqual(try TimeSeriesReader.parse("v\n1\nNA\n\n,\n-999\n5\n", path: "x", column: .index(0)).values, [1, 2, 3, 4, 5],
                       "NA, empty and sentinel ≤ −99 are missing")
        XCTAssertThrowsError(try TimeSeriesReader.parse("v\nNA\n-99.99\n", path: "x")) {
            XCTAssertEqual($0 as? DataError, .tooFewValues(path: "x", needed: 1, found: 0, reason: "every value of 'v' is missing"))
        }
    }

    func testWindowsTargetsAndSplitsAreChronological() throws {
        let series = (0..<100).map { Double($0 * $0) }
        let level = try ForecastDataset(series: series, window: 5, target: .level)
        XCTAssertEqual(level.test, 90..<100)
        XCTAssertEqual(level.validation, 80..<90)
        XCTAssertEqual(level.train, 5..<80)
        let (inputs, targets) = level.batch([5, 90])                       // (W, B) = (5, 2)
        func raw(_ z: Float) -> Double { level.scaler.denormalise(Double(z)) }
        XCTAssertEqual((0..<5).map { raw(inputs[$0 * 2]) }, [0, 1, 4, 9, 16].map(Double.init), accuracy: 1e-2)
        XCTAssertEqual((0..<5).map { raw(targets[$0 * 2]) }, [1, 4, 9, 16, 25].map(Double.init), accuracy: 1e-2)
        XCTAssertEqual((0..<5).map { raw(inputs[$0 * 2 + 1]) }, [85, 86, 87, 88, 89].map { Double($0 * $0) }, accuracy: 5e-2)
        XCTAssertEqual(raw(targets[4 * 2 + 1]), 8100, accuracy: 5e-2)

        let difference = try ForecastDataset(series: series, window: 5, target: .difference)
        XCTAssertEqual(difference.train, 6..<80, "a difference needs one value more")
        let d = difference.batch([6])
        XCTAssertEqual(d.inputs.map { difference.scaler.denormalise(Double($0)) }, [1, 3, 5, 7, 9], accuracy: 1e-3)
        XCTAssertEqual(difference.scaler.denormalise(Double(d.targets[4])), 11, accuracy: 1e-3)
        XCTAssertEqual(difference.value(at: 6, fromNormalised: difference.scaler.normalise(11)), 36, accuracy: 1e-9)
    }

    func testNormalisationIsFittedOnTheTrainingPartOnly() throws {
        // Training values 0…79 are small; validation and test are huge: the scaler must not see them.
        let series = (0..<100).map { $0 < 80 ? Double($0 % 2) : 1e6 }
        let level = try ForecastDataset(series: series, window: 4, target: .level)
        XCTAssertEqual(level.scaler, ZScore(mean: 0.5, std: 0.5))
        let difference = try ForecastDataset(series: series, window: 4, target: .difference)
        XCTAssertEqual(difference.scaler.mean, Double(40 - 39) / 79, accuracy: 1e-12)
        XCTAssertEqual(ZScore(fitting: [3, 3, 3]), ZScore(mean: 3, std: 1), "constant input: std 1")
    }

    func testTooFewValuesForTheWindow() throws {
        var needed = 0
        XCTAssertThrowsError(try ForecastDataset(series: Array(repeating: 1, count: 20), window: 24, path: "short.txt")) {
            guard case let .tooFewValues(path, n, found, reason)? = $0 as? DataError else { return XCTFail("\($0)") }
            XCTAssertEqual(path, "short.txt")
            XCTAssertEqual(found, 20)
            XCTAssertEqual(reason, "a window of 24 and one sample in each of the training, validation and test parts (and a season of 12 before the test part)")
            needed = n
        }
        XCTAssertNoThrow(try ForecastDataset(series: Array(repeating: 1, count: needed), window: 24))
        XCTAssertThrowsError(try ForecastDataset(series: Array(repeating: 1, count: needed - 1), window: 24))
    }

    func testSeasonalNaiveOnAHandMadeSeries() throws {
        // A period-12 pattern plus a trend of 1 per step: seasonal naive is off by exactly 12 everywhere.
        let pattern: [Double] = [0, 3, 5, 6, 5, 3, 0, -3, -5, -6, -5, -3]
        let series = (0..<120).map { pattern[$0 % 12] + Double($0) }
        let data = try ForecastDataset(series: series, window: 12)
        XCTAssertEqual(data.test, 108..<120)
        XCTAssertEqual(data.seasonalNaive(110), series[98])
        let naive = ForecastErrors(predictions: data.test.map(data.seasonalNaive), truth: data.test.map { series[$0] })
        XCTAssertEqual(naive.rmse, 12, accuracy: 1e-12)
        XCTAssertEqual(naive.mae, 12, accuracy: 1e-12)
        let errors = ForecastErrors(predictions: [1, 2, 3, 4], truth: [1, 4, 3, 0])
        XCTAssertEqual(errors.rmse, (20.0 / 4).squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(errors.mae, 1.5, accuracy: 1e-12)
    }
}

private func XCTAssertEqual(_ a: [Double], _ b: [Double], accuracy: Double, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, file: file, line: line)
    for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: accuracy, file: file, line: line) }
}
