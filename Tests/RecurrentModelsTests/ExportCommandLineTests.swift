import Foundation
import XCTest

/// `recurrent export`: a trained checkpoint to ONNX; what has no ONNX form is refused with one line and a non-zero exit.
final class ExportCommandLineTests: CommandLineTestCase {
    func train(cell: String) throws -> String {
        let text = folder.appendingPathComponent("text.txt")
        try String(repeating: "To be, or not to be, that is the question.\n", count: 20).write(to: text, atomically: true, encoding: .utf8)
        let out = folder.appendingPathComponent("run-\(cell)").path
        let trained = try run(["train", "charlm", "--data", text.path, "--cell", cell, "--hidden", "8", "--layers", "2", "--embedding", "4",
                               "--steps", "2", "--eval-every", "2", "--batch", "2", "--seq-len", "8", "--out", out])
        XCTAssertEqual(trained.status, 0, trained.error)
        return out + "/best.safetensors"
    }

    func testExportsACharLMAndRefusesWhatONNXCannotHold() throws {
        let checkpoint = try train(cell: "gru")
        let onnx = folder.appendingPathComponent("charlm.onnx")
        let exported = try run(["export", "--checkpoint", checkpoint, "--format", "onnx", "--out", onnx.path])
        XCTAssertEqual(exported.status, 0, exported.error)
        XCTAssertTrue(exported.output.contains("wrote \(onnx.path)"), exported.output)
        XCTAssertGreaterThan(try Data(contentsOf: onnx).count, 1000)

        try assertFails(["export", "--checkpoint", try train(cell: "jordan"), "--out", folder.appendingPathComponent("j.onnx").path],
                        mentioning: "ONNX has no operator for Jordan")
        try assertFails(["export", "--checkpoint", folder.appendingPathComponent("missing.safetensors").path, "--out", onnx.path],
                        mentioning: "error: ")
        try assertFails(["export", "--checkpoint", checkpoint, "--format", "tflite", "--out", onnx.path], mentioning: "--format")
        try assertFails(["export", "--checkpoint", checkpoint, "--out", folder.appendingPathComponent("no/such/dir/m.onnx").path],
                        mentioning: "no/such/dir does not exist")
    }

    /// A translate checkpoint gives two files named after --out: the encoder and one decoder step.
    func testExportsATranslatorAsEncoderAndDecoderStep() throws {
        let out = folder.appendingPathComponent("run").path
        let trained = try run(["train", "translate", "--synthetic", "reverse", "--symbols", "4", "--min-symbols", "3", "--max-symbols", "5",
                               "--synthetic-train", "32", "--synthetic-eval", "8", "--hidden", "6", "--embedding", "4", "--epochs", "1",
                               "--attention", "luong-general", "--out", out])
        XCTAssertEqual(trained.status, 0, trained.error)
        let exported = try run(["export", "--checkpoint", out + "/best.safetensors", "--out", folder.appendingPathComponent("reverse.onnx").path])
        XCTAssertEqual(exported.status, 0, exported.error)
        for name in ["reverse-encoder.onnx", "reverse-decoder-step.onnx"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent(name).path), "\(name): \(exported.output)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("reverse.onnx").path))
    }
}
