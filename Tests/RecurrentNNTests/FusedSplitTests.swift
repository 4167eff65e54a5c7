import Foundation
import XCTest
@testable import RecurrentNN
import RecurrentTensor

/// The two-core split of the fused layers' steps (FusedPlan.Split.units: hidden units [0, mid) on the
/// caller, [mid, H) on the helper thread) computes what the unsplit loop computes: outputs, final
/// states and every gradient, in Double (to rounding) and Float (the SIMD kernels on partial rows).
final class FusedSplitTests: XCTestCase {
    /// The configuration of a test run: split over two cores or not (every size), packed W_hh rows per part
    /// and the small-GEMM kernel or G products per part, the batch split or the units split, and never backing
    /// off (split even when this machine is busy).
    static func configuration(split: Bool, packed: Bool = true, batchSplit: Bool = false, kernels: KernelChoice = .selected,
                              concurrent: Bool = true) -> FusedConfiguration {
        var c = FusedConfiguration()
        c.splitMinimumWork = split ? 0 : Int.max
        c.packMinimumSteps = packed ? 0 : Int.max
        c.batchSplitMaximumWork = batchSplit ? Int.max : -1
        c.batchSplitMinimumRows = 2
        c.kernels = kernels
        c.runsPartsConcurrently = concurrent
        c.backsOff = false
        return c
    }

    static func run<Scalar: TensorScalar>(_ kind: RecurrentCellKind, _ type: Scalar.Type, hidden H: Int, bidirectional: Bool, lengths: [Int]?,
                                   split: Bool, packed: Bool = true, batch B: Int = 3, batchSplit: Bool = false,
                                   inference: Bool = false, kernels: KernelChoice = .selected, concurrent: Bool = true) -> [[Scalar]] {
        runWithPlans(kind, type, hidden: H, bidirectional: bidirectional, lengths: lengths, split: split, packed: packed, batch: B,
                     batchSplit: batchSplit, inference: inference, kernels: kernels, concurrent: concurrent).values
    }

    /// A two-layer layer's outputs, final states, every gradient and the hidden-gradient norms, and the plans it ran.
    static func runWithPlans<Scalar: TensorScalar>(_ kind: RecurrentCellKind, _ type: Scalar.Type, hidden H: Int, bidirectional: Bool,
                                                   lengths: [Int]?, split: Bool, packed: Bool = true, batch B: Int = 3,
                                                   batchSplit: Bool = false, inference: Bool = false, kernels: KernelChoice = .selected,
                                                   concurrent: Bool = true) -> (values: [[Scalar]], plans: [FusedPlan]) {
        let configuration = Self.configuration(split: split, packed: packed, batchSplit: batchSplit, kernels: kernels, concurrent: concurrent)
        return FusedConfiguration.$current.withValue(configuration) {
            runLayer(kind, type, hidden: H, bidirectional: bidirectional, lengths: lengths, batch: B, inference: inference)
        }
    }

    static func runLayer<Scalar: TensorScalar>(_ kind: RecurrentCellKind, _ type: Scalar.Type, hidden H: Int, bidirectional: Bool,
                                               lengths: [Int]?, batch B: Int, inference: Bool) -> (values: [[Scalar]], plans: [FusedPlan]) {
        let (T, I) = (6, 5)
        var rng = RandomGenerator(seed: 21)
        let layer = RecurrentLayer<Scalar>(kind: kind, inputSize: I, hiddenSize: H, numLayers: 2, bias: true, batchFirst: false,
                                           dropout: 0, bidirectional: bidirectional, merge: .concat, projSize: 0, generator: &rng)
        let D = bidirectional ? 2 : 1
        let x = Tensor<Scalar>.normal([T, B, I], generator: &rng, requiresGrad: true)
        let h0 = Tensor<Scalar>.normal([2 * D, B, H], std: 0.5, generator: &rng, requiresGrad: true)
        let c0 = Tensor<Scalar>.normal([2 * D, B, H], std: 0.5, generator: &rng, requiresGrad: true)
        let w = Tensor<Scalar>.normal([T, B, D * H], generator: &rng)
        let state: RecurrentState<Scalar> = kind == .lstm ? .lstm(LSTMState(h: h0, c: c0)) : .hidden(h0)
        layer.recordsHiddenGradientNorms = true
        if inference {                          // no gradient: no history kept, h written into the output
            let (out, final) = withoutGrad { layer(x, state: state, lengths: lengths) }
            return ([out.scalars, final.h.scalars] + (final.lstmState.map { [$0.c.scalars] } ?? []), layer.fusedPlans)
        }
        let (out, final) = layer(x, state: state, lengths: lengths)
        var loss = (out * w).sum() + final.h.sum()
        if let c = final.lstmState?.c { loss = loss + (c * c).sum() }
        loss.backward()
        var values = [out.scalars, final.h.scalars, x.grad!.scalars, h0.grad!.scalars] + layer.parameters().map { $0.grad!.scalars }
        if kind == .lstm { values += [final.lstmState!.c.scalars, c0.grad!.scalars] }
        values += layer.hiddenGradientNorms
        return (values, layer.fusedPlans)
    }

