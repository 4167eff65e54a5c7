import Foundation
import RecurrentIO
@testable import RecurrentKeras
import RecurrentNN
import RecurrentTensor
import XCTest

/// Imported Keras 3 models against Keras' own outputs (Tests/Fixtures/keras, made by
/// Scripts/make_keras_fixtures.py with the torch backend): every case within 1e-5, from the `.keras` file,
/// from the checkpoint it converts to, and (for some) from `.weights.h5` plus the config.
final class KerasFixtureTests: XCTestCase {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/keras")

    /// Every case the script writes; each must be present (a missing fixture is a failure, not a skip).
    static let cases = ["lstm", "lstm_sequences", "gru_reset_after", "gru_reset_after_last", "gru_reset_before", "gru_reset_before_last",
                        "simple_rnn_tanh", "simple_rnn_relu", "lstm_go_backwards", "bidirectional_lstm_concat",
                        "bidirectional_lstm_concat_last", "bidirectional_gru_sum", "bidirectional_gru_reset_before_ave",
                        "bidirectional_rnn_mul", "stacked_lstm_dense", "stacked_embedding", "functional_chain"]
    static let separate = ["lstm", "bidirectional_gru_sum", "stacked_embedding", "functional_chain"]

    static func url(_ name: String, _ suffix: String) -> URL { folder.appendingPathComponent(name + suffix) }

    /// The model's output on the fixture's input, and Keras' output.
    func outputs(_ model: KerasModel, _ name: String) throws -> (ours: Tensor<Float>, keras: Tensor<Float>) {
        let fixture = try Safetensors.read(from: Self.url(name, ".safetensors"), as: Float.self)
        let keras = try XCTUnwrap(fixture.tensors["output"])
        if let ids = fixture.tensors["ids"] {
            return (try model(ids: ids.scalars.map { Int($0) }, batch: ids.shape[0]), keras)
        }
        return (model(try XCTUnwrap(fixture.tensors["input"])), keras)
    }

    func maxError(_ a: Tensor<Float>, _ b: Tensor<Float>) -> Float {
        XCTAssertEqual(a.shape, b.shape)
        return zip(a.scalars, b.scalars).reduce(0) { max($0, abs($1.0 - $1.1)) }
    }

    func testEveryKerasFileMatchesKerasOutputs() throws {
        var report: [String] = []
        for name in Self.cases {
            let imported = try KerasImport.read(contentsOf: Self.url(name, ".keras"))
            XCTAssertTrue(imported.config.complete)
            XCTAssertNotNil(imported.kerasVersion, name)
            let model = try imported.model()
            let (ours, keras) = try outputs(model, name)
            let error = maxError(ours, keras)
            XCTAssertLessThanOrEqual(error, 1e-5, "\(name): max abs error \(error)")
            report.append("\(name) \(error)")

            // Through the checkpoint `recurrent import keras` writes: the same model, bit for bit.
            let checkpoint = try Checkpoint.decode(try imported.checkpoint().encoded())
            let reloaded = try KerasModel.load(checkpoint: checkpoint)
            XCTAssertEqual(reloaded.config, imported.config, name)
            XCTAssertEqual(try outputs(reloaded, name).ours.scalars, ours.scalars, name)
        }
        print("Keras max abs errors: " + report.joined(separator: ", "))
    }

    func testWeightsFileWithItsConfigMatchesKeras() throws {
        for name in Self.separate {
            let imported = try KerasImport.read(contentsOf: Self.url(name, ".weights.h5"), config: Self.url(name, ".config.json"))
            let fromArchive = try KerasImport.read(contentsOf: Self.url(name, ".keras"))
            XCTAssertEqual(imported.config, fromArchive.config, name)
            XCTAssertEqual(imported.tensors.mapValues(\.scalars), fromArchive.tensors.mapValues(\.scalars), name)
            let (ours, keras) = try outputs(try imported.model(), name)
            XCTAssertLessThanOrEqual(maxError(ours, keras), 1e-5, name)
        }
    }

