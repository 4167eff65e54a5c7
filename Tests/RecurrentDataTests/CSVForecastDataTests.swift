import XCTest
@testable import RecurrentData

/// Issue 22: CSV through yaslab/CSV.swift, dates and their step, gaps, covariates, horizons and baselines.
final class CSVForecastDataTests: XCTestCase {
    func assertBadRow(_ text: String, _ reading: TimeSeriesReading = .init(), line: Int, mentioning: String, file: StaticString = #filePath, l: UInt = #line) {
        XCTAssertThrowsError(try TimeSeriesReader.parse(text, path: "x.csv", reading: reading), file: file, line: l) {
            guard case let .badRow(path, found, reason)? = $0 as? DataError else { return XCTFail("\($0)", file: file, line: l) }
            XCTAssertEqual(path, "x.csv", file: file, line: l)
            XCTAssertEqual(found, line, reason, file: file, line: l)
            XCTAssertTrue(reason.contains(mentioning), "'\(reason)' should mention '\(mentioning)'", file: file, line: l)
            XCTAssertFalse("\($0)".contains("\n"), "one line", file: file, line: l)
        }
    }

    func testQuotedHeadersDatesAndNumbers() throws {
        let csv = "\"Month\",\"Passengers\"\r\n\"1949-01\",\"112\"\r\n\"1949-02\",\"118\"\r\n\"1949-03\",132\r\n"
        let s = try TimeSeriesReader.parse(csv, path: "air.csv", reading: .init(target: .name("Passengers")))
        XCTAssertEqual(s.values, [112, 118, 132])
        XCTAssertEqual(s.labels, ["1949-01", "1949-02", "1949-03"])
        XCTAssertEqual(s.columnName, "Passengers")
        XCTAssertEqual(s.dateColumn, "Month")
        XCTAssertEqual(s.step, .months(1))
        XCTAssertEqual(s.defaultSeason?.season, 12)
        XCTAssertEqual(s.label(after: 10), "1950-01")
        XCTAssertEqual(s.lines, [2, 3, 4])
        // A quoted field holding a separator and a line break: the next row's line is still right.
        let multi = "date,note,v\n2000-01-01,\"a, b\nc\",1\n2000-01-02,x,oops\n"
        assertBadRow(multi, line: 4, mentioning: "'v' is 'oops', not a finite number")
    }

    func testSeparatorsDetectedOrGiven() throws {
        let semicolon = "date;a;b\n2000-01-01;1.5;3\n2000-01-02;2.5;4\n"
        let s = try TimeSeriesReader.parse(semicolon, path: "x.csv", reading: .init(target: .name("a"), covariates: [.name("b")]))
        XCTAssertEqual(s.values, [1.5, 2.5])
        XCTAssertEqual(s.covariates, [[3, 4]])
        XCTAssertEqual(s.covariateNames, ["b"])
        XCTAssertEqual(try CSVTableReader.parse("a\tb\n1\t2\n", path: "x").separator, .tab)
        XCTAssertEqual(try CSVTableReader.parse("a|b\n1|2\n", path: "x").separator, .pipe)
        XCTAssertEqual(try CSVTableReader.parse(" 1  2\n 3  4\n", path: "x").rows, [["1", "2"], ["3", "4"]])
        assertBadRow(semicolon, .init(separator: .comma), line: 1, mentioning: "the separator ',' splits nothing")
        assertBadRow(semicolon, .init(separator: .comma), line: 1, mentioning: "try --separator semicolon")
    }

    func testQuotingMistakesNameTheirLine() {
        assertBadRow("date,v\n2000-01,1\n2000-02,\"2\n2000-03,3\n", line: 3, mentioning: "never closed")
        assertBadRow("date,v\n2000-01,1\n2000-02,\"2\"x\n", line: 3, mentioning: "text after the closing quote")
        assertBadRow("date,v\n2000-01,1\n2000-02,2\"\n", line: 3, mentioning: "a quote (\") inside an unquoted field")
    }