    func compare<Scalar: TensorScalar>(_ type: Scalar.Type, tolerance: Scalar, packed: Bool = true,
                                       file: StaticString = #filePath, line: UInt = #line) {
        for kind in [RecurrentCellKind.rnnTanh, .rnnRelu, .lstm, .gru] {
            for (H, bidirectional, lengths) in [(4, false, nil), (20, true, [6, 2, 4] as [Int]?), (37, false, [3, 6, 1])] {
                let (a, unsplitPlans) = Self.runWithPlans(kind, type, hidden: H, bidirectional: bidirectional, lengths: lengths, split: false)
                let (b, splitPlans) = Self.runWithPlans(kind, type, hidden: H, bidirectional: bidirectional, lengths: lengths, split: true,
                                                        packed: packed)
                // The paths under test ran: unsplit, and split by units (the batch split is off) with each
                // bidirectional layer's directions one per core.
                XCTAssertTrue(unsplitPlans.allSatisfy { $0.forwardSplit == .none && $0.backwardSplit == .none }, file: file, line: line)
                let mid = FusedPlan.splitPoint(H)
                XCTAssertTrue(splitPlans.allSatisfy { $0.forwardSplit == .units(mid: mid) && $0.backwardSplit == .units(mid: mid) },
                              "\(kind) H=\(H)", file: file, line: line)
                XCTAssertTrue(splitPlans.allSatisfy { $0.pairsDirections }, file: file, line: line)
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

    func testSplitStepsMatchUnsplitInDouble() { compare(Double.self, tolerance: 1e-12) }
    func testSplitStepsMatchUnsplitInFloat() { compare(Float.self, tolerance: 1e-5) }
    /// Split steps without packed W_hh rows (short sequences, batch 1): G products per part and step.
    func testUnpackedSplitStepsMatchUnsplit() {
        compare(Double.self, tolerance: 1e-12, packed: false)
        compare(Float.self, tolerance: 1e-5, packed: false)
    }

    /// The plan follows the configuration: packed rows on sgemm (Double), the small-GEMM kernel (Float with
    /// AVX2 + FMA), plain sgemm when packing does not pay.
    func testPlanChoosesTheProductFromShapesAndConfiguration() {
        let double = Self.runWithPlans(.lstm, Double.self, hidden: 20, bidirectional: false, lengths: nil, split: true).plans
        XCTAssertTrue(double.allSatisfy { $0.product == .packedRows && !$0.projectsPerStep })
        let unpacked = Self.runWithPlans(.lstm, Double.self, hidden: 20, bidirectional: false, lengths: nil, split: true, packed: false).plans
        XCTAssertTrue(unpacked.allSatisfy { $0.product == .sgemm })
        if KernelChoice.selected.smallGEMM != nil {
            let float = Self.runWithPlans(.lstm, Float.self, hidden: 20, bidirectional: false, lengths: nil, split: true).plans
            XCTAssertTrue(float.allSatisfy { $0.product == .smallGEMM && $0.projectsPerStep && $0.keepsHistory })
            let variable = Self.runWithPlans(.gru, Float.self, hidden: 20, bidirectional: false, lengths: [6, 2, 4], split: false,
                                             inference: true).plans
            XCTAssertTrue(variable.allSatisfy { $0.product == .smallGEMM && !$0.projectsPerStep && !$0.keepsHistory })
        }
    }

    /// Whether the parts of a split ran concurrently or one after the other changes nothing, to the bit
    /// (same-seed runs give identical checkpoints on a busy machine and on a quiet one).
    func testConcurrentAndSequentialPartsAreBitIdentical() {
        for kind in [RecurrentCellKind.rnnTanh, .lstm, .gru] {
            for (H, bidirectional, lengths) in [(20, true, [6, 2, 4] as [Int]?), (37, false, nil)] {
                for packed in [true, false] {
                    let concurrent = Self.run(kind, Float.self, hidden: H, bidirectional: bidirectional, lengths: lengths, split: true,
                                              packed: packed)
                    let sequential = Self.run(kind, Float.self, hidden: H, bidirectional: bidirectional, lengths: lengths, split: true,
                                              packed: packed, concurrent: false)
                    XCTAssertEqual(concurrent, sequential, "\(kind) H=\(H) packed=\(packed)")
                }
            }
        }
    }
}

/// The batch split of the forward (FusedPlan.Split.batch, `FusedConfiguration.batchSplitMaximumWork`: each core runs half
/// of the sequences through every step, no barrier between steps) gives the unit split's numbers to the bit,
/// in training (outputs, states, every gradient) and inference, and the unsplit forward's, with variable
/// lengths, both directions, an odd batch, concurrent or one part after the other.
final class BatchSplitTests: XCTestCase {
    func testBatchSplitIsBitIdenticalToUnitSplitAndUnsplit() throws {
        guard KernelChoice.selected.smallGEMM != nil else { throw XCTSkip("the batch split runs on the small-GEMM kernel (AVX2 + FMA)") }
        for kind in [RecurrentCellKind.rnnTanh, .rnnRelu, .lstm, .gru] {
            for (H, B, bidirectional, lengths) in [(20, 5, true, [6, 2, 4, 6, 1] as [Int]?), (37, 4, false, nil), (24, 7, false, nil)] {
                for inference in [false, true] {
                    let label = "\(kind) H=\(H) B=\(B) inference=\(inference)"
                    func values(split: Bool, batchSplit: Bool, concurrent: Bool = true) -> [[Float]] {
                        let (values, plans) = FusedSplitTests.runWithPlans(kind, Float.self, hidden: H, bidirectional: bidirectional,
                                                                           lengths: lengths, split: split, batch: B, batchSplit: batchSplit,
                                                                           inference: inference, concurrent: concurrent)
                        let forward: FusedPlan.Split = !split ? .none : batchSplit ? .batch(half: B / 2) : .units(mid: FusedPlan.splitPoint(H))
                        XCTAssertTrue(plans.allSatisfy { $0.forwardSplit == forward }, "\(label) ran \(plans.map(\.forwardSplit))")
                        return values
                    }
                    let batch = values(split: true, batchSplit: true)
                    XCTAssertNil(Self.difference(batch, values(split: true, batchSplit: false)), "\(label) against the unit split")
                    // (The unsplit backward sums in another order: training agrees with it to rounding, FusedSplitTests.)
                    let unsplit = values(split: false, batchSplit: false)
                    XCTAssertNil(Self.difference(inference ? batch : Array(batch.prefix(2)), inference ? unsplit : Array(unsplit.prefix(2))),
                                 "\(label) against unsplit")
                    XCTAssertNil(Self.difference(batch, values(split: true, batchSplit: true, concurrent: false)),
                                 "\(label) parts one after the other")
                }
            }
        }
    }

    /// Where two lists of values first differ in any bit, or nil.
    static func difference(_ a: [[Float]], _ b: [[Float]]) -> String? {
        guard a.count == b.count else { return "\(a.count) against \(b.count) values" }
        for (i, (u, v)) in zip(a, b).enumerated() {
            guard u.count == v.count else { return "value \(i): \(u.count) against \(v.count) elements" }
            if let j = u.indices.first(where: { u[$0].bitPattern != v[$0].bitPattern }) { return "value \(i)[\(j)]: \(u[j]) against \(v[j])" }
        }
        return nil
    }
}

/// Every kernel path this processor runs (`InstructionSet.supported`: AVX-512, AVX2 + FMA) against the generic one
/// (Swift SIMD gates, sgemm, the Swift matrix–vector kernel): a Float layer's outputs and gradients agree to 1e-5
/// relative, for each cell, split and unsplit, on the small-GEMM steps and on batch-1 (matrix–vector) steps. One test
/// per path, so the log says which ran; a path this processor lacks is skipped with its name (the AVX-512 kernels are
/// also checked on any AVX2 machine through SIMD Everywhere: `make kernel-emulation-test`).
final class GateKernelDispatchTests: XCTestCase {
    func testAVX512PathMatchesGenericPath() throws { try check(.avx512) }
    func testAVX2PathMatchesGenericPath() throws { try check(.avx2) }

    /// The tests skip, never fail, on a path the processor lacks; the generic path runs everywhere.
    func testSupportedPathsFollowDetection() throws {
        print("instruction-set paths this processor runs: \(InstructionSet.supported.map(\.rawValue)); selected \(InstructionSet.selected)")
        XCTAssertEqual(InstructionSet.supported.first, .generic)
        XCTAssertEqual(InstructionSet.supported.last, InstructionSet.detected)
        XCTAssertTrue(InstructionSet.supported.allSatisfy(\.isSupported))
        XCTAssertEqual(KernelChoice.portable, KernelChoice(.generic))
        XCTAssertNil(KernelChoice.portable.smallGEMM)
        // Configuration files and reports spell the paths as RECURRENT_ISA does.
        let names = try JSONDecoder().decode([String].self, from: JSONEncoder().encode(InstructionSet.allCases))
        XCTAssertEqual(names, ["generic", "avx2", "avx512"])
        XCTAssertEqual(InstructionSetError.unknown("avx9").description.prefix(42), "RECURRENT_ISA=avx9 names no kernel path; u")
    }

    func check(_ path: InstructionSet, file: StaticString = #filePath, line: UInt = #line) throws {
        guard path.isSupported else {
            throw XCTSkip("\(path) path not run: this processor supports \(InstructionSet.supported.map(\.rawValue))")
        }
        let kernels = KernelChoice(path)
        for kind in [RecurrentCellKind.rnnTanh, .lstm, .gru] {
            // Batch 3: small-GEMM steps (packed, split by units or not); batch 1: matrix–vector steps.
            for (H, lengths, split, batch) in [(4, nil, false, 3), (37, [3, 6, 1] as [Int]?, false, 3), (20, nil, true, 3),
                                               (21, [6, 2, 4], true, 3), (19, nil, false, 1), (40, nil, true, 1)] {
                let (a, plans) = FusedSplitTests.runWithPlans(kind, Float.self, hidden: H, bidirectional: false, lengths: lengths, split: split,
                                                              batch: batch, kernels: kernels)
                let (b, genericPlans) = FusedSplitTests.runWithPlans(kind, Float.self, hidden: H, bidirectional: false, lengths: lengths,
                                                                     split: split, batch: batch, kernels: .portable)
                XCTAssertTrue(plans.allSatisfy { $0.kernels == kernels && (batch == 1 || $0.product == .smallGEMM) }, "\(path)", file: file, line: line)
                XCTAssertFalse(genericPlans.contains { $0.product == .smallGEMM }, file: file, line: line)
                XCTAssertEqual(a.count, b.count, file: file, line: line)
                for (i, (u, v)) in zip(a, b).enumerated() {
                    var worst: Float = 0
                    for (p, q) in zip(u, v) { worst = Swift.max(worst, abs(p - q) / Swift.max(1, abs(q))) }
                    XCTAssertLessThanOrEqual(worst, 1e-5, "\(path) \(kind) H=\(H) split=\(split) batch=\(batch) value \(i)", file: file, line: line)
                }
            }
        }
        // Batch-1 matrix–vector product, odd sizes (row and column tails), plain and accumulating.
        var rng = RandomGenerator(seed: 5)
        for (n, k) in [(37, 29), (5, 16), (64, 300)] {
            let w = Tensor<Float>.normal([n, k], generator: &rng), x = Tensor<Float>.normal([k], generator: &rng)
            for accumulate in [false, true] {
                let y1 = Tensor<Float>.full([n], 0.5), y2 = Tensor<Float>.full([n], 0.5)
                sgemvRows(w.data, ldw: k, x.data, y1.data, n: n, k: k, accumulate: accumulate, instructionSet: path)
                sgemvRows(w.data, ldw: k, x.data, y2.data, n: n, k: k, accumulate: accumulate, instructionSet: .generic)
                for (p, q) in zip(y1.scalars, y2.scalars) {
                    XCTAssertEqual(p, q, accuracy: 1e-5 * Swift.max(1, Swift.abs(q)) * Float(k).squareRoot(), "\(path) sgemv n=\(n) k=\(k)",
                                   file: file, line: line)
                }
            }
        }
    }
}

/// Inference keeps no per-step history (FusedPlan.keepsHistory false: two slots of state, one step of gates);
/// what it computes is bit for bit what a forward that records the graph computes, for every kind,
/// split or not, with variable lengths, both directions and a projection.
final class InferenceWithoutHistoryTests: XCTestCase {
    func testForwardWithoutGradEqualsRecordedForward() {
        for split in [false, true] {
            let configuration = FusedSplitTests.configuration(split: split)
            for kind in [RecurrentCellKind.rnnTanh, .rnnRelu, .lstm, .gru, .gruResetBefore] {
                for (bidirectional, lengths, projection) in [(false, nil, 0), (true, [9, 4, 7] as [Int]?, 0), (false, [2, 9, 5], 3)] {
                    if projection > 0 && kind != .lstm { continue }
                    var rng = RandomGenerator(seed: 3)
                    let layer = RecurrentLayer<Float>(kind: kind, inputSize: 5, hiddenSize: 20, numLayers: 2, bias: true, batchFirst: false,
                                                      dropout: 0, bidirectional: bidirectional, merge: .concat, projSize: projection,
                                                      generator: &rng)
                    let x = Tensor<Float>.normal([9, 3, 5], generator: &rng)
                    let (recorded, recordedState) = FusedConfiguration.$current.withValue(configuration) { layer(x, lengths: lengths) }
                    XCTAssertTrue(recorded.requiresGrad)                 // the weights want gradients: history kept
                    XCTAssertTrue(layer.fusedPlans.allSatisfy(\.keepsHistory))
                    let (inferred, inferredState) = FusedConfiguration.$current.withValue(configuration) {
                        withoutGrad { layer(x, lengths: lengths) }
                    }
                    XCTAssertFalse(inferred.requiresGrad)
                    XCTAssertFalse(layer.fusedPlans.contains(where: \.keepsHistory))
                    let label = "\(kind) split=\(split) bidirectional=\(bidirectional) projection=\(projection)"
                    XCTAssertEqual(recorded.scalars, inferred.scalars, label)
                    XCTAssertEqual(recordedState.h.scalars, inferredState.h.scalars, label)
                    XCTAssertEqual(recordedState.lstmState?.c.scalars, inferredState.lstmState?.c.scalars, label)
                }
            }
        }
    }
}

/// The small-GEMM kernels of the recurrent steps (CRecurrentKernels/avx2/SmallGEMMAVX2.c, avx512/SmallGEMMAVX512.c, PanelPackedWeights.swift)
/// against the naive product, and layers using it against layers using sgemm.
final class SmallGEMMTests: XCTestCase {
    /// Odd shapes: every row-block size 1–6 and the split remainders, partial last panels, odd depths, a
    /// bias, a strided C, and both ways of reading the packed operand (rows of W, or columns).
    func testPackedProductMatchesNaiveProduct() throws { try checkPackedProduct(.avx2) }
    /// The AVX-512 micro-kernel (MR × 32 over two panels, blocks of up to 12 rows): the same shapes, plus its own block sizes.
    func testAVX512PackedProductMatchesNaiveProduct() throws { try checkPackedProduct(.avx512) }

    func checkPackedProduct(_ path: InstructionSet) throws {
        guard path.isSupported else {
            throw XCTSkip("\(path) small-GEMM kernel not run: this processor supports \(InstructionSet.supported.map(\.rawValue))")
        }
        var rng = RandomGenerator(seed: 9)
        for (m, n, k) in [(1, 1, 1), (5, 17, 3), (7, 16, 33), (13, 40, 64), (32, 100, 57), (11, 8, 250), (23, 33, 7), (24, 64, 16)] {
            for transposedSource in [false, true] {
                for withBias in [false, true] {
                    let a = Tensor<Float>.normal([m, k], generator: &rng)
                    // B (n, k): read from W (n, k) row by row, or from Wᵀ stored (k, n) column by column.
                    let w = Tensor<Float>.normal(transposedSource ? [k, n] : [n, k], generator: &rng)
                    let bias = Tensor<Float>.normal([n], generator: &rng)
                    let packed = PanelPackedWeights(blocks: [(n, k)], KernelChoice(path))
                    packed.pack(0, from: w.data, rowStride: transposedSource ? 1 : k, depthStride: transposedSource ? n : 1)
                    let ldc = n + 3
                    let c = Tensor<Float>.full([m, ldc], 7)      // the 3 extra columns must stay untouched
                    packed.product(0, m: m, a: a.data, lda: k, bias: withBias ? UnsafePointer(bias.data) : nil, c: c.data, ldc: ldc)
                    let expected = Tensor<Float>.zeros([m, n])
                    gemmNaive(transA: false, transB: !transposedSource, m: m, n: n, k: k, alpha: 1, a: a.data, lda: k,
                              b: w.data, ldb: transposedSource ? n : k, beta: 0, c: expected.data, ldc: n)
                    for i in 0..<m {
                        for j in 0..<n {
                            let want = expected.data[i * n + j] + (withBias ? bias.data[j] : 0)
                            XCTAssertEqual(c.data[i * ldc + j], want, accuracy: 1e-5 * Float(k).squareRoot() * Swift.max(1, abs(want)),
                                           "\(path) m=\(m) n=\(n) k=\(k) (\(i), \(j))")
                        }
                        for j in n..<ldc { XCTAssertEqual(c.data[i * ldc + j], 7) }
                    }
                }
            }
        }
    }

    /// A Float layer's outputs and gradients with the small-GEMM steps agree with the sgemm steps to 1e-5
    /// relative (long enough sequences to take the packed path, split and unsplit).
    func testLayersMatchTheSgemmPath() throws {
        guard KernelChoice.selected.smallGEMM != nil else { throw XCTSkip("no small-GEMM kernel on this processor (generic path)") }
        var sgemm = KernelChoice.selected
        sgemm.smallGEMM = nil
        for kind in [RecurrentCellKind.rnnTanh, .lstm, .gru] {
            // Full lengths project each step's rows per step (both directions); variable lengths all at once.
            for (H, bidirectional, lengths, split) in [(20, true, [6, 2, 4] as [Int]?, true), (37, false, nil, true), (9, false, [1, 6, 3], false),
                                                       (12, true, nil, true), (10, true, nil, false)] {
                let (a, small) = FusedSplitTests.runWithPlans(kind, Float.self, hidden: H, bidirectional: bidirectional, lengths: lengths,
                                                              split: split)
                let (b, plain) = FusedSplitTests.runWithPlans(kind, Float.self, hidden: H, bidirectional: bidirectional, lengths: lengths,
                                                              split: split, kernels: sgemm)
                XCTAssertTrue(small.allSatisfy { $0.product == .smallGEMM } && !plain.contains { $0.product == .smallGEMM })
                XCTAssertEqual(a.count, b.count)
                for (i, (u, v)) in zip(a, b).enumerated() {
                    var worst: Float = 0
                    for (p, q) in zip(u, v) { worst = Swift.max(worst, abs(p - q) / Swift.max(1, abs(q))) }
                    XCTAssertLessThanOrEqual(worst, 1e-5, "\(kind) H=\(H) split=\(split) value \(i)")
                }
            }
        }
    }
}

/// Each cell's Float gate kernels (every path in `InstructionSet.supported`: AVX-512, AVX2 + FMA, Swift SIMD) against
/// its scalar reference (RNNGates.swift, LSTMGates.swift, GRUGates.swift) on one row: whole vectors and
/// tails, gate blocks `stride` apart and the recurrent term with a stride of its own (a split part's buffer).
final class GateKernelReferenceTests: XCTestCase {
    /// `count` random values in [-3, 3) (saturating the activations a little).
    static func buffer(_ count: Int, _ rng: inout RandomGenerator) -> UnsafeMutablePointer<Float> {
        let p = UnsafeMutablePointer<Float>.allocate(capacity: count)
        for i in 0..<count { p[i] = Float(rng.nextDouble() * 6 - 3) }
        return p
    }

    static func zeros(_ count: Int) -> UnsafeMutablePointer<Float> {
        let p = UnsafeMutablePointer<Float>.allocate(capacity: count)
        p.initialize(repeating: 0, count: count)
        return p
    }

    static func assertClose(_ a: UnsafeMutablePointer<Float>, _ b: UnsafeMutablePointer<Float>, _ count: Int, _ label: String,
                            file: StaticString = #filePath, line: UInt = #line) {
        for i in 0..<count {
            XCTAssertEqual(a[i], b[i], accuracy: 1e-5 * Swift.max(1, abs(b[i])), "\(label) [\(i)]", file: file, line: line)
        }
    }

    func testFastKernelsMatchReferences() {
        var rng = RandomGenerator(seed: 12)
        print("gate kernels checked against the references: \(InstructionSet.supported.map(\.rawValue))")
        for n in [1, 7, 8, 13, 16, 17, 37] {
            let H = n + 3, HS = n + 1                      // gate blocks H apart; the recurrent term's HS apart
            for path in InstructionSet.supported {
                let label = "n=\(n) \(path)"
                let xr = Self.buffer(4 * H, &rng), hr = Self.buffer(4 * HS, &rng), hp = Self.buffer(H, &rng), bhn = Self.buffer(H, &rng)
                let dm = Self.buffer(H, &rng), dc = Self.buffer(H, &rng)
                // Results, fast and reference, zero-filled alike (the kernels write only n units of each gate block).
                let out = (0..<6).map { _ in Self.zeros(4 * H) }, ref = (0..<6).map { _ in Self.zeros(4 * H) }
                defer { for p in [xr, hr, hp, bhn, dm, dc] + out + ref { p.deallocate() } }

                RNNGates.tanhForward(xr, hr, out[0], n, path: path)
                RNNGates.forwardReference(relu: false, xr, hr, ref[0], n)
                Self.assertClose(out[0], ref[0], n, "tanh forward \(label)")
                RNNGates.tanhBackward(dm, out[0], out[1], n)
                RNNGates.backwardReference(relu: false, dm, out[0], ref[1], n)
                Self.assertClose(out[1], ref[1], n, "tanh backward \(label)")

                // LSTM: gates, c, m, tanh c; then backward from the fast forward's saved values.
                LSTMGates.forwardFloat(xr, hr, out[0], hp, out[1], out[2], out[3], n, stride: H, hStride: HS, path: path)
                LSTMGates.forwardReference(xr, hr, ref[0], hp, ref[1], ref[2], ref[3], n, stride: H, hStride: HS)
                Self.assertClose(out[0], ref[0], 3 * H + n, "lstm gates \(label)")
                for k in 1...3 { Self.assertClose(out[k], ref[k], n, "lstm c, m, tanh c \(k) \(label)") }
                out[4].update(from: dc, count: n); ref[4].update(from: dc, count: n)
                LSTMGates.backwardFloat(out[0], hp, out[3], dm, out[4], out[5], n, stride: H, path: path)
                LSTMGates.backwardReference(out[0], hp, out[3], dm, ref[4], ref[5], n, stride: H)
                Self.assertClose(out[4], ref[4], n, "lstm dc \(label)")
                Self.assertClose(out[5], ref[5], 3 * H + n, "lstm gate gradients \(label)")

                // GRU (reset after): gates, h and the saved W_hn h + b_hn; then backward.
                GRUGates.forwardFloat(xr, hr, bhn, out[0], hp, out[1], out[2], n, stride: H, hStride: HS, path: path)
                GRUGates.forwardReference(xr, hr, bhn, ref[0], hp, ref[1], ref[2], n, stride: H, hStride: HS)
                Self.assertClose(out[0], ref[0], 2 * H + n, "gru gates \(label)")
                Self.assertClose(out[1], ref[1], n, "gru h \(label)")
                Self.assertClose(out[2], ref[2], n, "gru saved \(label)")
                GRUGates.backwardFloat(out[0], dm, hp, out[2], out[3], out[4], out[5], n, stride: H)
                GRUGates.backwardReference(resetAfter: true, out[0], dm, hp, out[2], ref[3], ref[4], ref[5], n, stride: H)
                for k in 3...4 { Self.assertClose(out[k], ref[k], 2 * H + n, "gru gradients \(k) \(label)") }
                Self.assertClose(out[5], ref[5], n, "gru direct \(label)")
            }
        }
    }
}
