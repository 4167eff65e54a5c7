import XCTest
@testable import RecurrentNN
import RecurrentTensor

/// The two-core split of the fused layers' steps (FusedRecurrence.swift: hidden units [0, mid) on the
/// caller, [mid, H) on the helper thread) computes what the unsplit loop computes: outputs, final
/// states and every gradient, in Double (to rounding) and Float (the SIMD kernels on partial rows).
final class FusedSplitTests: XCTestCase {
    static func run<Scalar: TensorScalar>(_ kind: RecurrentCellKind, _ type: Scalar.Type, hidden H: Int, bidirectional: Bool, lengths: [Int]?,
                                   split: Bool, packed: Bool = true) -> [[Scalar]] {
        let (saved, savedPack) = (fusedSplitMinimumWork, fusedPackMinimumSteps)
        fusedSplitMinimumWork = split ? 0 : Int.max
        fusedPackMinimumSteps = packed ? 0 : Int.max   // packed W_hh rows per part, or G products per part
        PairParallel.setAdaptive(false)        // split even when this machine is busy
        defer { fusedSplitMinimumWork = saved; fusedPackMinimumSteps = savedPack; PairParallel.setAdaptive(true) }
        let (T, B, I) = (6, 3, 5)
        var rng = RandomGenerator(seed: 21)
        let layer = RecurrentLayer<Scalar>(kind: kind, inputSize: I, hiddenSize: H, numLayers: 2, bias: true, batchFirst: false,
                                           dropout: 0, bidirectional: bidirectional, merge: .concat, projSize: 0, generator: &rng)
        let D = bidirectional ? 2 : 1
        let x = Tensor<Scalar>.normal([T, B, I], generator: &rng, requiresGrad: true)
        let h0 = Tensor<Scalar>.normal([2 * D, B, H], std: 0.5, generator: &rng, requiresGrad: true)
        let c0 = Tensor<Scalar>.normal([2 * D, B, H], std: 0.5, generator: &rng, requiresGrad: true)
        let w = Tensor<Scalar>.normal([T, B, D * H], generator: &rng)
        let state = RecurrentState(h: h0, c: kind == .lstm ? c0 : nil)
        layer.recordsHiddenGradientNorms = true
        let (out, final) = layer(x, initialState: state, lengths: lengths)
        var loss = (out * w).sum() + final.h.sum()
        if let c = final.c { loss = loss + (c * c).sum() }
        loss.backward()
        var values = [out.scalars, final.h.scalars, x.grad!.scalars, h0.grad!.scalars] + layer.parameters().map { $0.grad!.scalars }
        if kind == .lstm { values += [final.c!.scalars, c0.grad!.scalars] }
        values += layer.hiddenGradientNorms
        return values
    }

    func compare<Scalar: TensorScalar>(_ type: Scalar.Type, tolerance: Scalar, packed: Bool = true,
                                       file: StaticString = #filePath, line: UInt = #line) {
        for kind in [RecurrentCellKind.rnnTanh, .rnnRelu, .lstm, .gru] {
            for (H, bidirectional, lengths) in [(4, false, nil), (20, true, [6, 2, 4] as [Int]?), (37, false, [3, 6, 1])] {
                let a = Self.run(kind, type, hidden: H, bidirectional: bidirectional, lengths: lengths, split: false)
                let b = Self.run(kind, type, hidden: H, bidirectional: bidirectional, lengths: lengths, split: true, packed: packed)
                XCTAssertEqual(a.count, b.count, file: file, line: line)
                for (i, (u, v)) in zip(a, b).enumerated() {
                    XCTAssertEqual(u.count, v.count, file: file, line: line)
                    var worst: Scalar = 0
                    for (p, q) in zip(u, v) { worst = Swift.max(worst, abs(p - q) / Swift.max(1, abs(q))) }
                    XCTAssertLessThanOrEqual(worst, tolerance, "\(kind) H=\(H) value \(i)", file: file, line: line)
                }
            }
        }
    }

