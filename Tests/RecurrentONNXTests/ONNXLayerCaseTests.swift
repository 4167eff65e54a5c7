import Foundation
import RecurrentIO
import RecurrentNN
import RecurrentONNX
import RecurrentTensor
import XCTest

/// Every layer configuration of the PyTorch parity fixtures (Tests/Fixtures/rnn, Scripts/make_rnn_fixtures.py), plus the
/// merge modes and the reset-before GRU that PyTorch lacks, exported and written as cases for Scripts/check_onnx.py
/// (ONNX Runtime against Recurrent's own outputs, see ONNXCaseWriter).
final class ONNXLayerCaseTests: XCTestCase {
    struct FixtureConfig: Decodable {
        var cell: String
        var nonlinearity: String?
        var layers: Int?
        var bidirectional: Bool?
        var bias: Bool?
        var batch_first: Bool?
        var proj: Int?
        var initial: Bool?
        var lengths: [Int]?
    }

    static let fixtureFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/rnn")

    /// Exports `layer` with the given inputs and writes the case with the layer's own outputs.
    static func writeCase(_ name: String, _ layer: RecurrentLayer<Float>, input: Tensor<Float>, h0: Tensor<Float>?, c0: Tensor<Float>?,
                          lengths: [Int]?, to writer: ONNXCaseWriter) throws {
        let builder = ONNXGraphBuilder(name: name)
        let dims = input.shape.map { ONNXDimension.fixed($0) }
        let x = builder.input("input", .float, dims)
        let B = layer.batchFirst ? input.shape[0] : input.shape[1]
        let lengthsValue = lengths.map { _ in builder.input("lengths", .int64, [.fixed(B)]) }
        let h0Value = h0.map { builder.input("h0", .float, $0.shape.map { .fixed($0) }) }
        let c0Value = c0.map { builder.input("c0", .float, $0.shape.map { .fixed($0) }) }
        let r = try builder.recurrent(layer, x, lengths: lengthsValue, h0: h0Value, c0: c0Value)
        let state: RecurrentState<Float>? = h0.map { h in c0.map { .lstm(LSTMState(h: h, c: $0)) } ?? .hidden(h) }
        let (output, final) = withoutGrad { layer.run(input, state: state, lengths: lengths) }
        builder.output(r.output, name: "output", .float, output.shape.map { .fixed($0) })
        builder.output(r.h, name: "h_n", .float, final.h.shape.map { .fixed($0) })
        var outputs = ["output": NumpyValue(output), "h_n": NumpyValue(final.h)]
        if let c = r.c, let cn = final.lstmState?.c {
            builder.output(c, name: "c_n", .float, cn.shape.map { .fixed($0) })
            outputs["c_n"] = NumpyValue(cn)
        }
        var inputs = ["input": NumpyValue(input)]
        if let lengths { inputs["lengths"] = NumpyValue(ints: lengths, shape: [B]) }
        if let h0 { inputs["h0"] = NumpyValue(h0) }
        if let c0 { inputs["c0"] = NumpyValue(c0) }
        try writer.write(name, model: builder.model(), inputs: inputs, outputs: outputs)
    }

    func testEveryFixtureConfigurationIsWritten() throws {
        let writer = try ONNXCaseWriter()
        defer { writer.finish() }
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.fixtureFolder.path).filter { $0.hasSuffix(".safetensors") }.sorted()
        XCTAssertGreaterThanOrEqual(files.count, 17)
        for file in files {
            let fixture = try Safetensors.read(from: Self.fixtureFolder.appendingPathComponent(file), as: Float.self)
            let config = try JSONDecoder().decode(FixtureConfig.self, from: Data(fixture.metadata["config"]!.utf8))
            let t = fixture.tensors
            let projSize = config.proj ?? 0
            let hiddenSize = projSize > 0 ? t["weight_hr_l0"]!.shape[1] : t["weight_hh_l0"]!.shape[1]
            let kind: RecurrentCellKind = switch config.cell {
            case "lstm": .lstm
            case "gru": .gru
            default: config.nonlinearity == "relu" ? .rnnRelu : .rnnTanh
            }
            let layer = RecurrentLayer<Float>(kind: kind, inputSize: t["input"]!.shape[2], hiddenSize: hiddenSize, numLayers: config.layers ?? 1,
                                              bias: config.bias ?? true, batchFirst: config.batch_first ?? false,
                                              bidirectional: config.bidirectional ?? false, projSize: projSize)
            try layer.loadParameters(Dictionary(uniqueKeysWithValues: layer.namedParameters().map { ($0.name, t[$0.name]!) }))
            layer.eval()
            let name = "layer_" + file.replacingOccurrences(of: ".safetensors", with: "")
            let lengths = t["lengths"].map { $0.scalars.map { Int($0) } }
            try Self.writeCase(name, layer, input: t["input"]!, h0: t["h0"], c0: kind == .lstm ? t["c0"] : nil, lengths: lengths, to: writer)
        }
        XCTAssertEqual(writer.written.count, files.count)
    }

    /// The configurations PyTorch has no fixture for: merge modes other than concat and the reset-before GRU; and a
    /// projected LSTM with the merge modes, lengths and initial states together.
    func testMergeModesAndResetBeforeGRU() throws {
        let writer = try ONNXCaseWriter()
        defer { writer.finish() }
        let (T, B, I, H) = (5, 3, 4, 6)
        var generator = RandomGenerator(seed: 21)
        let cases: [(String, RecurrentCellKind, Int, Bool, BidirectionalMerge, [Int]?)] = [
            ("gru_reset_before_bidir_lengths", .gruResetBefore, 1, true, .concat, [4, 2, 5]),
            ("gru_reset_before_2layers", .gruResetBefore, 2, false, .concat, nil),
            ("lstm_bidir_2layers_sum_lengths", .lstm, 2, true, .sum, [5, 3, 1]),
            ("rnn_relu_bidir_mean", .rnnRelu, 1, true, .mean, nil),
            ("gru_bidir_multiply_lengths", .gru, 1, true, .multiply, [2, 5, 3]),
            ("rnn_tanh_bidir_lengths_h0", .rnnTanh, 2, true, .concat, [3, 5, 1]),
            ("lstm_proj_bidir_2layers_mean_lengths_h0", .lstm, 2, true, .mean, [2, 5, 4]),
            ("lstm_proj_bidir_sum_batchfirst_lengths", .lstm, 1, true, .sum, [1, 3, 5]),
        ]
        for (name, kind, layers, bidirectional, merge, lengths) in cases {
            let projSize = name.contains("proj") ? 4 : 0, batchFirst = name.contains("batchfirst")
            let layer = RecurrentLayer<Float>(kind: kind, inputSize: I, hiddenSize: H, numLayers: layers, batchFirst: batchFirst,
                                              bidirectional: bidirectional, merge: merge, projSize: projSize, generator: &generator)
            layer.eval()
            let D = bidirectional ? 2 : 1
            let withState = name.hasSuffix("h0")
            let h0: Tensor<Float>? = withState ? .normal([layers * D, B, projSize > 0 ? projSize : H], std: 0.5, generator: &generator) : nil
            let c0: Tensor<Float>? = withState && kind == .lstm ? .normal([layers * D, B, H], std: 0.5, generator: &generator) : nil
            try Self.writeCase("layer_\(name)", layer, input: .normal(batchFirst ? [B, T, I] : [T, B, I], generator: &generator), h0: h0, c0: c0,
                               lengths: lengths, to: writer)
        }
        XCTAssertEqual(writer.written.count, cases.count)
    }
}
