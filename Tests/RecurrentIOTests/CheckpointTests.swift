import Foundation
import XCTest
@testable import RecurrentIO
import RecurrentTensor

final class CheckpointTests: XCTestCase {
    struct Config: Codable, Equatable {
        var cell: String
        var hiddenSize: Int
        var layers: Int
        var dropout: Double
    }

    func makeCheckpoint() throws -> Checkpoint {
        try Checkpoint(
            tensors: [
                "rnn.weight_ih_l0": Tensor((0..<12).map { Float($0) / 8 }, shape: [3, 4]),
                "rnn.bias_ih_l0": Tensor([1, 2, 3], shape: [3]),
            ],
            encodingConfig: Config(cell: "lstm", hiddenSize: 3, layers: 1, dropout: 0.25),
            vocabulary: ["<pad>", "<unk>", "a", "\"", "\\", "é", "\n", ""],
            extra: ["step": "1200", "dataset": "tiny-shakespeare"])
    }

    func testSaveLoadRoundTrip() throws {
        let dir = try makeTemporaryDirectory(for: self)
        let url = dir.appendingPathComponent("model.ckpt.safetensors")
        let checkpoint = try makeCheckpoint()
        try checkpoint.save(to: url)
        let loaded = try Checkpoint.load(from: url)
        XCTAssertEqual(try loaded.decodeConfig(Config.self), Config(cell: "lstm", hiddenSize: 3, layers: 1, dropout: 0.25))
        XCTAssertEqual(loaded.config, #"{"cell":"lstm","dropout":0.25,"hiddenSize":3,"layers":1}"#)
        XCTAssertEqual(loaded.vocabulary, checkpoint.vocabulary)
        XCTAssertEqual(loaded.extra, ["step": "1200", "dataset": "tiny-shakespeare"])
        XCTAssertEqual(Set(loaded.tensors.keys), Set(checkpoint.tensors.keys))
        for (name, tensor) in checkpoint.tensors {
            XCTAssertEqual(loaded.tensors[name]?.shape, tensor.shape)
            XCTAssertEqual(loaded.tensors[name]?.scalars, tensor.scalars)
        }
        XCTAssertEqual(loaded.nonFiniteTensorNames, [])
        XCTAssertEqual(directoryListing(dir), ["model.ckpt.safetensors"])

        // It is a plain safetensors file with the documented metadata.
        let metadata = try Safetensors.readHeader(from: url).metadata
        XCTAssertEqual(metadata["format"], "recurrent-checkpoint")
        XCTAssertEqual(metadata["version"], "1")
        XCTAssertEqual(metadata["vocabulary"], #"["<pad>","<unk>","a","\"","\\","é","\n",""]"#)
    }

    func testMinimalCheckpoint() throws {
        let checkpoint = Checkpoint(tensors: ["w": Tensor<Float>([1])])
        let loaded = try Checkpoint.decode(try checkpoint.encoded())
        XCTAssertNil(loaded.config)
        XCTAssertNil(loaded.vocabulary)
        XCTAssertEqual(loaded.extra, [:])
        XCTAssertThrowsError(try loaded.decodeConfig(Config.self)) { XCTAssertEqual($0 as? CheckpointError, .missingConfig) }
    }

    func testLoadsCheckpointWrittenByPython() throws {
        let checkpoint = try Checkpoint.load(from: fixture("checkpoint.safetensors"))
        XCTAssertEqual(checkpoint.vocabulary, ["<pad>", "a", "b", "é", "\n"])
        struct PythonConfig: Codable, Equatable { var hidden_size: Int; var cell: String; var layers: Int }
        XCTAssertEqual(try checkpoint.decodeConfig(PythonConfig.self), PythonConfig(hidden_size: 2, cell: "rnn", layers: 1))
        XCTAssertEqual(checkpoint.extra, ["step": "42"])
        XCTAssertEqual(checkpoint.tensors["rnn.weight_ih_l0"]?.scalars, [0.5, -0.25, 1, 2])
        XCTAssertEqual(checkpoint.tensors["rnn.weight_ih_l0"]?.shape, [2, 2])
        XCTAssertEqual(checkpoint.tensors["rnn.bias_ih_l0"]?.scalars, [0, 1])
    }

    func testPlainSafetensorsFileIsNotACheckpoint() {
        XCTAssertThrowsError(try Checkpoint.load(from: fixture("python_f64.safetensors"))) { error in
            XCTAssertEqual(error as? CheckpointError, .notACheckpoint(format: nil))
        }
        XCTAssertThrowsError(try Checkpoint.load(from: fixture("python_f32.safetensors"))) { error in
            XCTAssertEqual(error as? CheckpointError, .notACheckpoint(format: "pt"))
            XCTAssertEqual("\(error)", #"checkpoint: expected __metadata__ with "format": "recurrent-checkpoint", found format "pt""#)
        }
    }

    func testWrongVersion() throws {
        let data = Safetensors.encode(["w": Tensor<Float>([1])], metadata: ["format": "recurrent-checkpoint", "version": "2"])
        XCTAssertThrowsError(try Checkpoint.decode(data)) { error in
            XCTAssertEqual(error as? CheckpointError, .unsupportedVersion(found: "2", supported: "1"))
        }
        let missing = Safetensors.encode(["w": Tensor<Float>([1])], metadata: ["format": "recurrent-checkpoint"])
        XCTAssertThrowsError(try Checkpoint.decode(missing)) { error in
            XCTAssertEqual(error as? CheckpointError, .unsupportedVersion(found: nil, supported: "1"))
        }
    }

    func testInvalidConfig() throws {
        let base = ["format": "recurrent-checkpoint", "version": "1"]
        let notJSON = Safetensors.encode(["w": Tensor<Float>([1])], metadata: base.merging(["config": "{hidden: 3}"]) { $1 })
        XCTAssertThrowsError(try Checkpoint.decode(notJSON)) { error in
            XCTAssertEqual(error as? CheckpointError, .invalidConfig(reason: "at byte 1: unexpected 'h', expected a string key"))
        }
        let notObject = Safetensors.encode(["w": Tensor<Float>([1])], metadata: base.merging(["config": "[3]"]) { $1 })
        XCTAssertThrowsError(try Checkpoint.decode(notObject)) { error in
            XCTAssertEqual(error as? CheckpointError, .invalidConfig(reason: "found an array"))
        }
        // Saving validates too.
        XCTAssertThrowsError(try Checkpoint(tensors: [:], config: "not json").encoded()) { error in
            guard case .invalidConfig? = error as? CheckpointError else { return XCTFail("\(error)") }
        }
    }

    func testConfigOfTheWrongShape() throws {
        let checkpoint = Checkpoint(tensors: [:], config: #"{"cell":"gru"}"#)
        XCTAssertThrowsError(try checkpoint.decodeConfig(Config.self)) { error in
            guard case .configCoding(let reason)? = error as? CheckpointError else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.contains("Config"), reason)
        }
    }

    func testInvalidVocabulary() throws {
        let base = ["format": "recurrent-checkpoint", "version": "1"]
        for (text, expected) in [(#"["a", 3]"#, "element 1 is the number 3"), (#"{"a":1}"#, "found an object"), ("[", "at byte 1: unexpected end of input, expected a value")] {
            let data = Safetensors.encode(["w": Tensor<Float>([1])], metadata: base.merging(["vocabulary": text]) { $1 })
            XCTAssertThrowsError(try Checkpoint.decode(data)) { error in
                XCTAssertEqual(error as? CheckpointError, .invalidVocabulary(reason: expected))
            }
        }
    }

    func testReservedExtraKeys() throws {
        let dir = try makeTemporaryDirectory(for: self)
        let checkpoint = Checkpoint(tensors: ["w": Tensor<Float>([1])], extra: ["version": "9"])
        XCTAssertThrowsError(try checkpoint.save(to: dir.appendingPathComponent("c.safetensors"))) { error in
            XCTAssertEqual(error as? CheckpointError, .reservedExtraKey("version"))
        }
        XCTAssertEqual(directoryListing(dir), [], "nothing written")
    }

    func testNonFiniteTensorNames() throws {
        var checkpoint = try makeCheckpoint()
        checkpoint.tensors["diverged"] = Tensor([1, .nan, 3])
        checkpoint.tensors["exploded"] = Tensor([-.infinity])
        checkpoint.tensors["empty"] = Tensor(zeros: [0])
        let loaded = try Checkpoint.decode(try checkpoint.encoded())
        XCTAssertEqual(loaded.nonFiniteTensorNames, ["diverged", "exploded"])
    }

    func testSaveReplacesAtomically() throws {
        let dir = try makeTemporaryDirectory(for: self)
        let url = dir.appendingPathComponent("c.safetensors")
        try Checkpoint(tensors: ["w": Tensor<Float>([1])]).save(to: url)
        try Checkpoint(tensors: ["w": Tensor<Float>([2, 3])]).save(to: url)
        XCTAssertEqual(try Checkpoint.load(from: url).tensors["w"]?.scalars, [2, 3])
        // A failing save (reserved key) leaves the previous checkpoint.
        XCTAssertThrowsError(try Checkpoint(tensors: ["w": Tensor<Float>([4])], extra: ["format": "x"]).save(to: url))
        XCTAssertEqual(try Checkpoint.load(from: url).tensors["w"]?.scalars, [2, 3])
        XCTAssertEqual(directoryListing(dir), ["c.safetensors"])
    }
}
