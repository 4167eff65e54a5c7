import Foundation
import RecurrentIO
@testable import RecurrentKeras
import RecurrentModels
import XCTest
import ZIPFoundation

/// Files that are not what they claim, damaged, or describe what the library cannot run: each is refused with
/// the `KerasError` that says so (never a crash, never HDF5's own error stack).
final class MalformedKerasTests: XCTestCase {
    static func bytes(_ name: String) throws -> Data { try Data(contentsOf: KerasFixtureTests.folder.appendingPathComponent(name)) }
    static func text(_ name: String) throws -> String { String(decoding: try bytes(name), as: UTF8.self) }

    func assertError(_ expected: KerasError, _ body: () throws -> Any, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            XCTAssertEqual(error as? KerasError, expected, "\(error)", file: file, line: line)
        }
    }

    func assertError(where matches: (KerasError) -> Bool, _ body: () throws -> Any, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            guard let error = error as? KerasError else { return XCTFail("not a KerasError: \(error)", file: file, line: line) }
            XCTAssertTrue(matches(error), "unexpected \(error)", file: file, line: line)
        }
    }

    func testNotHDF5() throws {
        assertError(.notHDF5(source: "x.weights.h5")) { try KerasImport.read(weights: Data("not hdf5 at all".utf8), config: nil, source: "x.weights.h5") }
        assertError(.notHDF5(source: "x")) { try KerasImport.read(weights: Data(), config: nil, source: "x") }
    }

    func testTruncatedHDF5IsRefusedAtEveryLength() throws {
        let whole = try Self.bytes("lstm.weights.h5")
        for length in stride(from: 8, to: whole.count, by: 331) {
            XCTAssertThrowsError(try KerasImport.read(weights: whole.prefix(length), config: nil)) { error in
                XCTAssertNotNil(error as? KerasError, "\(length) bytes: \(error)")
            }
        }
        assertError(where: { if case .damagedHDF5 = $0 { true } else { false } }) {
            try KerasImport.read(weights: whole.prefix(whole.count / 2), config: nil)
        }
    }

    func testMissingDatasetsAndGroups() throws {
        // The config of a three-layer model over the weights of a one-layer one.
        let weights = try Self.bytes("lstm.weights.h5")
        let config = try Self.text("stacked_embedding.config.json")
        assertError(.missingDataset(path: "layers/embedding/vars/0")) { try KerasImport.read(weights: weights, config: Data(config.utf8)) }
        let stacked = try KerasArchive(try Self.bytes("stacked_lstm_dense.keras"))
        assertError(.missingDataset(path: "layers/lstm_1/cell/vars/0")) { try KerasImport.read(weights: weights, config: stacked.config) }
    }

    func testDatasetsThatAreNotFloatingPoint() throws {
        // Made by Scripts/make_keras_fixtures.py: lstm.weights.h5 with its kernel stored as int32.
        let weights = try Self.bytes("malformed_int_kernel.weights.h5")
        assertError(.notFloatingPoint(path: "layers/lstm/cell/vars/0")) {
            try KerasImport.read(weights: weights, config: try Self.bytes("lstm.config.json"))
        }
        assertError(.notFloatingPoint(path: "layers/lstm/cell/vars/0")) { try KerasImport.read(weights: weights, config: nil) }
    }

    func testWrongShapes() throws {
        let weights = try Self.bytes("lstm.weights.h5")
        let config = try Self.text("lstm.config.json")
        XCTAssertTrue(config.contains("\"units\": 4"))
        assertError(.wrongShape(path: "layers/lstm/cell/vars/1", expected: [5, 20], found: [4, 16])) {
            try KerasImport.read(weights: weights, config: Data(config.replacingOccurrences(of: "\"units\": 4", with: "\"units\": 5").utf8))
        }
        // The input the config declares must be the width the first layer's kernel takes.
        assertError(where: { if case .incompatibleLayers = $0 { true } else { false } }) {
            try KerasImport.read(weights: weights, config: Data(config.replacingOccurrences(of: "[null, 5, 3]", with: "[null, 5, 2]").utf8))
        }
    }

    func testBadZips() throws {
        let archive = try Self.bytes("lstm.keras")
        assertError(where: { if case .badZip = $0 { true } else { false } }) { try KerasImport.read(keras: Data("PK\u{3}\u{4}garbage".utf8)) }
        assertError(where: { if case .badZip = $0 { true } else { false } }) { try KerasImport.read(keras: Data("hello".utf8)) }
        for length in stride(from: 4, to: archive.count, by: 977) {
            XCTAssertThrowsError(try KerasImport.read(keras: archive.prefix(length))) { error in
                XCTAssertNotNil(error as? KerasError, "\(length) bytes: \(error)")
            }
        }
        // A zip without config.json.
        let weights = try Self.bytes("lstm.weights.h5")
        let zip = try Archive(data: Data(), accessMode: .create)
        try zip.addEntry(with: "model.weights.h5", type: .file, uncompressedSize: Int64(weights.count)) { position, size in
            weights.subdata(in: Int(position)..<(Int(position) + size))
        }
        assertError(.missingEntry(name: "config.json")) { try KerasImport.read(keras: try XCTUnwrap(zip.data)) }
    }

    /// Fuzzing finding 6 (docs/RELIABILITY.md): a .keras whose central directory points an entry past the end of the
    /// bytes trapped inside ZIPFoundation's in-memory archive (`MemoryFile.readData`); archives are now read from a file.
    func testFuzzFinding6AnEntryPastTheEndIsRefused() throws {
        let input = try Self.bytes("fuzz-finding-6.bin")
        XCTAssertLessThan(input[0], 96)           // the fuzz target's selector: a .keras archive follows
        XCTAssertThrowsError(try KerasImport.read(keras: input.dropFirst())) { XCTAssertNotNil($0 as? KerasError, "\($0)") }
    }

    /// Fuzzing finding 9: damaged metadata makes libhdf5 ask for about a terabyte (in `H5C_protect`); outside ASan that
    /// malloc fails, HDF5 reports an error, and the import is refused (this process is not instrumented: the real path).
    func testFuzzFinding9AnAbsurdSizeInsideHDF5IsRefused() throws {
        let input = try Self.bytes("fuzz-finding-9.bin")
        XCTAssertTrue((96..<192).contains(input[0]))   // the fuzz target's selector: a .weights.h5 follows
        XCTAssertThrowsError(try KerasImport.read(weights: input.dropFirst(), config: nil)) { XCTAssertNotNil($0 as? KerasError, "\($0)") }
    }

    /// Fuzzing finding 10: a damaged local heap makes libhdf5 allocate the 4 GiB size it reads (in `H5C_protect`) before
    /// it finds the heap past the end of the file; outside ASan the allocation is only reserved, and the read fails.
    func testFuzzFinding10AHeapSizePastTheEndIsRefused() throws {
        let input = try Self.bytes("fuzz-finding-10.bin")
        XCTAssertTrue((96..<192).contains(input[0]))   // the fuzz target's selector: a .weights.h5 follows
        XCTAssertThrowsError(try KerasImport.read(weights: input.dropFirst(), config: nil)) { XCTAssertNotNil($0 as? KerasError, "\($0)") }
    }

    /// Fuzzing finding 11: a float type of gigabytes per element made libhdf5 calloc a 4 GiB conversion buffer (memory
    /// actually used) inside `H5Dread`; element sizes other than 2, 4 and 8 bytes are now refused before reading.
    func testFuzzFinding11AHugeElementSizeIsRefusedBeforeReading() throws {
        let input = try Self.bytes("fuzz-finding-11.bin")
        XCTAssertLessThan(input[0], 96)           // the fuzz target's selector: a .keras archive follows
        assertError(where: { if case .notFloatingPoint = $0 { true } else { false } }) { try KerasImport.read(keras: input.dropFirst()) }
    }

    func testBadAndUnsupportedConfigs() throws {
        let weights = try Self.bytes("stacked_embedding.weights.h5")
        let config = try Self.text("stacked_embedding.config.json")
        func read(_ text: String) throws -> KerasImported { try KerasImport.read(weights: weights, config: Data(text.utf8)) }
        func edited(_ old: String, _ new: String) throws -> String {
            XCTAssertTrue(config.contains(old), old)
            return config.replacingOccurrences(of: old, with: new)
        }
        assertError(where: { if case .badConfig = $0 { true } else { false } }) { try read("{\"class_name\": ") }
        assertError(where: { if case .badConfig = $0 { true } else { false } }) { try read("[1, 2]") }
        assertError(where: { if case .badConfig = $0 { true } else { false } }) { try read("{\"class_name\": \"Sequential\"}") }
        assertError(.unsupportedModel(className: "MyModel")) { try read(try edited("\"class_name\": \"Sequential\"", "\"class_name\": \"MyModel\"")) }
        assertError(where: { if case .badConfig = $0 { true } else { false } }) {   // a Sequential's layers have no inbound_nodes
            try read(try edited("\"class_name\": \"Sequential\"", "\"class_name\": \"Functional\""))
        }
        assertError(where: { if case .unsupportedLayer(_, "ConvLSTM1D") = $0 { true } else { false } }) {
            try read(try edited("\"class_name\": \"LSTM\"", "\"class_name\": \"ConvLSTM1D\""))
        }
        assertError(where: { if case .unsupportedOption(_, "mask_zero", "True") = $0 { true } else { false } }) {
            try read(try edited("\"mask_zero\": false", "\"mask_zero\": true"))
        }
        assertError(where: { if case .unsupportedOption(_, "recurrent_activation", "hard_sigmoid") = $0 { true } else { false } }) {
            try read(config.replacingOccurrences(of: "\"recurrent_activation\": \"sigmoid\"", with: "\"recurrent_activation\": \"hard_sigmoid\""))
        }
        assertError(where: { if case .unsupportedOption(_, "return_state", "True") = $0 { true } else { false } }) {
            try read(config.replacingOccurrences(of: "\"return_state\": false", with: "\"return_state\": true"))
        }
        assertError(where: { if case .unsupportedOption(_, "activation", "elu") = $0 { true } else { false } }) {
            try read(try edited("\"activation\": \"softmax\"", "\"activation\": \"elu\""))
        }
        assertError(where: { if case .unsupportedOption(_, "merge_mode", "None") = $0 { true } else { false } }) {
            try read(try edited("\"merge_mode\": \"concat\"", "\"merge_mode\": null"))
        }
    }

    /// A Functional model is imported only as a chain: a layer fed from anything but the one before it is refused.
    func testFunctionalModelsOtherThanAChainAreRefused() throws {
        let weights = try Self.bytes("functional_chain.weights.h5")
        let config = try Self.text("functional_chain.config.json")
        XCTAssertNoThrow(try KerasImport.read(weights: weights, config: Data(config.utf8)))
        let notAChain = KerasError.unsupportedModel(className: "Functional (only a single chain of layers, input to output, is imported)")
        for (old, new) in [("\"keras_history\": [\"lstm_8\", 0, 0]", "\"keras_history\": [\"input_layer_16\", 0, 0]"),   // a skip
                           ("\"output_layers\": [\"dense_2\", 0, 0]", "\"output_layers\": [\"gru_7\", 0, 0]"),          // output not last
                           ("\"output_layers\": [\"dense_2\", 0, 0]", "\"output_layers\": [[\"dense_2\", 0, 0], [\"gru_7\", 0, 0]]")] {
            XCTAssertTrue(config.contains(old), old)
            assertError(notAChain) { try KerasImport.read(weights: weights, config: Data(config.replacingOccurrences(of: old, with: new).utf8)) }
        }
    }

    /// A checkpoint's config comes from outside too: sizes and chains are checked before anything is built.
    func testCheckpointConfigsAreValidatedBeforeBuilding() throws {
        let imported = try KerasImport.read(contentsOf: KerasFixtureTests.url("stacked_lstm_dense", ".keras"))
        func load(_ edit: (inout KerasModelConfig) -> Void) throws -> KerasModel {
            var config = imported.config
            edit(&config)
            return try KerasModel.load(checkpoint: Checkpoint(tensors: imported.tensors, encodingConfig: config, extra: ["task": "keras"]))
        }
        XCTAssertNoThrow(try load { _ in })
        assertError(where: { if case .badConfig = $0 { true } else { false } }) { try load { $0.layers[0].units = 0 } }
        assertError(where: { if case .badConfig = $0 { true } else { false } }) { try load { $0.layers[0].units = 1 << 40 } }
        assertError(where: { if case .badConfig = $0 { true } else { false } }) { try load { $0.layers[1].name = "lstm" } }
        assertError(where: { if case .incompatibleLayers = $0 { true } else { false } }) { try load { $0.layers[0].returnSequences = false } }
        assertError(where: { if case .incompatibleLayers = $0 { true } else { false } }) { try load { $0.layers[2].inputSize = 4 } }
        // Weights that do not fit the layers.
        var tensors = imported.tensors
        tensors["dense.bias"] = nil
        XCTAssertThrowsError(try KerasModel.load(checkpoint: Checkpoint(tensors: tensors, encodingConfig: imported.config, extra: ["task": "keras"])))
        XCTAssertThrowsError(try KerasModel.load(checkpoint: Checkpoint(tensors: imported.tensors, encodingConfig: imported.config, extra: ["task": "charlm"]))) {
            XCTAssertEqual($0 as? ModelError, .wrongTask(expected: "keras", found: "charlm"))
        }
    }
}