    func testGapsDuplicatesOrderAndFill() throws {
        let gap = "date,v\n2012-01-01,1\n2012-01-02,2\n2012-01-05,5\n2012-01-06,6\n"
        assertBadRow(gap, line: 4, mentioning: "2 daily steps missing between 2012-01-02 (line 3) and 2012-01-05; --fill")
        let linear = try TimeSeriesReader.parse(gap, path: "x.csv", reading: .init(fill: .linear))
        XCTAssertEqual(linear.values, [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(linear.labels, ["2012-01-01", "2012-01-02", "2012-01-03", "2012-01-04", "2012-01-05", "2012-01-06"])
        XCTAssertEqual(linear.filled, 2)
        XCTAssertEqual(try TimeSeriesReader.parse(gap, path: "x.csv", reading: .init(fill: .previous)).values, [1, 2, 2, 2, 5, 6])
        assertBadRow("date,v\n2012-01-01,1\n2012-01-02,2\n2012-01-02,3\n", line: 4, mentioning: "repeats line 3")
        assertBadRow("date,v\n2012-01-01,1\n2012-01-03,2\n2012-01-02,3\n", line: 4, mentioning: "comes before")
        assertBadRow("date,v\n2012-01-01,1\n2012-01-02,2\n2012-13-03,3\n", .init(date: .name("date")), line: 4, mentioning: "not a date")
        assertBadRow("t,v\n2012-01-01T00:00,1\n2012-01-01T01:00,2\n2012-01-01T01:30,3\n2012-01-01T02:30,3\n", line: 4, mentioning: "off the hourly step")
        assertBadRow("date,v\n2012-01-01,1\n2012-01-02,abc\n", line: 3, mentioning: "'v' is 'abc'")
    }

    func testStepsAndTheirSeasons() throws {
        func step(_ labels: [String]) throws -> TimeSeries {
            try TimeSeriesReader.parse("d,v\n" + labels.enumerated().map { "\($1),\($0)" }.joined(separator: "\n"), path: "x")
        }
        let quarterly = try step(["1959Q1", "1959Q2", "1959Q3", "1959Q4", "1960Q1"])
        XCTAssertEqual(quarterly.step, .months(3))
        XCTAssertEqual(quarterly.defaultSeason?.season, 4)
        XCTAssertEqual(quarterly.label(after: 1), "1960Q2")
        let hourly = try step(["2020-01-01T22:00:00Z", "2020-01-01T23:00:00Z", "2020-01-02T00:00:00Z"])
        XCTAssertEqual(hourly.step, .seconds(3600))
        XCTAssertEqual(hourly.defaultSeason?.season, 24)
        XCTAssertEqual(hourly.label(after: 1), "2020-01-02T01:00:00")
        let daily = try step(["2020-02-28", "2020-02-29", "2020-03-01"])
        XCTAssertEqual(daily.step, .seconds(86_400))
        XCTAssertEqual(daily.defaultSeason?.season, 7, "under two years of days: weekly")
        XCTAssertEqual(TimeStep.seconds(86_400).defaultSeason(count: 1461)?.season, 365)
        let monthlyAsDays = try step(["2020-01-01", "2020-02-01", "2020-03-01"])
        XCTAssertEqual(monthlyAsDays.step, .months(1), "first of each month: monthly, not every 29-31 days")
        XCTAssertNil(try TimeSeriesReader.parse("v\n1\n2\n", path: "x").step, "no date column")
        XCTAssertNil(TimeStamp.parse("2012"), "a bare number is not taken for a year")
        XCTAssertEqual(TimeStamp.parse("2012-01-31T13:00+02:00")?.0.secondOfDay, 11 * 3600)
        XCTAssertEqual(TimeStamp(seconds: 0).label(.day), "1970-01-01")
    }

    func testCovariatesHorizonAndTheirTargets() throws {
        let x = (0..<100).map(Double.init), c = (0..<100).map { Double($0 % 2) }
        let data = try ForecastDataset(series: x, covariates: [c], window: 4, target: .level, season: nil, horizon: 3)
        XCTAssertEqual(data.test, 90..<98, "an origin needs all 3 targets inside the test part")
        XCTAssertEqual(data.validation, 80..<88)
        XCTAssertEqual(data.train, 4..<78)
        XCTAssertEqual(data.covariateScalers, [ZScore(mean: 0.5, std: 0.5)])
        let (inputs, targets) = data.batch([10])                         // (W, 1, 2), (W, 1, 3)
        XCTAssertEqual(inputs.count, 8)
        XCTAssertEqual((0..<4).map { data.scaler.denormalise(Double(inputs[$0 * 2])) }, [6, 7, 8, 9], accuracy: 1e-4)
        XCTAssertEqual((0..<4).map { data.covariateScalers[0].denormalise(Double(inputs[$0 * 2 + 1])) }, [0, 1, 0, 1], accuracy: 1e-4)
        XCTAssertEqual((0..<3).map { data.value(at: 10, step: $0, fromNormalised: Double(targets[9 + $0])) }, [10, 11, 12], accuracy: 1e-4)
        let difference = try ForecastDataset(series: x.map { $0 * $0 }, window: 4, target: .difference, season: nil, horizon: 2)
        let d = difference.batch([20])
        XCTAssertEqual(difference.value(at: 20, step: 1, fromNormalised: Double(d.targets[7])), 441, accuracy: 1e-2, "x[21] from the change since x[19]")
        XCTAssertThrowsError(try ForecastDataset(series: x, window: 4, season: nil, horizon: 11)) {
            guard case let .tooFewValues(_, _, _, reason)? = $0 as? DataError else { return XCTFail("\($0)") }
            XCTAssertTrue(reason.contains("horizon of 11"), reason)
        }
    }

    func testBaselinesAndMetricsByHand() throws {
        // Period 4 plus a trend of 1 per step: seasonal naive is 4 low, with drift exact.
        let pattern: [Double] = [0, 3, -1, 2]
        let x = (0..<60).map { pattern[$0 % 4] + Double($0) }
        let data = try ForecastDataset(series: x, window: 4, target: .level, season: 4, horizon: 6)
        let t = data.test.lowerBound
        XCTAssertEqual(data.forecast(.persistence, origin: t, step: 2), x[t - 1])
        XCTAssertEqual(data.forecast(.seasonalNaive, origin: t, step: 0), x[t - 4])
        XCTAssertEqual(data.forecast(.seasonalNaive, origin: t, step: 5), x[t + 5 - 8], "two seasons back for step 6")
        for j in 0..<6 { XCTAssertEqual(data.forecast(.seasonalNaiveDrift, origin: t, step: j)!, x[t + j], accuracy: 1e-12) }
        XCTAssertEqual(data.errorScale, 4, accuracy: 1e-12, "in-sample seasonal-naive MAE")
        let naive = try XCTUnwrap(data.errors({ data.forecast(.seasonalNaive, origin: $0, step: $1) }, origins: data.test, step: 0))
        XCTAssertEqual(naive.mae, 4, accuracy: 1e-12)
        XCTAssertEqual(naive.mase, 1, accuracy: 1e-12)
        let e = ForecastErrors(predictions: [1, 0, 3], truth: [1, 0, 1], scale: 2)
        XCTAssertEqual(e.smape, 100.0 / 3, accuracy: 1e-12, "200·2/4 for the last, 0 for an exact 0")
        XCTAssertEqual(e.mase, e.mae / 2, accuracy: 1e-12)
        let none = try ForecastDataset(series: x, window: 4, target: .level, season: nil)
        XCTAssertNil(none.forecast(.seasonalNaive, origin: none.test.lowerBound, step: 0))
        // |x[i] − x[i−1]| runs 4, 3, 4, 1 over i = 1…47 (validation starts at 48): 11 cycles of 12, then 4 + 3 + 4.
        XCTAssertEqual(none.errorScale, 143.0 / 47, accuracy: 1e-12, "persistence MAE scales MASE without a season")
    }
}

private func XCTAssertEqual(_ a: [Double], _ b: [Double], accuracy: Double, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, file: file, line: line)
    for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: accuracy, file: file, line: line) }
}

