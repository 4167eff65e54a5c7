import XCTest
@testable import RecurrentNN
import RecurrentTensor

/// QuantizedRecurrentNetwork against the fused layer it was built from: at fp32 the same function (the
/// products' rounding aside), at bf16 and int8 close to it, the AVX2 and reference kernels identical.
final class QuantizedRecurrentTests: XCTestCase {
    func layer(_ kind: RecurrentCellKind, bidirectional: Bool, seed: UInt64) -> RecurrentLayer<Float> {
        RecurrentLayer<Float>(kind: kind, inputSize: 13, hiddenSize: 20, numLayers: 2, bidirectional: bidirectional, seed: seed)
    }

    func maxDifference(_ a: Tensor<Float>, _ b: Tensor<Float>) -> Float {
        XCTAssertEqual(a.shape, b.shape)
        return zip(a.scalars, b.scalars).map { abs($0 - $1) }.max() ?? 0
    }

    /// Errors of the whole network (2 layers of 20 units, 7 steps, tanh-bounded states): fp32 differs only by
    /// the order of the sums; bf16 weights carry 2⁻⁹ relative error and int8 ones s/2 per weight and per
    /// activation, which through 2 × 7 steps of ~33-term sums stay below these margins.
    let margins: [Precision: Float] = [.fp32: 1e-5, .bf16: 0.02, .int8: 0.06]

    func testEveryKindMatchesTheFusedLayer() throws {
        var rng = RandomGenerator(seed: 5)
        let (T, B) = (7, 3)
        for kind in [RecurrentCellKind.lstm, .gru, .rnnTanh, .rnnRelu] {
            for bidirectional in [false, true] {
                let fused = layer(kind, bidirectional: bidirectional, seed: 11)
                let x = Tensor<Float>.normal([T, B, 13], generator: &rng)
                let D = bidirectional ? 2 : 1
                let h0 = Tensor<Float>.normal([2 * D, B, 20], std: 0.5, generator: &rng)
                let state: RecurrentState<Float> = kind == .lstm
                    ? .lstm(LSTMState(h: h0, c: .normal([2 * D, B, 20], std: 0.5, generator: &rng))) : .hidden(h0)
                for lengths in [nil, [7, 4, 1]] {
                    let expected = withoutGrad { fused.run(x, state: state, lengths: lengths) }
                    for precision in Precision.allCases {
                        let quantized = try QuantizedRecurrentNetwork(fused, precision: precision, kernel: .selected)
                        let got = try quantized.run(x, state: state, lengths: lengths)
                        let what = "\(kind) D=\(D) \(precision) lengths \(lengths ?? [])"
                        XCTAssertLessThanOrEqual(maxDifference(got.output, expected.output), margins[precision]!, what)
                        XCTAssertLessThanOrEqual(maxDifference(got.state.h, expected.state.h), margins[precision]!, what)
                        if kind == .lstm {
                            XCTAssertLessThanOrEqual(maxDifference(got.state.lstmState!.c, expected.state.lstmState!.c), 2 * margins[precision]!, what)
                        }
                        if let lengths {                                      // zeros past each length
                            for b in 0..<B { for t in lengths[b]..<T { for j in 0..<(D * 20) { XCTAssertEqual(got.output[t, b, j], 0, what) } } }
                        }
                        if precision != .fp32 {
                            XCTAssertGreaterThan(maxDifference(got.output, expected.output), 0, "\(what): the products did change")
                        }
                    }
                }
            }
        }
    }

