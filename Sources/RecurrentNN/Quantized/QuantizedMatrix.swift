import CRecurrentKernels
import RecurrentTensor

/// Which kernels run the quantized products: the AVX2 ones (CRecurrentKernels/avx2/QuantizedAVX2.c) where the
/// processor has AVX2 + FMA, with AVX-512 VNNI's int8 product (bit-identical) and AVX512-BF16's bf16 product
/// (which rounds the activations to bf16 too) where it has those (avx512/QuantizedAVX512.c), else the portable
/// reference (QuantizedReference.swift). Chosen when a model is quantized; tests build each and compare them.
enum QuantizedKernel: Sendable, Equatable {
    case reference, avx2
    /// AVX2 for the activations' quantization, and the AVX-512 products the processor has.
    case avx512(vnni: Bool, bf16: Bool)

    /// The kernels of `InstructionSet.selected` (so `RECURRENT_ISA` chooses them too), read once: the reference on
    /// the generic path, AVX2's on avx2, and on avx512 the AVX-512 products the processor has (VNNI, BF16).
    static let selected: QuantizedKernel = {
        switch InstructionSet.selected {
        case .generic: return .reference
        case .avx2: return .avx2
        case .avx512:
            let (vnni, bf16) = (InstructionSet.features.contains(.avx512VNNI), InstructionSet.features.contains(.avx512BF16))
            return vnni || bf16 ? .avx512(vnni: vnni, bf16: bf16) : .avx2
        }
    }()

    /// Not the reference: the C kernels run.
    var isNative: Bool { self != .reference }
    /// The instruction set of the fp32 products beside these kernels (the generic path with the reference).
    var instructionSet: InstructionSet {
        switch self {
        case .reference: .generic
        case .avx2: .avx2
        case .avx512: .avx512
        }
    }
}

/// A weight matrix W (N, K) and optional bias b (N), stored once at one precision for inference products
/// y = x·Wᵀ + b (QuantizedLinear, QuantizedRecurrentNetwork). No gradients: it is built from a trained
/// tensor and never changes.
///
/// Storage: fp32 as given; bf16 rows of `stride` (K rounded up to 8, zero-padded) values; int8 rows of
/// `stride` (K rounded up to 32, zero-padded) s8 values q = round(w / s) with s = max |w_row| / 127, plus each
/// row's scale and Σ q (which removes the activations' zero point from the integer sums).
public struct QuantizedMatrix: Sendable {
    /// The precision the weights are stored in.
    public let precision: Precision
    /// N (outputs) and K (inputs).
    public let rows: Int, depth: Int
    /// Values per stored row (K, or K padded for the kernel).
    let stride: Int
    let kernel: QuantizedKernel
    let float: [Float]          // fp32: (N, K)
    let bf16: [UInt16]          // bf16: (N, stride)
    let int8: [Int8]            // int8: (N, stride)
    let scales: [Float]         // int8: (N)
    let sums: [Int32]           // int8: (N)
    let bias: [Float]?          // (N)

    /// Largest K of an int8 product: int32 sums of 127 · 127 products stay exact up to 2³¹ / 127² ≈ 133 000.
    public static let maximumInt8Depth = 131_072

    /// Stores `weight` (N, K) and `bias` (N) at `precision`.
    /// - Throws: `QuantizationError.unsupported` when an int8 K exceeds `maximumInt8Depth`.
    public init(weight: Tensor<Float>, bias: Tensor<Float>?, precision: Precision) throws {
        precondition(weight.rank == 2, "QuantizedMatrix: weight must be 2-D (N, K), got \(weight.shape)")
        try self.init(weight: Array(UnsafeBufferPointer(start: weight.data, count: weight.count)), rows: weight.shape[0],
                      depth: weight.shape[1], bias: bias.map { Array(UnsafeBufferPointer(start: $0.data, count: $0.count)) },
                      precision: precision, kernel: .selected)
    }

    init(weight w: [Float], rows n: Int, depth k: Int, bias: [Float]?, precision: Precision, kernel: QuantizedKernel) throws {
        precondition(w.count == n * k && (bias?.count ?? n) == n, "QuantizedMatrix: \(w.count) weights for (\(n), \(k)), bias \(bias?.count ?? n)")
        (self.precision, rows, depth, self.bias, self.kernel) = (precision, n, k, bias, kernel)
        switch precision {
        case .fp32:
            (stride, float, bf16, int8, scales, sums) = (k, w, [], [], [], [])
        case .bf16:
            let s = (k + 7) & ~7
            var b = [UInt16](repeating: 0, count: n * s)
            for j in 0..<n { for p in 0..<k { b[j * s + p] = QuantizedReference.bf16(w[j * k + p]) } }
            (stride, float, bf16, int8, scales, sums) = (s, [], b, [], [], [])
        case .int8:
            let s = (k + 31) & ~31
            guard s <= Self.maximumInt8Depth else {
                throw QuantizationError.unsupported("int8 products take at most \(Self.maximumInt8Depth) inputs, this one has \(k)")
            }
            var q = [Int8](repeating: 0, count: n * s), scale = [Float](repeating: 1, count: n), sum = [Int32](repeating: 0, count: n)
            for j in 0..<n {
                var largest: Float = 0
                for p in 0..<k { largest = Swift.max(largest, abs(w[j * k + p])) }
                let sj = largest > 0 && largest.isFinite ? largest / 127 : 1
                scale[j] = sj
                for p in 0..<k {
                    let v = (w[j * k + p] / sj).rounded(.toNearestOrEven)
                    q[j * s + p] = v.isNaN ? 0 : Int8(Swift.max(-127, Swift.min(127, v)))
                    sum[j] += Int32(q[j * s + p])
                }
            }
            (stride, float, bf16, int8, scales, sums) = (s, [], [], q, scale, sum)
        }
    }