/// Inputs that must be refused rather than allocated or indexed out of range.
final class ForecastDataLimitsTests: XCTestCase {
    func testHugeGapsAreRefusedEvenWithFill() {
        let text = "t,v\n2000-01-01T00:00:00,1\n2000-01-01T00:00:01,2\n2000-01-01T00:00:02,3\n2010-01-01T00:00:00,4\n"
        XCTAssertThrowsError(try TimeSeriesReader.parse(text, path: "x.csv", reading: .init(fill: .linear))) {
            guard case let .badRow(_, line, reason)? = $0 as? DataError else { return XCTFail("\($0)") }
            XCTAssertEqual(line, 5)
            XCTAssertTrue(reason.contains("more than the 1000000 that --fill fills"), reason)
        }
    }

    func testSeasonalBaselinesOfOriginsTooEarlyAreAbsent() throws {
        let data = try ForecastDataset(series: (0..<200).map(Double.init), window: 4, target: .level, season: 12)
        XCTAssertEqual(data.train.lowerBound, 4)
        XCTAssertNil(data.forecast(.seasonalNaiveDrift, origin: 4, step: 0), "x[t−13] does not exist")
        XCTAssertNil(data.errors({ data.forecast(.seasonalNaive, origin: $0, step: $1) }, origins: data.train))
        XCTAssertNotNil(data.forecast(.seasonalNaiveDrift, origin: 13, step: 0))
    }
}

