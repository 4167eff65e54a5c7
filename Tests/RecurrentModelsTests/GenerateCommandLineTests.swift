import Foundation
import XCTest

/// `recurrent train generate` and `recurrent sample --label`: the task added on the one training loop, end to end.
final class GenerateCommandLineTests: CommandLineTestCase {
    func testTrainGenerateThenSampleEachLabel() throws {
        let data = folder.appendingPathComponent("labelled.txt")
        // Two classes with disjoint words: a generator conditioned on the label must write the right ones.
        let lines = (0..<40).map { $0 % 2 == 0 ? "good great lovely fine\t1" : "bad awful poor sad\t0" }
        try lines.joined(separator: "\n").write(to: data, atomically: true, encoding: .utf8)
        let out = folder.appendingPathComponent("gen").path
        let trained = try run(["train", "generate", "--data", data.path, "--hidden", "16", "--embedding", "8", "--epochs", "12", "--batch", "8",
                               "--lr", "0.02", "--min-count", "1", "--out", out])
        XCTAssertEqual(trained.status, 0, trained.error)
        for file in ["config.json", "options.json", "vocabulary.json", "metrics.csv", "best.safetensors", "last.safetensors", "test.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/" + file), file)
        }
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/test.json"))) as? [String: Any])
        XCTAssertEqual(report["greedy"] as? [String], ["bad awful poor sad", "good great lovely fine"], "\(report)")
        let positive = try run(["sample", "--checkpoint", out + "/best.safetensors", "--label", "1", "--count", "3", "--temperature", "0.5"])
        XCTAssertEqual(positive.status, 0, positive.error)
        let sentences = positive.output.split(separator: "\n")
        XCTAssertEqual(sentences.count, 3)
        XCTAssertTrue(sentences.allSatisfy { !$0.contains("bad") && !$0.contains("awful") }, positive.output)

        try assertFails(["sample", "--checkpoint", out + "/best.safetensors", "--label", "2"], mentioning: "--label must be in 0..<2")
        try assertFails(["train", "generate", "--data", data.path, "--cell", "jordan", "--out", folder.appendingPathComponent("j").path],
                        mentioning: "lstm, gru or rnn")
        let resumed = try run(["train", "generate", "--data", data.path, "--epochs", "13", "--out", out, "--resume"])
        XCTAssertEqual(resumed.status, 0, resumed.error)
        XCTAssertEqual(try String(contentsOfFile: out + "/metrics.csv", encoding: .utf8).split(separator: "\n").count, 14, "13 epochs and the header")
    }
}
