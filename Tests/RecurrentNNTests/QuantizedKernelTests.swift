import XCTest
import CRecurrentKernels
@testable import RecurrentNN
import RecurrentTensor

/// The int8 and bf16 products (QuantizedMatrix.swift): the AVX2 kernels against the Swift reference, bit for
/// bit (integer sums are exact; the bf16 reference repeats the kernel's order of fp32 operations), and both
/// against fp32 within bounds derived from the scales.
final class QuantizedKernelTests: XCTestCase {
    /// Random (N, K) weights, (N) bias and (M, K) inputs; shapes with tails past 8 and 32 columns and past the
    /// kernels' 4-row and 2-, 4- and 128-column blocks.
    func operands(m: Int, n: Int, k: Int, seed: UInt64) -> (w: [Float], b: [Float], a: [Float]) {
        var rng = RandomGenerator(seed: seed)
        let w = Tensor<Float>.normal([n, k], generator: &rng).scalars.map { $0 * 0.2 }
        let b = Tensor<Float>.normal([n], generator: &rng).scalars
        let a = Tensor<Float>.normal([m, k], generator: &rng).scalars.map { $0 + 0.3 }
        return (w, b, a)
    }

    func product(_ matrix: QuantizedMatrix, _ a: [Float], m: Int) -> [Float] {
        var c = [Float](repeating: .nan, count: m * matrix.rows)
        a.withUnsafeBufferPointer { ap in
            c.withUnsafeMutableBufferPointer { cp in
                matrix.product(m: m, a: ap.baseAddress!, lda: matrix.depth, c: cp.baseAddress!, ldc: matrix.rows, scratch: QuantizedScratch())
            }
        }
        return c
    }

    let shapes = [(1, 1, 1), (1, 37, 70), (3, 5, 31), (4, 9, 32), (7, 130, 33), (9, 260, 100), (64, 24, 512), (1, 2048, 512)]

    func testKernelsMatchTheReferenceExactly() throws {
        try XCTSkipUnless(QuantizedKernel.selected.isNative, "no AVX2 + FMA here: the reference runs alone")
        for precision in [Precision.int8, .bf16] {
            for (i, (m, n, k)) in shapes.enumerated() {
                let (w, b, a) = operands(m: m, n: n, k: k, seed: UInt64(i))
                for bias in [b, nil] {
                    let fast = try QuantizedMatrix(weight: w, rows: n, depth: k, bias: bias, precision: precision, kernel: .avx2)
                    let slow = try QuantizedMatrix(weight: w, rows: n, depth: k, bias: bias, precision: precision, kernel: .reference)
                    XCTAssertEqual(product(fast, a, m: m), product(slow, a, m: m), "\(precision) (\(m), \(n), \(k)), bias \(bias != nil)")
                    if precision == .int8 {                   // with VNNI where the processor has it: the same integers
                        let detected = try QuantizedMatrix(weight: w, rows: n, depth: k, bias: bias, precision: precision, kernel: .selected)
                        XCTAssertEqual(product(detected, a, m: m), product(slow, a, m: m), "\(QuantizedKernel.selected) (\(m), \(n), \(k))")
                    }
                }
            }
        }
    }

    /// The worst case of `vpmaddubsw`: every activation quantized to 127 against weights of ±127 gives pair
    /// sums of ±2·127² = ±32258, inside s16; a full 8-bit activation (255) would saturate there and differ from
    /// the reference's exact int32 sums.
    func testInt8PairSumsCannotSaturate() throws {
        try XCTSkipUnless(QuantizedKernel.selected.isNative, "no AVX2 + FMA here")
        let (m, n, k) = (5, 6, 96)
        let a = [Float](repeating: 3, count: m * k)                                        // one value per row: q = 127, z = 0
        let w = (0..<(n * k)).map { i -> Float in (i / k) % 2 == 0 ? 0.5 : -0.5 }            // rows of +127 or −127
        let fast = try QuantizedMatrix(weight: w, rows: n, depth: k, bias: nil, precision: .int8, kernel: .avx2)
        let slow = try QuantizedMatrix(weight: w, rows: n, depth: k, bias: nil, precision: .int8, kernel: .reference)
        let c = product(fast, a, m: m)
        XCTAssertEqual(c, product(slow, a, m: m))
        for (index, value) in c.enumerated() {
            XCTAssertEqual(value, (index % n) % 2 == 0 ? 144 : -144, accuracy: 1e-3, "3 · ±0.5 · 96")
        }
        let scratch = QuantizedScratch()
        let (q, _, z) = scratch.reserve(rows: m, stride: 96)
        a.withUnsafeBufferPointer { rk_q8_quantize_rows(m, k, 96, $0.baseAddress!, k, q, 96, scratch.scale, z) }
        XCTAssertEqual(Set(UnsafeBufferPointer(start: q, count: m * k)), [127], "activations take 7 bits")
    }