    func testAVX2AndReferenceNetworksAreIdentical() throws {
        try XCTSkipUnless(QuantizedKernel.selected.isNative, "no AVX2 + FMA here")
        var rng = RandomGenerator(seed: 6)
        let fused = layer(.lstm, bidirectional: true, seed: 12)
        let x = Tensor<Float>.normal([6, 5, 13], generator: &rng)
        for precision in [Precision.int8, .bf16] {
            let fast = try QuantizedRecurrentNetwork(fused, precision: precision, kernel: .avx2).run(x, lengths: [6, 6, 2, 5, 3])
            let slow = try QuantizedRecurrentNetwork(fused, precision: precision, kernel: .reference).run(x, lengths: [6, 6, 2, 5, 3])
            XCTAssertEqual(fast.output.scalars, slow.output.scalars, "\(precision)")
            XCTAssertEqual(fast.state.h.scalars, slow.state.h.scalars, "\(precision)")
        }
    }

    /// The batch split over two cores (concurrent or serial) gives the unsplit result bit for bit at bf16 and int8
    /// (per-row quantization, row-independent kernels); at fp32 sgemm's blocking depends on the row count, so the
    /// halves agree to rounding only.
    func testBatchSplitIsBitIdentical() throws {
        var rng = RandomGenerator(seed: 7)
        let fused = layer(.lstm, bidirectional: true, seed: 13)
        let x = Tensor<Float>.normal([5, 6, 13], generator: &rng)
        let lengths = [5, 2, 5, 4, 1, 3]
        for precision in Precision.allCases {
            let network = try QuantizedRecurrentNetwork(fused, precision: precision, kernel: .selected)
            var unsplit = FusedConfiguration()
            unsplit.batchSplitMinimumRows = .max
            var split = FusedConfiguration()
            (split.splitMinimumWork, split.batchSplitMinimumRows, split.backsOff) = (0, 2, false)
            var serial = split
            serial.runsPartsConcurrently = false
            let results = try [unsplit, split, serial].map { configuration in
                try FusedConfiguration.$current.withValue(configuration) { try network.run(x, lengths: lengths) }
            }
            func difference(_ a: Tensor<Float>, _ b: Tensor<Float>) -> Float { zip(a.scalars, b.scalars).map { abs($0 - $1) }.max()! }
            let tolerance: Float = precision == .fp32 ? 1e-5 : 0
            for r in results.dropFirst() {
                XCTAssertLessThanOrEqual(difference(r.output, results[0].output), tolerance, "\(precision)")
                XCTAssertLessThanOrEqual(difference(r.state.h, results[0].state.h), tolerance, "\(precision)")
                XCTAssertLessThanOrEqual(difference(r.state.lstmState!.c, results[0].state.lstmState!.c), tolerance, "\(precision)")
            }
            XCTAssertEqual(results[1].output.scalars, results[2].output.scalars, "\(precision): concurrent and serial halves")
        }
    }

    func testRefusesWhatItDoesNotImplement() {
        let cases: [(RecurrentLayer<Float>, String)] = [
            (RecurrentLayer<Float>(kind: .gruResetBefore, inputSize: 3, hiddenSize: 4), "reset-before GRU"),
            (RecurrentLayer<Float>(kind: .lstm, inputSize: 3, hiddenSize: 4, projSize: 2), "projection"),
            (RecurrentLayer<Float>(kind: .gru, inputSize: 3, hiddenSize: 4, batchFirst: true), "batch-first"),
            (RecurrentLayer<Float>(kind: .gru, inputSize: 3, hiddenSize: 4, bidirectional: true, merge: .sum), "merged by sum"),
        ]
        for (layer, words) in cases {
            XCTAssertThrowsError(try layer.quantized(.int8)) { error in
                guard case .unsupported(let text)? = error as? QuantizationError else { return XCTFail("\(error)") }
                XCTAssertTrue(text.contains(words), text)
            }
        }
        var rng = RandomGenerator(seed: 1)
        let x = Tensor<Float>.normal([2, 1, 3], generator: &rng, requiresGrad: true)
        XCTAssertThrowsError(try RecurrentLayer<Float>(kind: .lstm, inputSize: 3, hiddenSize: 4).quantized(.bf16).run(x)) {
            XCTAssertEqual($0 as? QuantizationError, .inferenceOnly)
        }
    }
}