    func testSplitStepsMatchUnsplitInDouble() {
        let (splits, concurrent) = (fusedSplitForwardCount, fusedConcurrentDirectionsCount)
        compare(Double.self, tolerance: 1e-12)
        if PairParallel.isAvailable {   // the paths under test ran (on a machine with two or more cores)
            XCTAssertGreaterThan(fusedSplitForwardCount, splits)
            XCTAssertGreaterThan(fusedConcurrentDirectionsCount, concurrent)
        }
    }
    func testSplitStepsMatchUnsplitInFloat() { compare(Float.self, tolerance: 1e-5) }
    /// Split steps without packed W_hh rows (short sequences, batch 1): G products per part and step.
    func testUnpackedSplitStepsMatchUnsplit() {
        compare(Double.self, tolerance: 1e-12, packed: false)
        compare(Float.self, tolerance: 1e-5, packed: false)
    }

    /// Whether the parts of a split ran concurrently or one after the other changes nothing, to the bit
    /// (same-seed runs give identical checkpoints on a busy machine and on a quiet one).
    func testConcurrentAndSequentialPartsAreBitIdentical() {
        for kind in [RecurrentCellKind.rnnTanh, .lstm, .gru] {
            for (H, bidirectional, lengths) in [(20, true, [6, 2, 4] as [Int]?), (37, false, nil)] {
                for packed in [true, false] {
                    let concurrent = Self.run(kind, Float.self, hidden: H, bidirectional: bidirectional, lengths: lengths, split: true,
                                              packed: packed)
                    PairParallel.refuses = true
                    let sequential = Self.run(kind, Float.self, hidden: H, bidirectional: bidirectional, lengths: lengths, split: true,
                                              packed: packed)
                    PairParallel.refuses = false
                    XCTAssertEqual(concurrent, sequential, "\(kind) H=\(H) packed=\(packed)")
                }
            }
        }
    }
}

/// The AVX2 + FMA gate and matrix–vector kernels (CRecurrentKernels/GatesAVX2.c) against the Swift
/// SIMD kernels they replace: a Float layer's outputs and gradients agree to 1e-5 relative.
final class GateKernelDispatchTests: XCTestCase {
    func testAVX2KernelsMatchSwiftKernels() throws {
        guard gateKernelsUseAVX2 else { throw XCTSkip("no AVX2 + FMA on this processor") }
        defer { gateKernelsUseAVX2 = true; gemvUsesAVX2 = true }
        for kind in [RecurrentCellKind.rnnTanh, .lstm, .gru] {
            for (H, lengths) in [(4, nil), (37, [3, 6, 1] as [Int]?)] {
                gateKernelsUseAVX2 = true
                let a = FusedSplitTests.run(kind, Float.self, hidden: H, bidirectional: false, lengths: lengths, split: false)
                gateKernelsUseAVX2 = false
                let b = FusedSplitTests.run(kind, Float.self, hidden: H, bidirectional: false, lengths: lengths, split: false)
                for (i, (u, v)) in zip(a, b).enumerated() {
                    var worst: Float = 0
                    for (p, q) in zip(u, v) { worst = Swift.max(worst, abs(p - q) / Swift.max(1, abs(q))) }
                    XCTAssertLessThanOrEqual(worst, 1e-5, "\(kind) H=\(H) value \(i)")
                }
            }
        }
        // Batch-1 matrix–vector product, odd sizes (row and column tails).
        var rng = RandomGenerator(seed: 5)
        let w = Tensor<Float>.normal([37, 29], generator: &rng), x = Tensor<Float>.normal([29], generator: &rng)
        let y1 = Tensor<Float>.zeros([37]), y2 = Tensor<Float>.zeros([37])
        gemvUsesAVX2 = true
        sgemvRows(w.data, ldw: 29, x.data, y1.data, n: 37, k: 29, accumulate: false)
        gemvUsesAVX2 = false
        sgemvRows(w.data, ldw: 29, x.data, y2.data, n: 37, k: 29, accumulate: false)
        for (p, q) in zip(y1.scalars, y2.scalars) { let tolerance: Float = 1e-5 * Swift.max(1, Swift.abs(q)); XCTAssertEqual(p, q, accuracy: tolerance) }
    }
}
