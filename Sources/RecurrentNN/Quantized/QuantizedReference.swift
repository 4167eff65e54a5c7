// The portable reference of the int8 and bf16 products (CRecurrentKernels/avx2/QuantizedAVX2.c): plain loops
// in exact integer arithmetic (int8) or in the AVX2 kernel's own order of fp32 operations (bf16), so that the
// tests compare the two bit for bit. It also runs where the processor has no AVX2.

/// Reference kernels of QuantizedMatrix's products.
enum QuantizedReference {
    /// `rk_q8_quantize_rows`: row i of a (m, k) to q (m, kp; zeros past k), q = clamp(round(a / s) + z, 0, 127)
    /// with s = (max − min) / 127 over the row and 0 (1 when that is 0 or not finite), z = round(−min / s).
    static func quantizeRows(m: Int, k: Int, kp: Int, a: UnsafePointer<Float>, lda: Int, q: UnsafeMutablePointer<UInt8>, ldq: Int,
                             scale: UnsafeMutablePointer<Float>, zero: UnsafeMutablePointer<Int32>) {
        for i in 0..<m {
            let row = a + i * lda, out = q + i * ldq
            var mn: Float = 0, mx: Float = 0
            for p in 0..<k { if row[p] < mn { mn = row[p] }; if row[p] > mx { mx = row[p] } }
            var s = (mx - mn) / 127
            if !(s > 0) || !s.isFinite { s = 1 }
            let zf = (-mn / s).rounded(.toNearestOrEven)
            let z: Int32 = zf > 127 ? 127 : zf < 0 ? 0 : Int32(zf)
            scale[i] = s
            zero[i] = z
            for p in 0..<k {
                let v = (row[p] / s).rounded(.toNearestOrEven)
                let r = v.isNaN ? 0 : Int(Swift.max(-1e6, Swift.min(1e6, v))) + Int(z)
                out[p] = UInt8(Swift.max(0, Swift.min(127, r)))
            }
            for p in k..<kp { out[p] = 0 }
        }
    }

    /// `rk_q8_gemm`: c[i, j] = Float(Σ_p a[i, p]·w[j, p] − z_i·wsum_j) · (s_i · ws_j) + bias_j.
    static func q8Product(m: Int, n: Int, kp: Int, a: UnsafePointer<UInt8>, lda: Int, ascale: UnsafePointer<Float>,
                          azero: UnsafePointer<Int32>, w: UnsafePointer<Int8>, ldw: Int, wscale: UnsafePointer<Float>,
                          wsum: UnsafePointer<Int32>, bias: UnsafePointer<Float>?, c: UnsafeMutablePointer<Float>, ldc: Int) {
        for i in 0..<m {
            for j in 0..<n {
                var sum: Int32 = 0
                for p in 0..<kp { sum &+= Int32(a[i * lda + p]) * Int32(w[j * ldw + p]) }
                let exact = Int64(sum) - Int64(azero[i]) * Int64(wsum[j])
                let v = Float(exact) * (ascale[i] * wscale[j])
                c[i * ldc + j] = bias.map { v + $0[j] } ?? v
            }
        }
    }

    /// `rk_bf16_gemm`: eight lane sums (lane l takes p ≡ l mod 8, fused multiply–add in p order), added as
    /// (l0+l4, l1+l5, l2+l6, l3+l7) → (x0+x2, x1+x3) → sum, then the bias.
    static func bf16Product(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, w: UnsafePointer<UInt16>, ldw: Int,
                            bias: UnsafePointer<Float>?, c: UnsafeMutablePointer<Float>, ldc: Int) {
        for i in 0..<m {
            for j in 0..<n {
                var lanes = [Float](repeating: 0, count: 8)
                for p in 0..<k { lanes[p & 7] = lanes[p & 7].addingProduct(a[i * lda + p], widen(w[j * ldw + p])) }
                let x = (0..<4).map { lanes[$0] + lanes[$0 + 4] }
                let y0 = x[0] + x[2], y1 = x[1] + x[3]
                let v = y0 + y1
                c[i * ldc + j] = bias.map { v + $0[j] } ?? v
            }
        }
    }

    /// The fp32 value of a bfloat16.
    @inline(__always) static func widen(_ b: UInt16) -> Float { Float(bitPattern: UInt32(b) << 16) }

    /// The bfloat16 nearest to `x` (ties to even); NaN stays a (quiet) NaN.
    static func bf16(_ x: Float) -> UInt16 {
        let bits = x.bitPattern
        if x.isNaN { return UInt16(bits >> 16) | 0x40 }
        let rounded = bits &+ 0x7FFF &+ ((bits >> 16) & 1)
        return UInt16(rounded >> 16)
    }
}
