import XCTest
@testable import RecurrentNN
import RecurrentTensor

/// Finite-difference checks (Double) of the fused BPTT for every cell kind and layer configuration.
final class RecurrentGradientTests: XCTestCase {
    struct Config {
        var kind: RecurrentCellKind
        var layers = 1, bidirectional = false, bias = true, batchFirst = false, projSize = 0
        var initialState = false, lengths: [Int]? = nil, merge = BidirectionalMerge.concat
    }

    func makeLayer(_ c: Config, input: Int, hidden: Int, generator: inout RandomGenerator) -> RecurrentLayer<Double> {
        RecurrentLayer(kind: c.kind, inputSize: input, hiddenSize: hidden, numLayers: c.layers, bias: c.bias, batchFirst: c.batchFirst,
                       dropout: 0, bidirectional: c.bidirectional, merge: c.merge, projSize: c.projSize, generator: &generator)
    }

    func check(_ c: Config, file: StaticString = #filePath, line: UInt = #line) {
        let (T, B, I, H) = (4, 3, 3, 4)
        var rng = RandomGenerator(seed: 11)
        let layer = makeLayer(c, input: I, hidden: H, generator: &rng)
        let x = Tensor<Double>.normal(c.batchFirst ? [B, T, I] : [T, B, I], generator: &rng, requiresGrad: true)
        let P = c.projSize > 0 ? c.projSize : H, DL = layer.directions * c.layers
        let h0 = Tensor<Double>.normal([DL, B, P], std: 0.5, generator: &rng, requiresGrad: true)
        let c0 = Tensor<Double>.normal([DL, B, H], std: 0.5, generator: &rng, requiresGrad: true)
        var inputs = [x] + layer.parameters()
        if c.initialState { inputs += c.kind == .lstm ? [h0, c0] : [h0] }
        let result = gradientCheck(inputs) { _ in
            let state: RecurrentState<Double>? = c.initialState ? (c.kind == .lstm ? .lstm(LSTMState(h: h0, c: c0)) : .hidden(h0)) : nil
            let (out, s) = layer(x, state: state, lengths: c.lengths)
            var parts = [out.reshaped([-1]), s.h.reshaped([-1])]
            if let cn = s.lstmState?.c { parts.append(cn.reshaped([-1])) }
            return Tensor.concat(parts, axis: 0)
        }
        XCTAssertLessThan(result.maxError, 1e-7, "\(c.kind) \(result)", file: file, line: line)
    }

    func testEveryCellKind() {
        for kind in RecurrentCellKind.allCases { check(Config(kind: kind)) }
    }

    func testStackedBidirectionalWithInitialStates() {
        for kind in RecurrentCellKind.allCases {
            check(Config(kind: kind, layers: 2, bidirectional: true, initialState: true))
        }
    }

    func testVariableLengthsBothDirections() {
        for kind in RecurrentCellKind.allCases {
            check(Config(kind: kind, layers: 2, bidirectional: true, initialState: true, lengths: [4, 1, 3]))
        }
    }

    func testProjectionBiasOffBatchFirstAndMergeModes() {
        check(Config(kind: .lstm, layers: 2, projSize: 2, initialState: true, lengths: [2, 4, 3]))
        check(Config(kind: .lstm, bidirectional: true, projSize: 3))
        check(Config(kind: .gru, bias: false, batchFirst: true))
        check(Config(kind: .rnnTanh, bias: false, batchFirst: true, lengths: [1, 2, 4]))
        for merge in BidirectionalMerge.allCases { check(Config(kind: .lstm, layers: 2, bidirectional: true, merge: merge)) }
    }

    func testOutputsPastLengthAreZeroAndFinalStateIsLastValidStep() {
        var rng = RandomGenerator(seed: 5)
        let layer = LSTM<Double>(inputSize: 2, hiddenSize: 3, bidirectional: true, generator: &rng)
        let x = Tensor<Double>.normal([5, 2, 2], generator: &rng)
        let (out, state) = layer(x, lengths: [5, 2])
        for t in 2..<5 { for j in 0..<6 { XCTAssertEqual(out[t, 1, j], 0) } }
        // Forward direction: h_n equals the output at the last valid step; reverse: the output at t = 0.
        let (short, shortState) = layer(x.slice(axis: 0, 0..<2).slice(axis: 1, 1..<2))
        for j in 0..<3 {
            XCTAssertEqual(state.h[0, 1, j], out[1, 1, j], accuracy: 1e-12)
            XCTAssertEqual(state.h[1, 1, j], out[0, 1, 3 + j], accuracy: 1e-12)
            XCTAssertEqual(state.h[1, 1, j], shortState.h[1, 0, j], accuracy: 1e-12, "reverse starts at the sequence's own end")
            XCTAssertEqual(out[0, 1, 3 + j], short[0, 0, 3 + j], accuracy: 1e-12)
        }
    }

    func testParameterNamesAndShapesArePyTorchs() {
        var rng = RandomGenerator(seed: 1)
        let lstm = LSTM<Float>(inputSize: 5, hiddenSize: 8, numLayers: 2, bidirectional: true, projSize: 3, generator: &rng)
        let names = lstm.namedParameters().map { "\($0.name)\($0.tensor.shape)" }
        XCTAssertEqual(Array(names.prefix(10)), [
            "weight_ih_l0[32, 5]", "weight_hh_l0[32, 3]", "bias_ih_l0[32]", "bias_hh_l0[32]", "weight_hr_l0[3, 8]",
            "weight_ih_l0_reverse[32, 5]", "weight_hh_l0_reverse[32, 3]", "bias_ih_l0_reverse[32]", "bias_hh_l0_reverse[32]", "weight_hr_l0_reverse[3, 8]",
        ])
        XCTAssertEqual(names[10], "weight_ih_l1[32, 6]")
        let bound = 1 / Float(8).squareRoot()
        XCTAssertTrue(lstm.parameters().allSatisfy { $0.scalars.allSatisfy { abs($0) <= bound } })
        let gru = GRU<Float>(inputSize: 2, hiddenSize: 4, bias: false, generator: &rng)
        XCTAssertEqual(gru.namedParameters().map(\.name), ["weight_ih_l0", "weight_hh_l0"])
    }
}