    /// The names and layouts the checkpoint promises (docs/KERAS.md): PyTorch's, under the Keras group names.
    func testParameterNamesAndShapesArePyTorchStyle() throws {
        let imported = try KerasImport.read(contentsOf: Self.url("stacked_embedding", ".keras"))
        XCTAssertEqual(imported.config.layers.map(\.name), ["embedding", "lstm", "bidirectional", "dense"])
        let shapes = imported.tensors.mapValues(\.shape)
        XCTAssertEqual(shapes, [
            "embedding.weight": [7, 3],
            "lstm.weight_ih_l0": [16, 3], "lstm.weight_hh_l0": [16, 4], "lstm.bias_ih_l0": [16], "lstm.bias_hh_l0": [16],
            "bidirectional.weight_ih_l0": [9, 4], "bidirectional.weight_hh_l0": [9, 3],
            "bidirectional.bias_ih_l0": [9], "bidirectional.bias_hh_l0": [9],
            "bidirectional.weight_ih_l0_reverse": [9, 4], "bidirectional.weight_hh_l0_reverse": [9, 3],
            "bidirectional.bias_ih_l0_reverse": [9], "bidirectional.bias_hh_l0_reverse": [9],
            "dense.weight": [3, 6], "dense.bias": [3],
        ])
        // A reset_after=False GRU has one bias: the recurrent one is zero.
        XCTAssertTrue(imported.tensors["bidirectional.bias_hh_l0"]!.scalars.allSatisfy { $0 == 0 })
        XCTAssertFalse(imported.tensors["bidirectional.bias_ih_l0"]!.scalars.allSatisfy { $0 == 0 })
        XCTAssertEqual(imported.config.layers[2].resetAfter, false)
        XCTAssertEqual(imported.config.layers[3].activation, .softmax)
    }

    /// GRU gate blocks: Keras' z, r, h become r, z, n; the kernel is transposed.
    func testGRUGateBlocksAreReordered() throws {
        let imported = try KerasImport.read(contentsOf: Self.url("gru_reset_after", ".keras"))
        let archive = try KerasArchive(Data(contentsOf: Self.url("gru_reset_after", ".keras")))
        let file = try HDF5File(bytes: archive.weights, source: "test")
        let kernel = try file.floats(at: "layers/gru/cell/vars/0")        // (I, 3H) blocks z, r, h
        let bias = try file.floats(at: "layers/gru/cell/vars/2")          // (2, 3H)
        let (I, H) = (3, 4)
        XCTAssertEqual(kernel.shape, [I, 3 * H])
        let w = try XCTUnwrap(imported.tensors["gru.weight_ih_l0"]).scalars, bhh = try XCTUnwrap(imported.tensors["gru.bias_hh_l0"]).scalars
        for j in 0..<H {
            for i in 0..<I {
                XCTAssertEqual(w[(0 * H + j) * I + i], kernel.values[i * 3 * H + 1 * H + j])   // r ← Keras block 1
                XCTAssertEqual(w[(1 * H + j) * I + i], kernel.values[i * 3 * H + 0 * H + j])   // z ← Keras block 0
                XCTAssertEqual(w[(2 * H + j) * I + i], kernel.values[i * 3 * H + 2 * H + j])   // n ← Keras block 2
            }
            XCTAssertEqual(bhh[j], bias.values[3 * H + H + j])
            XCTAssertEqual(bhh[2 * H + j], bias.values[3 * H + 2 * H + j])
        }
    }

    /// Without a config: the layers come in name order with Keras' defaults, each usable alone, and no model is built.
    func testWeightsAloneGiveTheLayersButNoModel() throws {
        let imported = try KerasImport.read(contentsOf: Self.url("stacked_embedding", ".weights.h5"))
        XCTAssertFalse(imported.config.complete)
        XCTAssertEqual(imported.config.layers.map(\.name), ["bidirectional", "dense", "embedding", "lstm"])
        XCTAssertEqual(imported.config.layers.map(\.kind), [.gru, .dense, .embedding, .lstm])
        XCTAssertEqual(imported.config.layers[0].resetAfter, false)
        XCTAssertEqual(imported.config.layers[0].bidirectional, .concat)
        XCTAssertThrowsError(try imported.model()) { XCTAssertEqual($0 as? KerasError, .incompleteModel) }
        XCTAssertThrowsError(try KerasModel.load(checkpoint: try imported.checkpoint())) { XCTAssertEqual($0 as? KerasError, .incompleteModel) }

        // A one-layer model's only layer, run alone, is Keras' model.
        let single = try KerasImport.read(contentsOf: Self.url("lstm", ".weights.h5"))
        let layers = try single.layers()
        XCTAssertEqual(layers.count, 1)
        let lstm = try XCTUnwrap(layers[0].module as? LSTM<Float>)
        let fixture = try Safetensors.read(from: Self.url("lstm", ".safetensors"), as: Float.self)
        let (_, state) = lstm(try XCTUnwrap(fixture.tensors["input"]))
        XCTAssertLessThanOrEqual(maxError(state.h.reshaped([2, 4]), try XCTUnwrap(fixture.tensors["output"])), 1e-5)
    }
}