    /// Bytes the weights take (without the bias): what a batch-1 product reads per call.
    public var weightBytes: Int { float.count * 4 + bf16.count * 2 + int8.count + scales.count * 4 + sums.count * 4 }

    /// The weights as the product sees them, (N, K) in fp32: W itself, its bf16 rounding, or q·s.
    public func dequantized() -> [Float] {
        switch precision {
        case .fp32: return float
        case .bf16: return (0..<(rows * depth)).map { QuantizedReference.widen(bf16[($0 / depth) * stride + $0 % depth]) }
        case .int8: return (0..<(rows * depth)).map { Float(int8[($0 / depth) * stride + $0 % depth]) * scales[$0 / depth] }
        }
    }

    /// C (m, N; row stride ldc) = A (m, K; row stride lda) · Wᵀ + b, overwriting C. Quantizes A's rows first
    /// at int8 (into `scratch`, grown as needed).
    func product(m: Int, a: UnsafePointer<Float>, lda: Int, c: UnsafeMutablePointer<Float>, ldc: Int, scratch: QuantizedScratch) {
        guard m > 0 else { return }
        let (n, k) = (rows, depth)
        bias.withUnsafeBufferPointerIfAny { bp in
            switch precision {
            case .fp32:
                float.withUnsafeBufferPointer { w in
                    productWithTransposed(m: m, n: n, k: k, a: a, lda: lda, b: w.baseAddress!, ldb: k, c: c, ldc: ldc,
                                          instructionSet: kernel.instructionSet)
                }
                if let bp { for i in 0..<m { for j in 0..<n { c[i * ldc + j] += bp[j] } } }
            case .bf16:
                bf16.withUnsafeBufferPointer { w in
                    if case .avx512(_, true) = kernel {
                        rk_bf16_gemm_avx512(m, n, k, a, lda, w.baseAddress!, stride, bp, c, ldc)
                    } else if kernel.isNative {
                        rk_bf16_gemm(m, n, k, a, lda, w.baseAddress!, stride, bp, c, ldc)
                    } else {
                        QuantizedReference.bf16Product(m: m, n: n, k: k, a: a, lda: lda, w: w.baseAddress!, ldw: stride, bias: bp, c: c, ldc: ldc)
                    }
                }
            case .int8:
                let (q, s, z) = scratch.reserve(rows: m, stride: stride)
                int8.withUnsafeBufferPointer { w in
                    scales.withUnsafeBufferPointer { ws in
                        sums.withUnsafeBufferPointer { wsum in
                            if kernel.isNative {
                                rk_q8_quantize_rows(m, k, stride, a, lda, q, stride, s, z)
                                let gemm = kernel == .avx512(vnni: true, bf16: false) || kernel == .avx512(vnni: true, bf16: true)
                                    ? rk_q8_gemm_vnni : rk_q8_gemm
                                gemm(m, n, stride, q, stride, s, z, w.baseAddress!, stride, ws.baseAddress!, wsum.baseAddress!, bp, c, ldc)
                            } else {
                                QuantizedReference.quantizeRows(m: m, k: k, kp: stride, a: a, lda: lda, q: q, ldq: stride, scale: s, zero: z)
                                QuantizedReference.q8Product(m: m, n: n, kp: stride, a: q, lda: stride, ascale: s, azero: z, w: w.baseAddress!,
                                                             ldw: stride, wscale: ws.baseAddress!, wsum: wsum.baseAddress!, bias: bp, c: c, ldc: ldc)
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The quantized rows of A (m, stride) with their scales and zero points: one per forward call, reused by
/// every product of the call (not shared between threads).
final class QuantizedScratch {
    private(set) var q = UnsafeMutablePointer<UInt8>.allocate(capacity: 0)
    private(set) var scale = UnsafeMutablePointer<Float>.allocate(capacity: 0)
    private(set) var zero = UnsafeMutablePointer<Int32>.allocate(capacity: 0)
    private var bytes = 0, rowCapacity = 0

    init() {}

    /// Room for `rows` rows of `stride` bytes.
    func reserve(rows: Int, stride: Int) -> (UnsafeMutablePointer<UInt8>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Int32>) {
        if rows * stride > bytes {
            q.deallocate()
            bytes = rows * stride
            q = .allocate(capacity: bytes)
        }
        if rows > rowCapacity {
            scale.deallocate(); zero.deallocate()
            rowCapacity = rows
            (scale, zero) = (.allocate(capacity: rows), .allocate(capacity: rows))
        }
        return (q, scale, zero)
    }

    deinit { q.deallocate(); scale.deallocate(); zero.deallocate() }
}

extension Optional where Wrapped == [Float] {
    /// The array's base address, or nil when there is no array.
    func withUnsafeBufferPointerIfAny<R>(_ body: (UnsafePointer<Float>?) -> R) -> R {
        switch self {
        case .some(let array): array.withUnsafeBufferPointer { body($0.baseAddress) }
        case .none: body(nil)
        }
    }
}
