import Foundation
import RecurrentIO
import XCTest

/// `recurrent import keras`: a checkpoint from a `.keras` file and from a `.weights.h5` with its config; bad
/// files and flags give one line on stderr and a non-zero exit status.
final class KerasImportCommandLineTests: CommandLineTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/keras")

    func testImportsAKerasFileAndAWeightsFileWithItsConfig() throws {
        let out = folder.appendingPathComponent("model.safetensors")
        let run1 = try run(["import", "keras", "--in", Self.fixtures.appendingPathComponent("stacked_embedding.keras").path, "--out", out.path])
        XCTAssertEqual(run1.status, 0, run1.error)
        XCTAssertTrue(run1.output.contains("bidirectional: Bidirectional(GRU reset_before, concat) 4 → 3, last step"), run1.output)
        let checkpoint = try Checkpoint.load(from: out)
        XCTAssertEqual(checkpoint.extra["task"], "keras")
        XCTAssertNotNil(checkpoint.extra["keras_version"])
        XCTAssertEqual(checkpoint.tensors["lstm.weight_ih_l0"]?.shape, [16, 3])
        XCTAssertEqual(checkpoint.tensors["dense.weight"]?.shape, [3, 6])

        let out2 = folder.appendingPathComponent("weights.safetensors")
        let run2 = try run(["import", "keras", "--in", Self.fixtures.appendingPathComponent("stacked_embedding.weights.h5").path,
                            "--keras-config", Self.fixtures.appendingPathComponent("stacked_embedding.config.json").path, "--out", out2.path])
        XCTAssertEqual(run2.status, 0, run2.error)
        let again = try Checkpoint.load(from: out2)
        XCTAssertEqual(again.config, checkpoint.config)
        XCTAssertEqual(again.tensors.mapValues(\.scalars), checkpoint.tensors.mapValues(\.scalars))
    }

    func testBadFilesExitNonZeroWithOneLine() throws {
        let junk = folder.appendingPathComponent("junk.weights.h5")
        try Data("definitely not HDF5".utf8).write(to: junk)
        let badZip = folder.appendingPathComponent("bad.keras")
        try Data("PK\u{3}\u{4}truncated".utf8).write(to: badZip)
        let badConfig = folder.appendingPathComponent("config.json")
        try Data("{not json".utf8).write(to: badConfig)
        let weights = Self.fixtures.appendingPathComponent("lstm.weights.h5").path
        let out = folder.appendingPathComponent("out.safetensors").path
        for (arguments, expected) in [
            (["--in", junk.path, "--out", out], "not an HDF5 file"),
            (["--in", badZip.path, "--out", out], "not a readable .keras (zip) archive"),
            (["--in", weights, "--keras-config", badConfig.path, "--out", out], "not valid JSON"),
            (["--in", folder.appendingPathComponent("missing.keras").path, "--out", out], "--in: cannot read"),
        ] {
            let result = try run(["import", "keras"] + arguments)
            XCTAssertNotEqual(result.status, 0, arguments.joined(separator: " "))
            XCTAssertTrue(result.error.contains(expected), "\(arguments): \(result.error)")
            XCTAssertFalse(result.error.contains("HDF5-DIAG"), "HDF5's error stack leaked: \(result.error)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        }
    }
}
