import Foundation
import RecurrentData
import RecurrentIO
@testable import RecurrentModels
import RecurrentNN
import RecurrentTensor
@testable import RecurrentTraining
import XCTest

final class ForecastTests: ScratchFolderTestCase {
    static let co2 = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Examples/data/co2/co2_mm_mlo.txt")

    /// The last 20 years of the Mauna Loa series.
    func co2Slice() throws -> TimeSeries {
        var series = try TimeSeriesReader.read(path: Self.co2.path)
        let n = series.values.count
        series.values = Array(series.values[(n - 240)...])
        series.labels = Array(series.labels[(n - 240)...])
        return series
    }

    func train(cell: CellKind, epochs: Int, out: URL, mode: ForecastMode = .many) throws -> (Trainer<ForecastTask>, ForecastEvaluation) {
        let series = try co2Slice()
        let data = try ForecastDataset(series: series.values, window: 12)
        let config = ForecasterConfig(cell: cell, hiddenSize: 16, layers: 1, window: 12, scaler: data.scaler)
        let trainer = try forecastTrainer(config, data: data, seed: 2, epochs: epochs, batch: 16, out: out, settings: .init(mode: mode),
                                          labels: series.labels) { $0.learningRate = 1e-2 }
        return (trainer, try XCTUnwrap(try trainer.run().report))
    }

    /// End to end on a slice of the real data: the run folder, a falling loss, and a forecast better
    /// than the seasonal-naive baseline on the (chronologically last) test months.
    func testShortTrainingWritesTheRunFolderAndBeatsSeasonalNaive() throws {
        let (trainer, result) = try train(cell: .lstm, epochs: 15, out: folder)
        XCTAssertEqual(trainer.history.count, 15)
        XCTAssertLessThan(trainer.history.last!.trainLoss, trainer.history.first!.trainLoss * 0.7)
        for name in ["config.json", "options.json", "metrics.csv", "best.safetensors", "last.safetensors", "test.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent(name).path), name)
        }
        let metrics = try String(contentsOf: folder.appendingPathComponent("metrics.csv"), encoding: .utf8)
        XCTAssertEqual(metrics.split(separator: "\n").count, 16)
        XCTAssertEqual(result.count, 24)
        XCTAssertEqual(result.to, "2025-03")
        let seasonalNaive = try XCTUnwrap(result.seasonalNaive)
        XCTAssertLessThan(result.model.rmse, seasonalNaive.rmse, "\(result)")
        XCTAssertLessThan(result.model.rmse, result.persistence.rmse, "\(result)")
        XCTAssertGreaterThan(seasonalNaive.rmse, 1.5, "CO2 rises about 2.5 ppm a year")
        XCTAssertNotNil(result.seasonalNaiveDrift)
        XCTAssertEqual(result.steps.count, 1)

        let checkpoint = try Checkpoint.load(from: folder.appendingPathComponent("best.safetensors"))
        XCTAssertEqual(checkpoint.extra["task"], "forecast")
        let config = try checkpoint.decodeConfig(ForecasterConfig.self)
        XCTAssertEqual(config.mean, trainer.task.data.scaler.mean, accuracy: 1e-12)
        XCTAssertEqual(config.std, trainer.task.data.scaler.std, accuracy: 1e-12)
        let loaded = try Forecaster.load(from: folder.appendingPathComponent("best.safetensors"))
        for (p, q) in zip(loaded.parameters(), trainer.task.forecaster.parameters()) { XCTAssertEqual(p.scalars, q.scalars) }
        XCTAssertEqual(loaded.predict(trainer.task.data, times: Array(trainer.task.data.test)), trainer.task.forecaster.predict(trainer.task.data, times: Array(trainer.task.data.test)))
        let ahead = loaded.forecast(history: trainer.task.data.series, horizon: 12)
        XCTAssertEqual(ahead.count, 12)
        XCTAssertEqual(ahead[0], loaded.forecast(history: trainer.task.data.series, horizon: 1)[0])
        XCTAssertTrue(ahead.allSatisfy { $0 > 415 && $0 < 445 }, "\(ahead)")
    }

