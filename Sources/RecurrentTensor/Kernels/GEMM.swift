#if canImport(Accelerate)
import Accelerate
#else
import CBLAS
#endif
#if canImport(Glibc)
import Glibc
#endif

// The only file that calls BLAS. Every matrix product in the library goes through `gemm` here,
// so a second backend (a GPU) replaces this file's bodies and nothing else.

extension Float {
    @inlinable
    public static func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        if m == 0 || n == 0 { return }
        if m == 1, !transA, transB, alpha == 1, beta == 0 || beta == 1 {
            // One row times a transposed matrix (batch-1 Linear, sampling): the matrix–vector kernel of
            // GEMV.swift; OpenBLAS 0.3.21's sgemm packs both operands even for a single row.
            sgemvRows(b, ldw: ldb, a, c, n: n, k: k, accumulate: beta == 1)
            return
        }
        cblas_sgemm(
            CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}

extension Double {
    @inlinable
    public static func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Double,
        a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
        beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        if m == 0 || n == 0 { return }
        cblas_dgemm(
            CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}

/// Naive reference GEMM (row-major), kept next to the fast one so tests can check the BLAS path.
public func gemmNaive<S: TensorScalar>(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: S,
    a: UnsafePointer<S>, lda: Int, b: UnsafePointer<S>, ldb: Int,
    beta: S, c: UnsafeMutablePointer<S>, ldc: Int
) {
    for i in 0..<m {
        for j in 0..<n {
            var acc: S = 0
            for p in 0..<k {
                let av = transA ? a[p * lda + i] : a[i * lda + p]
                let bv = transB ? b[j * ldb + p] : b[p * ldb + j]
                acc += av * bv
            }
            c[i * ldc + j] = alpha * acc + (beta == 0 ? 0 : beta * c[i * ldc + j])
        }
    }
}

/// OpenBLAS's thread count, set around regions whose GEMMs run concurrently on several threads of
/// ours (each must then be single-threaded: OpenBLAS 0.3.21 has no per-call or per-thread count, so
/// this sets the global one for the duration of `body` and restores it). Accelerate: no effect.
public enum BLASThreads {
    /// Runs `body` with OpenBLAS limited to one thread and restores the previous count afterwards.
    @inline(__always)
    public static func singleThreaded<R>(_ body: () throws -> R) rethrows -> R {
        #if canImport(Accelerate)
        return try body()
        #else
        let previous = openblas_get_num_threads()
        if previous == 1 { return try body() }
        openblas_set_num_threads(1)
        defer { openblas_set_num_threads(previous) }
        return try body()
        #endif
    }

    /// Whether sgemm runs on one thread now (inside `singleThreaded`, or OpenBLAS set to one thread).
    /// Accelerate: false (it chooses its own threads).
    public static var isSingleThreaded: Bool {
        #if canImport(Accelerate)
        return false
        #else
        return openblas_get_num_threads() == 1
        #endif
    }

    /// The spin of OpenBLAS's idle worker threads, in log2 cycles, that programs of this package ask for.
    public static let idleSpinLog2Cycles = "4"
}
