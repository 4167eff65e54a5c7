import Foundation
import XCTest

/// `recurrent train adding|copy` and `recurrent diagnose` end to end, and their bad inputs.
final class DiagnosticsCommandLineTests: CommandLineTestCase {
    func testTrainAddingThenDiagnose() throws {
        let runFolder = folder.appendingPathComponent("adding").path
        let trained = try run(["train", "adding", "--cell", "rnn", "--lag", "12", "--hidden", "6", "--steps", "4", "--batch", "4",
                               "--eval-every", "2", "--validation-size", "8", "--clip-norm", "0.001", "--out", runFolder])
        XCTAssertEqual(trained.status, 0, trained.error)
        XCTAssertTrue(trained.output.contains("clipping fired in 4 of 4 updates"), trained.output)
        let checkpoint = runFolder + "/best.safetensors"
        let diagnosed = try run(["diagnose", "--checkpoint", checkpoint, "--batch", "4", "--lag", "20"])
        XCTAssertEqual(diagnosed.status, 0, diagnosed.error)
        XCTAssertTrue(diagnosed.output.contains("20 steps"), diagnosed.output)
        XCTAssertTrue(diagnosed.output.contains("clipping fired in 4 of 4 updates"), diagnosed.output)
        let csv = try String(contentsOfFile: runFolder + "/diagnose/gradient_norms.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(csv.first, "t,distance,rnn.l0")
        XCTAssertEqual(csv.count, 21)
        for name in ["gradient_norms.svg", "singular_values.csv", "parameter_gradients.csv"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: runFolder + "/diagnose/" + name), name)
        }

        let copyFolder = folder.appendingPathComponent("copy").path
        let copied = try run(["train", "copy", "--cell", "jordan", "--delay", "3", "--symbols", "3", "--length", "2", "--hidden", "5",
                              "--steps", "2", "--batch", "4", "--validation-size", "4", "--clip-norm", "0", "--out", copyFolder])
        XCTAssertEqual(copied.status, 0, copied.error)
        XCTAssertTrue(copied.output.contains("recall accuracy"), copied.output)
        let copyDiagnosis = try run(["diagnose", "--checkpoint", copyFolder + "/last.safetensors", "--out", folder.appendingPathComponent("d").path])
        XCTAssertEqual(copyDiagnosis.status, 0, copyDiagnosis.error)
        XCTAssertTrue(copyDiagnosis.output.contains("clipping fired in 0 of 2"), copyDiagnosis.output)

