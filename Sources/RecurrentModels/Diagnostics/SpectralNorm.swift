import RecurrentTensor

/// The largest singular values of a matrix by power iteration on AᵀA with deflation.
///
/// σ₁ = max ‖Av‖ over unit v: iterating v ← AᵀA v / ‖AᵀA v‖ converges to the top right singular
/// vector at rate (σ₂/σ₁)², and ‖Av‖ to σ₁. Each further value repeats this with v kept orthogonal to
/// the vectors already found (Gram–Schmidt), which is exact deflation because AᵀA is symmetric.
/// Computed in Double whatever the tensor's element type; the start vectors come from a fixed seed,
/// so the result is deterministic.
/// - Parameters:
///   - matrix: (M, N), rank 2.
///   - count: how many values, at most min(M, N).
///   - iterations: the most power steps per value.
///   - tolerance: stop when σ changes by less than this, relative.
/// - Returns: `count` values, largest first.
public func largestSingularValues<Scalar: TensorScalar>(of matrix: Tensor<Scalar>, count: Int = 1, iterations: Int = 1000,
                                                        tolerance: Double = 1e-12) -> [Double] {
    precondition(matrix.rank == 2, "largestSingularValues: the matrix must be 2-D, got \(matrix.shape)")
    let (m, n) = (matrix.shape[0], matrix.shape[1])
    precondition(count >= 0 && count <= min(m, n), "largestSingularValues: \(count) values of a \(m)×\(n) matrix")
    let a = matrix.scalars.map(Double.init)                          // (M, N) row-major
    var generator = RandomGenerator(seed: 0x5EED)
    var found: [[Double]] = []                                        // right singular vectors found so far, each (N)
    var values: [Double] = []

    // ‖AᵀA v‖ ≤ ‖A‖²_F for unit v: anything far below that is rounding noise, and the values left are 0.
    let frobeniusSquared = a.reduce(0) { $0 + $1 * $1 }
    func normalised(_ v: [Double], floor: Double) -> [Double]? {
        let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return norm > floor && norm.isFinite ? v.map { $0 / norm } : nil
    }
    func orthogonalised(_ v: [Double]) -> [Double] {
        var v = v
        for _ in 0..<2 {                                                  // twice: Gram–Schmidt loses orthogonality once
            for u in found {
                let dot = zip(u, v).reduce(0) { $0 + $1.0 * $1.1 }
                for j in 0..<n { v[j] -= dot * u[j] }
            }
        }
        return v
    }
    func times(_ v: [Double]) -> [Double] {                           // A v: (M)
        (0..<m).map { i in var s = 0.0; for j in 0..<n { s += a[i * n + j] * v[j] }; return s }
    }
    func transposedTimes(_ u: [Double]) -> [Double] {                 // Aᵀ u: (N)
        var r = [Double](repeating: 0, count: n)
        for i in 0..<m { let ui = u[i]; for j in 0..<n { r[j] += a[i * n + j] * ui } }
        return r
    }

    for _ in 0..<count {
        let start = (0..<n).map { _ in generator.nextNormal(Double.self) }
        guard var v = normalised(orthogonalised(start), floor: 0) else { values.append(0); continue }
        var sigma = 0.0
        for _ in 0..<iterations {
            let av = times(v)
            let next = sigma
            sigma = av.reduce(0) { $0 + $1 * $1 }.squareRoot()
            // A rank-deficient remainder: every further value is 0.
            guard let w = normalised(orthogonalised(transposedTimes(av)), floor: 1e-13 * frobeniusSquared) else { sigma = 0; break }
            v = w
            if abs(sigma - next) <= tolerance * max(sigma, Double.leastNormalMagnitude) { break }
        }
        // One last value for the converged vector (none left when the remainder is rounding noise).
        if sigma > 0 { sigma = times(v).reduce(0) { $0 + $1 * $1 }.squareRoot() }
        values.append(sigma)
        found.append(v)
    }
    return values
}