    /// |y − ŷ| ≤ Σ_p |a_p|·|w_p − ŵ_p| + |ŵ_p|·|a_p − â_p| ≤ Σ_p |a_p|·s_w/2 + |ŵ_p|·s_a/2 (int8), or
    /// Σ_p |a_p|·|w_p|·2⁻⁸ (bf16: half an ulp of an 8-bit significand), plus fp32 rounding of the sums.
    func testProductsStayWithinTheirQuantizationBounds() throws {
        for kernel in [QuantizedKernel.selected, .reference] {
            for (i, (m, n, k)) in shapes.prefix(7).enumerated() {
                let (w, b, a) = operands(m: m, n: n, k: k, seed: 100 + UInt64(i))
                for precision in [Precision.int8, .bf16, .fp32] {
                    let matrix = try QuantizedMatrix(weight: w, rows: n, depth: k, bias: b, precision: precision, kernel: kernel)
                    let c = product(matrix, a, m: m), stored = matrix.dequantized()
                    for r in 0..<m {
                        let row = a[(r * k)..<((r + 1) * k)]
                        let (lo, hi) = (min(0, row.min()!), max(0, row.max()!))
                        let sa = (hi - lo) / 127
                        for j in 0..<n {
                            var exact = Double(b[j]), bound = 0.0, magnitude = 0.0
                            for p in 0..<k {
                                let (x, y, yq) = (Double(a[r * k + p]), Double(w[j * k + p]), Double(stored[j * k + p]))
                                exact += x * y
                                magnitude += abs(x * y)
                                switch precision {
                                case .int8: bound += abs(x) * Double(matrix.scales[j]) / 2 + abs(yq) * Double(sa) / 2
                                case .bf16: bound += abs(x * y) / 256 * (roundsActivations(kernel) ? 2 : 1)
                                case .fp32: break
                                }
                            }
                            let rounding = 1e-5 * (magnitude + abs(Double(b[j]))) + 1e-6
                            XCTAssertLessThanOrEqual(abs(Double(c[r * n + j]) - exact), bound + rounding,
                                                     "\(precision) \(kernel) (\(m), \(n), \(k)) [\(r), \(j)]")
                        }
                    }
                }
            }
        }
    }

    /// AVX512-BF16's product rounds the activations to bf16 as well.
    func roundsActivations(_ kernel: QuantizedKernel) -> Bool {
        if case .avx512(_, true) = kernel { return true }
        return false
    }

    func testBF16RoundsToNearestEven() {
        XCTAssertEqual(QuantizedReference.bf16(1), 0x3F80)
        XCTAssertEqual(QuantizedReference.bf16(Float(bitPattern: 0x3F80_8000)), 0x3F80, "a tie rounds to the even 0x3F80")
        XCTAssertEqual(QuantizedReference.bf16(Float(bitPattern: 0x3F81_8000)), 0x3F82, "a tie rounds to the even 0x3F82")
        XCTAssertEqual(QuantizedReference.bf16(Float(bitPattern: 0x3F80_8001)), 0x3F81, "above the tie rounds up")
        XCTAssertTrue(QuantizedReference.widen(QuantizedReference.bf16(.nan)).isNaN)
        XCTAssertEqual(QuantizedReference.widen(QuantizedReference.bf16(-2.5)), -2.5)
    }

    func testInt8RefusesDepthsWhoseSumsCouldOverflow() {
        XCTAssertThrowsError(try QuantizedMatrix(weight: [Float](repeating: 0, count: 131_073), rows: 1, depth: 131_073, bias: nil,
                                                 precision: .int8, kernel: .reference)) { error in
            XCTAssertEqual(error as? QuantizationError, .unsupported("int8 products take at most 131072 inputs, this one has 131073"))
        }
    }

    func testQuantizedLinearIsForInferenceOnly() throws {
        let linear = Linear<Float>(inputSize: 6, outputSize: 3, seed: 2)
        let quantized = try linear.quantized(.int8)
        var rng = RandomGenerator(seed: 3)
        let x = Tensor<Float>.normal([4, 6], generator: &rng, requiresGrad: true)
        XCTAssertThrowsError(try quantized(x)) { XCTAssertEqual($0 as? QuantizationError, .inferenceOnly) }
        let y = try quantized(Tensor<Float>.normal([2, 4, 6], generator: &rng))
        XCTAssertEqual(y.shape, [2, 4, 3])
    }
}