    func testEveryCellAndManyToOneTrain() throws {
        for cell in [CellKind.gru, .rnn, .jordan] {
            let (trainer, result) = try train(cell: cell, epochs: 3, out: folder.appendingPathComponent(cell.rawValue))
            XCTAssertTrue(result.model.rmse.isFinite, cell.rawValue)
            XCTAssertLessThan(trainer.history.last!.trainLoss, trainer.history.first!.trainLoss, cell.rawValue)
        }
        let (trainer, _) = try train(cell: .lstm, epochs: 3, out: folder.appendingPathComponent("one"), mode: .one)
        XCTAssertLessThan(trainer.history.last!.trainLoss, trainer.history.first!.trainLoss)
        let names = Set(trainer.task.forecaster.namedParameters().map(\.name))
        XCTAssertEqual(names, ["rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0", "rnn.bias_hh_l0", "head.weight", "head.bias"])
    }

    func testSameSeedSameCheckpoint() throws {
        let a = folder.appendingPathComponent("a"), b = folder.appendingPathComponent("b")
        _ = try train(cell: .gru, epochs: 2, out: a)
        _ = try train(cell: .gru, epochs: 2, out: b)
        XCTAssertEqual(try Data(contentsOf: a.appendingPathComponent("last.safetensors")), try Data(contentsOf: b.appendingPathComponent("last.safetensors")))
    }

    func testBadCheckpointsAreRefused() throws {
        _ = try train(cell: .rnn, epochs: 1, out: folder)
        let url = folder.appendingPathComponent("last.safetensors")
        var checkpoint = try Checkpoint.load(from: url)
        checkpoint.extra["task"] = "charlm"
        try checkpoint.save(to: folder.appendingPathComponent("task.safetensors"))
        XCTAssertThrowsError(try Forecaster.load(from: folder.appendingPathComponent("task.safetensors"))) {
            XCTAssertEqual($0 as? ModelError, .wrongTask(expected: "forecast", found: "charlm"))
        }
        checkpoint = try Checkpoint.load(from: url)
        var config = try checkpoint.decodeConfig(ForecasterConfig.self)
        config.std = 0
        try checkpoint.setConfig(config)
        try checkpoint.save(to: folder.appendingPathComponent("std.safetensors"))
        XCTAssertThrowsError(try Forecaster.load(from: folder.appendingPathComponent("std.safetensors"))) {
            XCTAssertEqual($0 as? ModelError, .badConfig("the normalisation must be finite with std > 0, got mean \(config.mean), std 0.0"))
        }
        checkpoint = try Checkpoint.load(from: url)
        checkpoint.tensors["head.bias"]!.data[0] = .nan
        try checkpoint.save(to: folder.appendingPathComponent("nan.safetensors"))
        XCTAssertThrowsError(try Forecaster.load(from: folder.appendingPathComponent("nan.safetensors"))) {
            XCTAssertEqual($0 as? ModelError, .nonFiniteParameters("head.bias"))
        }
    }
}

/// `recurrent train forecast` and `recurrent predict forecast` end to end, and their refusals of bad input.
final class ForecastCommandLineTests: CommandLineTestCase {
    override class var refusalMaximumLines: Int? { 1 }

