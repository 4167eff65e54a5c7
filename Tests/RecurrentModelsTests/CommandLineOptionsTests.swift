import Foundation
import XCTest

/// What every `recurrent train` task shares on the command line: `--config` files, `--resume`,
/// `--steps`, and the `eval` command of each task.
final class CommandLineOptionsTests: CommandLineTestCase {
    static let data = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Examples/data")
    var co2: String { Self.data.appendingPathComponent("co2/co2_mm_mlo.txt").path }

    func json(_ path: String) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
    }

    func testConfigFilesSetOptionsTheCommandLineWinsAndTheFileIsEchoed() throws {
        let yaml = folder.appendingPathComponent("run.yaml")
        try "# a small forecaster\ncell: gru\nhidden: 6\nepochs: 3\nbatch: 64\noptimizer: sgd\nmomentum: 0.9\nclip-value: 0.5\n".write(to: yaml, atomically: true, encoding: .utf8)
        let out = folder.appendingPathComponent("yaml").path
        let trained = try run(["train", "forecast", "--data", co2, "--config", yaml.path, "--epochs", "2", "--out", out])
        XCTAssertEqual(trained.status, 0, trained.error)
        let config = try json(out + "/config.json"), options = try json(out + "/options.json")
        XCTAssertEqual(config["cell"] as? String, "gru")
        XCTAssertEqual(config["hiddenSize"] as? Int, 6)
        let training = try XCTUnwrap(options["training"] as? [String: Any])
        XCTAssertEqual(training["batch"] as? Int, 64)
        XCTAssertEqual((training["schedule"] as? [String: Any])?["epochs"] as? Int, 2, "the command line wins over the file")
        let update = try XCTUnwrap(training["update"] as? [String: Any])
        XCTAssertEqual(update["optimizer"] as? String, "sgd")
        XCTAssertEqual(update["momentum"] as? Double, 0.9)
        XCTAssertEqual(update["clipValue"] as? Double, 0.5)
        XCTAssertTrue(trained.output.contains("SGD (momentum 0.9, gradients clamped to ±0.5) lr"), trained.output)
        try assertFails(["train", "forecast", "--data", co2, "--optimizer", "lion"], mentioning: "'adam', 'adamw', 'sgd', 'rmsprop' or 'adagrad'")
        try assertFails(["train", "forecast", "--data", co2, "--momentum", "1.5"], mentioning: "momentum")
        XCTAssertEqual(try String(contentsOf: URL(fileURLWithPath: out + "/config-file.yaml"), encoding: .utf8),
                       try String(contentsOf: yaml, encoding: .utf8))
        XCTAssertEqual(try String(contentsOf: URL(fileURLWithPath: out + "/metrics.csv"), encoding: .utf8).split(separator: "\n").count, 3)

        // JSON works too, and booleans become flags.
        let sentiment = Self.data.appendingPathComponent("sentiment/yelp_labelled.txt").path
        let jsonFile = folder.appendingPathComponent("classify.json")
        try #"{"hidden": 4, "embedding": 4, "bidirectional": false, "epochs": 1, "steps": 3, "pooling": "mean"}"#
            .write(to: jsonFile, atomically: true, encoding: .utf8)
        let classify = folder.appendingPathComponent("classify").path
        let classified = try run(["train", "classify", "--data", sentiment, "--config", jsonFile.path, "--out", classify])
        XCTAssertEqual(classified.status, 0, classified.error)
        XCTAssertEqual(try json(classify + "/config.json")["bidirectional"] as? Bool, false)
        XCTAssertEqual(try json(classify + "/config.json")["pooling"] as? String, "mean")
        XCTAssertTrue(FileManager.default.fileExists(atPath: classify + "/config-file.json"))

        // Bad files: a clear message and a non-zero exit.
        let bad = folder.appendingPathComponent("bad.yaml")
        try "hidden: [1, [2]]\n".write(to: bad, atomically: true, encoding: .utf8)
        try assertFails(["train", "forecast", "--data", co2, "--config", bad.path], mentioning: "'hidden' must be")
        try "- just\n- a list\n".write(to: bad, atomically: true, encoding: .utf8)
        try assertFails(["train", "forecast", "--data", co2, "--config", bad.path], mentioning: "mapping")
        try "hidden: [unclosed\n".write(to: bad, atomically: true, encoding: .utf8)
        try assertFails(["train", "forecast", "--data", co2, "--config", bad.path], mentioning: "not valid JSON or YAML")
        try "hiddden: 3\n".write(to: bad, atomically: true, encoding: .utf8)
        try assertFails(["train", "forecast", "--data", co2, "--config", bad.path], mentioning: "hiddden")
        try assertFails(["train", "forecast", "--data", co2, "--config", folder.appendingPathComponent("none.yaml").path], mentioning: "cannot read")
        try assertFails(["train", "forecast", "--data", co2, "--config"], mentioning: "--config")
    }

    func testResumeAndEvalOfForecastAndCharLM() throws {
        let out = folder.appendingPathComponent("co2").path
        let first = try run(["train", "forecast", "--data", co2, "--hidden", "6", "--epochs", "2", "--out", out])
        XCTAssertEqual(first.status, 0, first.error)
        let resumed = try run(["train", "forecast", "--data", co2, "--resume", "--epochs", "3", "--out", out])
        XCTAssertEqual(resumed.status, 0, resumed.error)
        XCTAssertEqual(try String(contentsOf: URL(fileURLWithPath: out + "/metrics.csv"), encoding: .utf8).split(separator: "\n").count, 4,
                       "header, epochs 1–2 from the first part, epoch 3 from the resumed part")
        XCTAssertEqual(try json(out + "/config.json")["hiddenSize"] as? Int, 6, "the saved config is kept")
        try assertFails(["train", "forecast", "--data", co2, "--resume", "--out", folder.appendingPathComponent("fresh").path], mentioning: "cannot resume")

        let evaluated = try run(["eval", "forecast", "--checkpoint", out + "/best.safetensors", "--data", co2])
        XCTAssertEqual(evaluated.status, 0, evaluated.error)
        XCTAssertTrue(evaluated.output.hasPrefix("test, one step ahead ("), evaluated.output)
        for name in ["persistence", "seasonal naive ", "seasonal naive + drift", "season 12 (as trained)"] {
            XCTAssertTrue(evaluated.output.contains(name), "\(name): \(evaluated.output)")
        }
        let validation = try run(["eval", "forecast", "--checkpoint", out + "/best.safetensors", "--data", co2, "--split", "validation"])
        XCTAssertTrue(validation.output.hasPrefix("validation, one step ahead ("), validation.output)
        try assertFails(["eval", "forecast", "--checkpoint", out + "/best.safetensors", "--data", co2, "--split", "later"], mentioning: "--split")

        let text = folder.appendingPathComponent("text.txt")
        try String(repeating: "To be, or not to be, that is the question.\n", count: 30).write(to: text, atomically: true, encoding: .utf8)
        let lm = folder.appendingPathComponent("lm").path
        let trained = try run(["train", "charlm", "--data", text.path, "--hidden", "8", "--layers", "1", "--embedding", "4", "--epochs", "0.5",
                               "--batch", "4", "--seq-len", "16", "--eval-every", "5", "--out", lm])
        XCTAssertEqual(trained.status, 0, trained.error)
        let steps = Int((0.5 * Double(30 * 43 * 9 / 10) / 64).rounded(.up))
        let schedule = (try json(lm + "/options.json")["training"] as? [String: Any])?["schedule"] as? [String: Any]
        XCTAssertEqual(schedule?["steps"] as? Int, steps, "--epochs 0.5 is half a pass over the training characters")
        let scored = try run(["eval", "charlm", "--checkpoint", lm + "/best.safetensors", "--data", text.path, "--seq-len", "16"])
        XCTAssertEqual(scored.status, 0, scored.error)
        XCTAssertTrue(scored.output.hasPrefix("validation: "), scored.output)
        XCTAssertTrue(scored.output.contains("bits/char"), scored.output)
        try assertFails(["eval", "charlm", "--checkpoint", out + "/best.safetensors", "--data", text.path], mentioning: "task 'forecast'")
        let other = folder.appendingPathComponent("other.txt")
        try String(repeating: "Zebras § quietly.\n", count: 20).write(to: other, atomically: true, encoding: .utf8)
        try assertFails(["eval", "charlm", "--checkpoint", lm + "/best.safetensors", "--data", other.path, "--all"], mentioning: "vocabulary")
        try assertFails(["train", "charlm", "--data", text.path, "--steps", "3", "--epochs", "1"], mentioning: "not both")
    }

    func testResumeAndEvalOfTagger() throws {
        let data = try TagFixtures.snipsSlice(in: folder, train: 48, other: 12)
        let out = folder.appendingPathComponent("run").path
        let first = try run(["train", "tag", "--data", data.path, "--cell", "gru", "--hidden", "8", "--embedding", "8", "--epochs", "1", "--batch", "16", "--out", out])
        XCTAssertEqual(first.status, 0, first.error)
        XCTAssertTrue(first.output.contains("bidirectional GRU"), first.output)
        let resumed = try run(["train", "tag", "--data", data.path, "--resume", "--epochs", "2", "--out", out])
        XCTAssertEqual(resumed.status, 0, resumed.error)
        XCTAssertEqual(try String(contentsOf: URL(fileURLWithPath: out + "/metrics.csv"), encoding: .utf8).split(separator: "\n").count, 3)
        XCTAssertEqual(try json(out + "/config.json")["cell"] as? String, "gru")
        try assertFails(["train", "tag", "--data", data.path, "--cell", "transformer"], mentioning: "--cell")
        let scored = try run(["eval", "tag", "--checkpoint", out + "/best.safetensors", "--data", data.path])
        XCTAssertEqual(scored.status, 0, scored.error)
        XCTAssertTrue(scored.output.hasPrefix("snips test (12 sentences, IOB2 tags): "), scored.output)
        XCTAssertTrue(scored.output.contains("intent accuracy"), scored.output)
        try assertFails(["eval", "tag", "--checkpoint", out + "/best.safetensors", "--data", folder.appendingPathComponent("none").path], mentioning: "error")
    }
}