/// Dates split over two columns, as statsmodels' macrodata writes them.
final class YearAndQuarterColumnsTests: XCTestCase {
    func testYearAndQuarterColumnsGiveQuarterlyDates() throws {
        let csv = "\"year\",\"quarter\",\"gdp\"\n1959,1,2710.3\n1959,2,2778.8\n1959,3,2775.5\n1959,4,2785.2\n1960,1,2847.7\n"
        let s = try TimeSeriesReader.parse(csv, path: "macro.csv")
        XCTAssertEqual(s.values, [2710.3, 2778.8, 2775.5, 2785.2, 2847.7])
        XCTAssertEqual(s.step, .months(3))
        XCTAssertEqual(s.defaultSeason?.season, 4)
        XCTAssertEqual(s.labels.first, "1959Q1")
        XCTAssertEqual(s.label(after: 1), "1960Q2")
        XCTAssertEqual(s.dateColumn, "year, quarter")
        XCTAssertThrowsError(try TimeSeriesReader.parse(csv + "1960,5,2900\n", path: "macro.csv")) {
            guard case let .badRow(_, line, reason)? = $0 as? DataError else { return XCTFail("\($0)") }
            XCTAssertEqual(line, 7)
            XCTAssertTrue(reason.contains("a quarter in 1...4"), reason)
        }
        XCTAssertThrowsError(try TimeSeriesReader.parse(csv + "1960,3,2900\n", path: "macro.csv")) {
            guard case let .badRow(_, line, reason)? = $0 as? DataError else { return XCTFail("\($0)") }
            XCTAssertEqual(line, 7)
            XCTAssertTrue(reason.contains("1 quarterly step missing"), reason)
        }
        let real = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Examples/data/macrodata/macrodata.csv").path
        let macro = try TimeSeriesReader.read(path: real, reading: .init(target: .name("realgdp"), covariates: [.name("realcons"), .name("realinv")]))
        XCTAssertEqual(macro.values.count, 203)
        XCTAssertEqual(macro.labels.last, "2009Q3")
        XCTAssertEqual(macro.covariates.count, 2)
    }
}