    func testTrainPredictAndBadInputs() throws {
        // A synthetic monthly series in CSV: trend plus a yearly cycle, 10 years.
        var csv = "date,value\n"
        for i in 0..<120 { csv += String(format: "%04d-%02d,%.3f\n", 2000 + i / 12, i % 12 + 1, 300 + 0.2 * Double(i) + 3 * sin(Double(i) * .pi / 6)) }
        let data = folder.appendingPathComponent("series.csv")
        try csv.write(to: data, atomically: true, encoding: .utf8)
        let out = folder.appendingPathComponent("run").path
        let trained = try run(["train", "forecast", "--data", data.path, "--column", "value", "--window", "12", "--hidden", "8",
                               "--epochs", "3", "--batch", "16", "--cell", "gru", "--out", out])
        XCTAssertEqual(trained.status, 0, trained.error)
        for name in ["persistence", "seasonal naive ", "seasonal naive + drift", "MASE", "sMAPE", "season monthly: 12"] {
            XCTAssertTrue(trained.output.contains(name), "\(name): \(trained.output)")
        }
        let checkpoint = out + "/best.safetensors"
        let predicted = try run(["predict", "forecast", "--checkpoint", checkpoint, "--data", data.path, "--horizon", "5"])
        XCTAssertEqual(predicted.status, 0, predicted.error)
        let lines = predicted.output.split(separator: "\n")
        XCTAssertEqual(lines.count, 6)
        XCTAssertEqual(lines.first, "step,date,forecast")
        XCTAssertTrue(lines[1].hasPrefix("1,2010-01,"), "YYYY-MM labels continue: \(lines[1])")

        try assertFails(["train", "forecast", "--data", folder.appendingPathComponent("missing.txt").path], mentioning: "not found")
        let bad = folder.appendingPathComponent("bad.csv")
        try (csv + "2010-01,oops\n").write(to: bad, atomically: true, encoding: .utf8)
        try assertFails(["train", "forecast", "--data", bad.path, "--epochs", "1"], mentioning: "bad.csv, line 122", "'oops'")
        try assertFails(["train", "forecast", "--data", data.path, "--window", "200"], mentioning: "needs at least", "window of 200")
        try assertFails(["train", "forecast", "--data", data.path, "--cell", "transformer"], mentioning: "--cell", oneLine: false)
        try assertFails(["train", "forecast", "--data", data.path, "--column", "co2"], mentioning: "no column named 'co2'")
        try assertFails(["train", "forecast", "--data", data.path, "--target", "level"], mentioning: "no column named 'level'", "--predict level")
        try assertFails(["predict", "forecast", "--checkpoint", checkpoint, "--data", data.path, "--horizon", "0"], mentioning: "--horizon", oneLine: false)
        try assertFails(["predict", "forecast", "--checkpoint", folder.appendingPathComponent("none.safetensors").path, "--data", data.path],
                        mentioning: "error")
        let short = folder.appendingPathComponent("short.csv")
        try "date,value\n2000-01,1\n2000-02,2\n".write(to: short, atomically: true, encoding: .utf8)
        try assertFails(["predict", "forecast", "--checkpoint", checkpoint, "--data", short.path], mentioning: "needs at least 13")
        // Semicolons, quotes, a covariate and a horizon of 2 with the encoder–decoder; predict uses the trained horizon.
        var quoted = "\"date\";\"temp\";\"wind\"\n"
        for i in 0..<120 { quoted += String(format: "\"%04d-%02d\";\"%.3f\";%.3f\n", 2000 + i / 12, i % 12 + 1, 10 + 5 * sin(Double(i) * .pi / 6), cos(Double(i))) }
        let semicolons = folder.appendingPathComponent("weather.csv")
        try quoted.write(to: semicolons, atomically: true, encoding: .utf8)
        let seq = folder.appendingPathComponent("seq").path
        let two = try run(["train", "forecast", "--data", semicolons.path, "--target", "temp", "--columns", "wind", "--window", "12", "--hidden", "4",
                           "--epochs", "1", "--horizon", "2", "--strategy", "encoder-decoder", "--predict", "level", "--out", seq])
        XCTAssertEqual(two.status, 0, two.error)
        XCTAssertTrue(two.output.contains("RMSE by step"), two.output)
        let ahead = try run(["predict", "forecast", "--checkpoint", seq + "/best.safetensors", "--data", semicolons.path])
        XCTAssertEqual(ahead.status, 0, ahead.error)
        XCTAssertEqual(ahead.output.split(separator: "\n").count, 3, ahead.output)
        XCTAssertTrue(ahead.output.contains("\n2,2010-02,"), ahead.output)
        let evaluated = try run(["eval", "forecast", "--checkpoint", seq + "/best.safetensors", "--data", semicolons.path])
        XCTAssertEqual(evaluated.status, 0, evaluated.error)
        XCTAssertTrue(evaluated.output.contains("seasonal naive + drift"), evaluated.output)
        try assertFails(["predict", "forecast", "--checkpoint", seq + "/best.safetensors", "--data", semicolons.path, "--horizon", "5"], mentioning: "covariates")
        // Bad files: one line naming the file and the line.
        let gap = folder.appendingPathComponent("gap.csv")
        try csv.replacingOccurrences(of: "2005-06,", with: "2005-05,").write(to: gap, atomically: true, encoding: .utf8)
        try assertFails(["train", "forecast", "--data", gap.path], mentioning: "gap.csv, line 67", "repeats line 66")
        let skipped = folder.appendingPathComponent("skipped.csv")
        try csv.split(separator: "\n").enumerated().filter { $0.offset != 66 }.map { String($0.element) }.joined(separator: "\n")
            .write(to: skipped, atomically: true, encoding: .utf8)
        try assertFails(["train", "forecast", "--data", skipped.path], mentioning: "skipped.csv, line 67", "--fill")
        try assertFails(["train", "forecast", "--data", semicolons.path, "--separator", "comma"], mentioning: "weather.csv, line 1", "splits nothing")
        let unclosed = folder.appendingPathComponent("unclosed.csv")
        try (csv + "2010-01,\"1\n").write(to: unclosed, atomically: true, encoding: .utf8)
        try assertFails(["train", "forecast", "--data", unclosed.path], mentioning: "unclosed.csv, line 122", "never closed")

        var other = try Checkpoint.load(from: URL(fileURLWithPath: checkpoint))
        other.extra["task"] = "charlm"
        let otherURL = folder.appendingPathComponent("charlm.safetensors")
        try other.save(to: otherURL)
        try assertFails(["predict", "forecast", "--checkpoint", otherURL.path, "--data", data.path], mentioning: "task 'charlm', expected 'forecast'")
    }
}

