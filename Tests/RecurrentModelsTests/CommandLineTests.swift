import Foundation
import XCTest

/// The `recurrent` executable end to end: bad input gets a one-line message and a non-zero exit, never a crash.
final class CommandLineTests: CommandLineTestCase {
    func testTrainSampleAndBadInputs() throws {
        let text = folder.appendingPathComponent("text.txt")
        try String(repeating: "To be, or not to be, that is the question.\n", count: 40).write(to: text, atomically: true, encoding: .utf8)
        let run1 = folder.appendingPathComponent("run").path
        let trained = try run(["train", "charlm", "--data", text.path, "--hidden", "16", "--layers", "1", "--embedding", "8",
                               "--steps", "6", "--eval-every", "3", "--batch", "4", "--seq-len", "16", "--out", run1])
        XCTAssertEqual(trained.status, 0, trained.error)
        XCTAssertTrue(trained.output.contains("validation loss"))
        let resumed = try run(["train", "charlm", "--data", text.path, "--out", run1, "--resume", "--steps", "9"])
        XCTAssertEqual(resumed.status, 0, resumed.error)
        XCTAssertTrue(resumed.output.contains("validation loss"))
        XCTAssertEqual(try String(contentsOf: URL(fileURLWithPath: run1 + "/metrics.csv"), encoding: .utf8).split(separator: "\n").count, 4,
                       "header, steps 3 and 6 from the first part, step 9 from the resumed part")
        try assertFails(["train", "charlm", "--data", text.path, "--out", folder.appendingPathComponent("fresh").path, "--resume"], mentioning: "cannot resume")
        let checkpoint = run1 + "/best.safetensors"
        let sampled = try run(["sample", "--checkpoint", checkpoint, "--prime", "To be", "--length", "20", "--seed", "2"])
        XCTAssertEqual(sampled.status, 0, sampled.error)
        XCTAssertTrue(sampled.output.hasPrefix("To be"))

        try assertFails(["train", "charlm", "--data", folder.appendingPathComponent("missing.txt").path], mentioning: "not found")
        let empty = folder.appendingPathComponent("empty.txt")
        try Data().write(to: empty)
        try assertFails(["train", "charlm", "--data", empty.path], mentioning: "empty")
        try assertFails(["train", "charlm", "--data", text.path, "--cell", "transformer"], mentioning: "--cell")
        try assertFails(["train", "charlm", "--data", text.path, "--lr", "-1"], mentioning: "--lr")
        try assertFails(["train", "charlm", "--data", text.path, "--dropout", "0.99999999"], mentioning: "--dropout")   // 1 as a Float
        // Runs that cannot fit in memory are refused before anything is allocated (not aborted mid-allocation).
        try assertFails(["train", "charlm", "--data", text.path, "--batch", "100000000", "--out", folder.appendingPathComponent("big").path],
                        mentioning: "of memory to train")
        try assertFails(["sample", "--checkpoint", folder.appendingPathComponent("none.safetensors").path], mentioning: "error")
        try assertFails(["sample", "--checkpoint", text.path], mentioning: "error")
        try assertFails(["sample", "--checkpoint", checkpoint, "--prime", "Zebra§"], mentioning: "vocabulary")
        try assertFails(["sample", "--checkpoint", checkpoint, "--temperature", "0"], mentioning: "--temperature")
        try assertFails(["sample", "--checkpoint", checkpoint, "--temperature", "1e-50"], mentioning: "--temperature")   // 0 as a Float
        try assertFails(["sample", "--checkpoint", checkpoint, "--temperature", "1e50"], mentioning: "--temperature")    // ∞ as a Float
    }
}
