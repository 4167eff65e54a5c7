import CRecurrentKernels

// Matrix–vector product for batch-1 steps (sampling, streaming inference). OpenBLAS 0.3.21's sgemm
// does not forward m = 1 to its gemv and reaches ~5 GFLOP/s there; this SIMD kernel reads each weight
// once, four rows at a time, and splits the rows over two cores (PairParallel) when the matrix is large
// enough that the split pays for the hand-off. Naive reference: `gemmNaive` with m = 1.

/// y (N) = W (N, K) · x (K), or y += W · x when `accumulate`. W is row-major with leading dimension `ldw`.
/// `instructionSet`: whose kernel runs (CRecurrentKernels/avx2 or avx512's `sgemv_rows`, or the Swift one below for
/// `.generic`); by default `InstructionSet.selected`. It must be one this processor supports (tests compare them).
public func sgemvRows(_ w: UnsafePointer<Float>, ldw: Int, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                      n: Int, k: Int, accumulate: Bool, instructionSet: InstructionSet = .selected) {
    precondition(instructionSet.isSupported, "sgemvRows: this processor does not support \(instructionSet)")
    let work = n * k
    let chunks = work >= 1 << 18 ? 2 : 1                        // ≥ 1 MiB of weights: two threads
    if chunks == 1 {
        gemvRowRange(w, ldw, x, y, 0..<n, k, accumulate, instructionSet)
        return
    }
    let rowsPer = ((n + chunks - 1) / chunks + 3) & ~3
    // Two parts on the pair helper thread (PairParallel.swift); unsplit when it is busy.
    let split = PairParallel.run { part in
        let lo = part * rowsPer, hi = Swift.min(n, lo + rowsPer)
        if lo < hi { gemvRowRange(w, ldw, x, y, lo..<hi, k, accumulate, instructionSet) }
    }
    if !split { gemvRowRange(w, ldw, x, y, 0..<n, k, accumulate, instructionSet) }
}

@inline(__always)
func gemvRowRange(_ w: UnsafePointer<Float>, _ ldw: Int, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                  _ rows: Range<Int>, _ k: Int, _ accumulate: Bool, _ path: InstructionSet) {
    switch path {
    case .avx512: return rk_avx512_sgemv_rows(w, ldw, x, y, rows.lowerBound, rows.upperBound, k, accumulate ? 1 : 0)
    case .avx2: return rk_sgemv_rows(w, ldw, x, y, rows.lowerBound, rows.upperBound, k, accumulate ? 1 : 0)
    case .generic: break
    }
    let k8 = k & ~7
    var r = rows.lowerBound
    while r + 4 <= rows.upperBound {
        let w0 = w + r * ldw, w1 = w0 + ldw, w2 = w1 + ldw, w3 = w2 + ldw
        var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
        var j = 0
        while j < k8 {
            let xv = UnsafeRawPointer(x + j).loadUnaligned(as: SIMD8<Float>.self)
            a0 += UnsafeRawPointer(w0 + j).loadUnaligned(as: SIMD8<Float>.self) * xv
            a1 += UnsafeRawPointer(w1 + j).loadUnaligned(as: SIMD8<Float>.self) * xv
            a2 += UnsafeRawPointer(w2 + j).loadUnaligned(as: SIMD8<Float>.self) * xv
            a3 += UnsafeRawPointer(w3 + j).loadUnaligned(as: SIMD8<Float>.self) * xv
            j += 8
        }
        var s0 = a0.sum(), s1 = a1.sum(), s2 = a2.sum(), s3 = a3.sum()
        while j < k { s0 += w0[j] * x[j]; s1 += w1[j] * x[j]; s2 += w2[j] * x[j]; s3 += w3[j] * x[j]; j += 1 }
        if accumulate { y[r] += s0; y[r + 1] += s1; y[r + 2] += s2; y[r + 3] += s3 }
        else { y[r] = s0; y[r + 1] = s1; y[r + 2] = s2; y[r + 3] = s3 }
        r += 4
    }
    while r < rows.upperBound {
        let w0 = w + r * ldw
        var a0 = SIMD8<Float>()
        var j = 0
        while j < k8 {
            a0 += UnsafeRawPointer(w0 + j).loadUnaligned(as: SIMD8<Float>.self) * UnsafeRawPointer(x + j).loadUnaligned(as: SIMD8<Float>.self)
            j += 8
        }
        var s0 = a0.sum()
        while j < k { s0 += w0[j] * x[j]; j += 1 }
        if accumulate { y[r] += s0 } else { y[r] = s0 }
        r += 1
    }
}
