import Foundation
import RecurrentIO
@testable import RecurrentNN
import RecurrentTensor
import XCTest

/// The fused layers against PyTorch 2.15 (Tests/Fixtures/rnn, made by Scripts/make_rnn_fixtures.py):
/// outputs, final states, and gradients with respect to input, initial states and every parameter,
/// in Float within 1e-5 relative. The state_dict loads with one `loadParameters` call.
final class RecurrentPyTorchParityTests: XCTestCase {
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

    func assertClose(_ a: Tensor<Float>, _ b: Tensor<Float>, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.shape, b.shape, what, file: file, line: line)
        var worst: Float = 0
        for (x, y) in zip(a.scalars, b.scalars) { worst = max(worst, abs(x - y) / max(1, abs(y))) }
        XCTAssertLessThan(worst, 1e-5, "\(what): max relative difference \(worst)", file: file, line: line)
    }

    func testEveryFixtureMatchesPyTorch() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.fixtureFolder.path).filter { $0.hasSuffix(".safetensors") }.sorted()
        XCTAssertGreaterThanOrEqual(files.count, 17)
        for name in files {
            let fixture = try Safetensors.read(from: Self.fixtureFolder.appendingPathComponent(name), as: Float.self)
            let config = try JSONDecoder().decode(FixtureConfig.self, from: Data(fixture.metadata["config"]!.utf8))
            let t = fixture.tensors
            let input = t["input"]!
            let inputSize = input.shape[2]
            let projSize = config.proj ?? 0
            let hiddenSize = projSize > 0 ? t["weight_hr_l0"]!.shape[1] : t["weight_hh_l0"]!.shape[1]
            var rng = RandomGenerator(seed: 0)
            let kind: RecurrentCellKind = switch config.cell {
            case "lstm": .lstm
            case "gru": .gru
            default: config.nonlinearity == "relu" ? .rnnRelu : .rnnTanh
            }
            let layer = RecurrentLayer<Float>(kind: kind, inputSize: inputSize, hiddenSize: hiddenSize, numLayers: config.layers ?? 1,
                                              bias: config.bias ?? true, batchFirst: config.batch_first ?? false, dropout: 0,
                                              bidirectional: config.bidirectional ?? false, merge: .concat, projSize: projSize,
                                              generator: &rng)
            let state = Dictionary(uniqueKeysWithValues: layer.namedParameters().map { ($0.name, t[$0.name]!) })
            try layer.loadParameters(state)   // PyTorch's names and shapes, one call

            let x = input.clone(); x.requiresGrad = true
            var initial: RecurrentState<Float>? = nil
            if let h0 = t["h0"] {
                h0.requiresGrad = true; t["c0"]?.requiresGrad = true
                initial = t["c0"].map { .lstm(LSTMState(h: h0, c: $0)) } ?? .hidden(h0)
            }
            let lengths = t["lengths"].map { $0.scalars.map { Int($0) } }
            let (output, final) = layer(x, state: initial, lengths: lengths)
            assertClose(output, t["output"]!, "\(name) output")
            assertClose(final.h, t["h_n"]!, "\(name) h_n")
            if let cn = t["c_n"] { assertClose(final.lstmState!.c, cn, "\(name) c_n") }

            var loss = (output * t["w_out"]!).sum() + (final.h * t["w_h"]!).sum()
            if let wc = t["w_c"] { loss = loss + (final.lstmState!.c * wc).sum() }
            loss.backward()
            assertClose(x.grad!, t["grad.input"]!, "\(name) ∂input")
            if let g = t["grad.h0"] { assertClose(t["h0"]!.grad!, g, "\(name) ∂h0") }
            if let g = t["grad.c0"] { assertClose(t["c0"]!.grad!, g, "\(name) ∂c0") }
            for (param, tensor) in layer.namedParameters() {
                assertClose(tensor.grad!, t["grad." + param]!, "\(name) ∂\(param)")
            }
        }
    }
}
