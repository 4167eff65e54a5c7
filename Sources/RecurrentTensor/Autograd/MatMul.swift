// Matrix products through the GEMM wrapper: matmul (2-D, or N-D × 2-D over the last axis) and
// batched matmul (B, M, K)·(B, K, N).

extension Tensor {
    /// `self` (…, K) · `other` (K, N) → (…, N); leading dimensions of `self` are flattened into rows.
    /// `transposeOther` multiplies by otherᵀ for an `other` stored (N, K), as `Linear` stores its weight.
    public func matmul(_ other: Tensor, transposeOther: Bool = false) -> Tensor {
        precondition(rank >= 1 && other.rank == 2, "matmul: shapes \(shape) and \(other.shape): right operand must be 2-D")
        let k = shape[rank - 1]
        let (kb, n) = transposeOther ? (other.shape[1], other.shape[0]) : (other.shape[0], other.shape[1])
        checkShapes(transposeOther ? "matmul(transposeOther)" : "matmul", shape, other.shape, k == kb)
        let m = count / Swift.max(k, 1)
        let outShape = Array(shape.dropLast()) + [n]
        let out = Tensor(zeros: outShape)
        if k > 0 {
            Scalar.gemm(transA: false, transB: transposeOther, m: m, n: n, k: k, alpha: 1,
                        a: data, lda: k, b: other.data, ldb: other.shape[1], beta: 0, c: out.data, ldc: n)
        }
        return Tensor.record("matmul", inputs: [self, other], output: out) { [self] g in
            var ga: Tensor?, gb: Tensor?
            if requiresGrad {
                // dA (M,K) = dC (M,N) · op(B)ᵀ
                let r = Tensor(zeros: shape)
                Scalar.gemm(transA: false, transB: !transposeOther, m: m, n: k, k: n, alpha: 1,
                            a: g.data, lda: n, b: other.data, ldb: other.shape[1], beta: 0, c: r.data, ldc: k)
                ga = r
            }
            if other.requiresGrad {
                let r = Tensor(zeros: other.shape)
                if transposeOther {
                    // dB (N,K) = dCᵀ (N,M) · A (M,K)
                    Scalar.gemm(transA: true, transB: false, m: n, n: k, k: m, alpha: 1,
                                a: g.data, lda: n, b: data, ldb: k, beta: 0, c: r.data, ldc: k)
                } else {
                    // dB (K,N) = Aᵀ (K,M) · dC (M,N)
                    Scalar.gemm(transA: true, transB: false, m: k, n: n, k: m, alpha: 1,
                                a: data, lda: k, b: g.data, ldb: n, beta: 0, c: r.data, ldc: n)
                }
                gb = r
            }
            return [ga, gb]
        }
    }

    /// Batched product: (B, M, K) · (B, K, N) → (B, M, N).
    public func bmm(_ other: Tensor) -> Tensor {
        precondition(rank == 3 && other.rank == 3, "bmm: shapes \(shape) and \(other.shape) must both be 3-D")
        let (b, m, k, n) = (shape[0], shape[1], shape[2], other.shape[2])
        checkShapes("bmm", shape, other.shape, other.shape[0] == b && other.shape[1] == k)
        let out = Tensor(zeros: [b, m, n])
        for i in 0..<b where k > 0 {
            Scalar.gemm(transA: false, transB: false, m: m, n: n, k: k, alpha: 1,
                        a: data + i * m * k, lda: k, b: other.data + i * k * n, ldb: n, beta: 0, c: out.data + i * m * n, ldc: n)
        }
        return Tensor.record("bmm", inputs: [self, other], output: out) { [self] g in
            var ga: Tensor?, gb: Tensor?
            if requiresGrad {
                let r = Tensor(zeros: shape)
                for i in 0..<b where n > 0 {
                    Scalar.gemm(transA: false, transB: true, m: m, n: k, k: n, alpha: 1,
                                a: g.data + i * m * n, lda: n, b: other.data + i * k * n, ldb: n, beta: 0, c: r.data + i * m * k, ldc: k)
                }
                ga = r
            }
            if other.requiresGrad {
                let r = Tensor(zeros: other.shape)
                for i in 0..<b where m > 0 {
                    Scalar.gemm(transA: true, transB: false, m: k, n: n, k: m, alpha: 1,
                                a: data + i * m * k, lda: k, b: g.data + i * m * n, ldb: n, beta: 0, c: r.data + i * k * n, ldc: n)
                }
                gb = r
            }
            return [ga, gb]
        }
    }
}