/// Issue 22: covariates, horizons (direct and encoder–decoder), and checkpoints of runs before them.
final class ForecastHorizonTests: XCTestCase {
    func testCovariatesAndBothHorizonStrategiesTrain() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("recurrent-horizon-\(UInt64.random(in: 0...UInt64.max))")
        defer { try? FileManager.default.removeItem(at: folder) }
        // A cycle of 8 the covariate announces one step early.
        let n = 240
        let x = (0..<n).map { sin(Double($0) * .pi / 4) * 5 + 10 }, c = (0..<n).map { sin(Double($0 + 1) * .pi / 4) }
        for strategy in ForecastStrategy.allCases {
            let data = try ForecastDataset(series: x, covariates: [c], window: 8, target: .level, season: 8, horizon: 3)
            let config = ForecasterConfig(cell: .gru, hiddenSize: 8, window: 8, target: .level, scaler: data.scaler, covariates: ["c"],
                                          covariateScalers: data.covariateScalers, horizon: 3, strategy: strategy, season: 8)
            let trainer = try forecastTrainer(config, data: data, seed: 3, epochs: 4, batch: 16, out: folder.appendingPathComponent(strategy.rawValue)) {
                $0.learningRate = 1e-2
            }
            let result = try XCTUnwrap(try trainer.run().report)
            XCTAssertLessThan(trainer.history.last!.trainLoss, trainer.history.first!.trainLoss * 0.8, strategy.rawValue)
            XCTAssertEqual(result.steps.count, 3)
            XCTAssertEqual(result.count, data.test.count)
            XCTAssertLessThan(result.model.rmse, result.persistence.rmse, "\(strategy): \(result)")
            let names = Set(trainer.task.forecaster.namedParameters().map(\.name))
            XCTAssertEqual(names.contains("decoder.weight_hh_l0"), strategy == .encoderDecoder)
            let loaded = try Forecaster.load(from: folder.appendingPathComponent(strategy.rawValue).appendingPathComponent("last.safetensors"))
            XCTAssertEqual(loaded.config, config)
            let ahead = loaded.forecast(history: x, covariates: [c], horizon: 3)
            XCTAssertEqual(ahead, trainer.task.forecaster.forecast(history: x, covariates: [c], horizon: 3))
            XCTAssertEqual(ahead.count, 3)
        }
    }

    /// A checkpoint written before issue 22 (the Jordan forecaster of the fuzz corpus) loads and forecasts.
    func testACheckpointFromBeforeHorizonsLoads() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fuzz/corpus/checkpoint/forecast_jordan.safetensors")
        let model = try Forecaster.load(from: url)
        XCTAssertEqual(model.config.steps, 1)
        XCTAssertNil(model.config.covariates)
        XCTAssertNil(model.config.season)
        let ahead = model.forecast(history: (0..<10).map { 400 + Double($0) / 4 }, horizon: 3)
        XCTAssertEqual(ahead.count, 3)
        XCTAssertTrue(ahead.allSatisfy { $0.isFinite && abs($0 - 402.5) < 20 }, "\(ahead)")
    }

    /// Configs written before issue 22 (one column, one step, no season) still load.
    func testOlderForecastConfigsDecode() throws {
        let json = #"{"cell":"lstm","hiddenSize":4,"layers":1,"window":12,"target":"difference","mean":0.1,"std":0.5,"column":"average"}"#
        let config = try JSONDecoder().decode(ForecasterConfig.self, from: Data(json.utf8))
        try config.validate()
        XCTAssertEqual(config.steps, 1)
        XCTAssertEqual(config.inputCount, 1)
        XCTAssertEqual(config.forecastStrategy, .direct)
        XCTAssertNil(config.season)
        let model = Forecaster(config, seed: 1)
        XCTAssertEqual(model.head.weight.shape, [1, 4], "the old head: one output")
        var bad = config
        bad.covariates = ["a"]
        XCTAssertThrowsError(try bad.validate())
    }
}