        try assertFails(["diagnose", "--checkpoint", checkpoint, "--data", "x.csv"], mentioning: "--data")
        try assertFails(["diagnose", "--checkpoint", folder.appendingPathComponent("d/gradient_norms.csv").path], mentioning: "error")
        try assertFails(["diagnose", "--checkpoint", folder.appendingPathComponent("none.safetensors").path], mentioning: "error")
        try assertFails(["diagnose", "--checkpoint", checkpoint, "--lag", "1"], mentioning: "length")
        try assertFails(["diagnose", "--checkpoint", checkpoint, "--batch", "0"], mentioning: "--batch")
        try assertFails(["train", "adding", "--lag", "1"], mentioning: "--lag")
        try assertFails(["train", "adding", "--cell", "transformer"], mentioning: "--cell")
        try assertFails(["train", "adding", "--optimizer", "lbfgs"], mentioning: "'adam', 'adamw', 'sgd', 'rmsprop' or 'adagrad'")
        try assertFails(["train", "adding", "--clip-norm", "-1"], mentioning: "--clip-norm")
        try assertFails(["train", "copy", "--symbols", "0"], mentioning: "--symbols")
        try assertFails(["experiment", "memory", "--lags", "10,x"], mentioning: "--lags")
    }

    /// The other checkpoints diagnose reads: a character language model (with its text) and a forecaster (with its series).
    func testDiagnoseCharLMAndForecast() throws {
        let text = folder.appendingPathComponent("text.txt")
        try String(repeating: "To be, or not to be, that is the question.\n", count: 20).write(to: text, atomically: true, encoding: .utf8)
        let lm = folder.appendingPathComponent("lm").path
        let trained = try run(["train", "charlm", "--data", text.path, "--hidden", "8", "--layers", "2", "--embedding", "4",
                               "--steps", "2", "--eval-every", "2", "--batch", "2", "--seq-len", "8", "--out", lm])
        XCTAssertEqual(trained.status, 0, trained.error)
        let diagnosed = try run(["diagnose", "--checkpoint", lm + "/best.safetensors", "--data", text.path, "--lag", "30", "--batch", "3"])
        XCTAssertEqual(diagnosed.status, 0, diagnosed.error)
        XCTAssertTrue(diagnosed.output.contains("charlm lstm 2×8, 30 steps, batch 3"), diagnosed.output)
        XCTAssertTrue(diagnosed.output.contains("clipping fired in 0 of 2 updates"), diagnosed.output)   // clip-norm 5 is far above a tiny model's gradient norm
        let header = try String(contentsOfFile: lm + "/diagnose/gradient_norms.csv", encoding: .utf8).split(separator: "\n").first
        XCTAssertEqual(header, "t,distance,rnn.l0,rnn.l1")
        try assertFails(["diagnose", "--checkpoint", lm + "/best.safetensors"], mentioning: "--data")
        let other = folder.appendingPathComponent("other.txt")
        try "Zebra§".write(to: other, atomically: true, encoding: .utf8)
        try assertFails(["diagnose", "--checkpoint", lm + "/best.safetensors", "--data", other.path, "--lag", "2"], mentioning: "error")

        let co2 = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Examples/data/co2/co2_mm_mlo.txt").path
        let forecast = folder.appendingPathComponent("co2").path
        let fit = try run(["train", "forecast", "--data", co2, "--cell", "gru", "--window", "12", "--hidden", "4", "--epochs", "1", "--out", forecast])
        XCTAssertEqual(fit.status, 0, fit.error)
        let flow = try run(["diagnose", "--checkpoint", forecast + "/best.safetensors", "--data", co2, "--batch", "5"])
        XCTAssertEqual(flow.status, 0, flow.error)
        XCTAssertTrue(flow.output.contains("forecast gru 1×4, window 12, batch 5"), flow.output)
        XCTAssertTrue(flow.output.contains("σ(rnn.weight_hh_l0)"), flow.output)
        try assertFails(["diagnose", "--checkpoint", forecast + "/best.safetensors"], mentioning: "--data")
    }

    /// A sentence classifier: the batch is the start of its held-out test split, the loss the classification loss.
    func testDiagnoseClassifier() throws {
        let data = try ClassifyFixtures.smallReviews(in: folder)
        let runFolder = folder.appendingPathComponent("classify").path
        let trained = try run(["train", "classify", "--data", data.path, "--hidden", "8", "--embedding", "8", "--epochs", "1",
                               "--batch", "8", "--pooling", "final", "--out", runFolder])
        XCTAssertEqual(trained.status, 0, trained.error)
        let diagnosed = try run(["diagnose", "--checkpoint", runFolder + "/best.safetensors", "--data", data.path, "--batch", "4"])
        XCTAssertEqual(diagnosed.status, 0, diagnosed.error)
        XCTAssertTrue(diagnosed.output.contains("classify lstm 1×8, pooling final,"), diagnosed.output)
        XCTAssertTrue(diagnosed.output.contains("batch 4"), diagnosed.output)
        let csv = try String(contentsOfFile: runFolder + "/diagnose/gradient_norms.csv", encoding: .utf8).split(separator: "\n")
        // Bidirectional (the default): a column per direction, one row per step of the batch's longest sentence.
        XCTAssertEqual(csv.first, "t,distance,rnn.l0,rnn.l0_reverse")
        let steps = diagnosed.output.split(separator: ",").first { $0.hasSuffix(" steps") }.flatMap { Int($0.split(separator: " ").first ?? "") }
        XCTAssertEqual(csv.count - 1, steps, diagnosed.output)
        try assertFails(["diagnose", "--checkpoint", runFolder + "/best.safetensors"], mentioning: "--data")
        try assertFails(["diagnose", "--checkpoint", runFolder + "/best.safetensors", "--data", data.path, "--lag", "3"], mentioning: "--lag")
    }

    /// A tagger: the loss is each test sentence's last tag only, so ‖∂L/∂h_t‖ shows how far back that tag's gradient reaches.
    func testDiagnoseTagger() throws {
        let data = try TagFixtures.snipsSlice(in: folder, train: 48, other: 12)
        let out = folder.appendingPathComponent("tagger").path
        let trained = try run(["train", "tag", "--data", data.path, "--cell", "gru", "--hidden", "8", "--embedding", "8", "--epochs", "1",
                               "--batch", "16", "--char-features", "cnn", "--out", out])
        XCTAssertEqual(trained.status, 0, trained.error)
        let diagnosed = try run(["diagnose", "--checkpoint", out + "/best.safetensors", "--data", data.path, "--batch", "5"])
        XCTAssertEqual(diagnosed.status, 0, diagnosed.error)
        XCTAssertTrue(diagnosed.output.contains("tag gru 1×8,"), diagnosed.output)
        XCTAssertTrue(diagnosed.output.contains("batch 5"), diagnosed.output)
        let csv = try String(contentsOfFile: out + "/diagnose/gradient_norms.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(csv.first, "t,distance,rnn.l0,rnn.l0_reverse")
        // The forward direction's last state gets the gradient of the last tags: not zero.
        let last = csv.last.map { $0.split(separator: ",").compactMap { Double($0) } } ?? []
        XCTAssertEqual(last.count, 4)
        XCTAssertGreaterThan(last.count == 4 ? last[2] : 0, 0)
        try assertFails(["diagnose", "--checkpoint", out + "/best.safetensors"], mentioning: "--data")

        // With a character BiLSTM (over characters, shorter than the sentences) its columns end with the words' rows.
        let withCharacters = folder.appendingPathComponent("characters").path
        XCTAssertEqual(try run(["train", "tag", "--data", data.path, "--hidden", "8", "--embedding", "8", "--epochs", "1", "--batch", "16",
                                "--char-features", "lstm", "--char-hidden", "4", "--out", withCharacters]).status, 0)
        let diagnosedCharacters = try run(["diagnose", "--checkpoint", withCharacters + "/best.safetensors", "--data", data.path, "--batch", "5"])
        XCTAssertEqual(diagnosedCharacters.status, 0, diagnosedCharacters.error)
        let rows = try String(contentsOfFile: withCharacters + "/diagnose/gradient_norms.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(rows.first, "t,distance,rnn.l0,rnn.l0_reverse,characters.lstm.l0,characters.lstm.l0_reverse")
        XCTAssertEqual(rows.last?.split(separator: ",", omittingEmptySubsequences: false).filter { !$0.isEmpty }.count, 6)
        XCTAssertEqual(rows.dropFirst().first?.split(separator: ",", omittingEmptySubsequences: false).suffix(2), ["", ""],
                       "the first word step is before the characters' first step")
    }
}
