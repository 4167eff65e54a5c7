import RecurrentTensor

// Negative log-likelihood of a linear-chain CRF: forward algorithm in log space, and its backward by
// the forward–backward marginals, side by side.
//
// For one sequence of length L with emissions e_t (K), start s, end n, transitions A (K, K):
//   α_0(j) = s_j + e_0(j)
//   α_t(j) = logΣ_i exp(α_{t−1}(i) + A_ij) + e_t(j)                 t = 1 … L−1
//   log Z  = logΣ_j exp(α_{L−1}(j) + n_j)
//   score(y) = s_{y_0} + Σ_t e_t(y_t) + Σ_{t≥1} A_{y_{t−1} y_t} + n_{y_{L−1}}
//   NLL = log Z − score(y)
// Backward: β_{L−1}(i) = n_i, β_{t−1}(i) = logΣ_j exp(A_ij + e_t(j) + β_t(j)), and
//   ∂ log Z / ∂e_t(j) = P(y_t = j) = exp(α_t(j) + β_t(j) − log Z)
//   ∂ log Z / ∂A_ij   = Σ_t P(y_{t−1} = i, y_t = j) = Σ_t exp(α_{t−1}(i) + A_ij + e_t(j) + β_t(j) − log Z)
//   ∂ log Z / ∂s_j = P(y_0 = j),  ∂ log Z / ∂n_i = P(y_{L−1} = i)
// minus 1 at the gold path's emissions and transitions. Every log-sum-exp subtracts its maximum first.

/// The scores a CRF pass reads: the parameters with the constraint penalties added, as flat arrays.
struct CRFScores<Scalar: TensorScalar> {
    let k: Int
    let start: [Scalar]        // (K)
    let end: [Scalar]          // (K)
    let transitions: [Scalar]  // (K, K): from row i to column j

    init(start: Tensor<Scalar>, end: Tensor<Scalar>, transitions: Tensor<Scalar>, constraints: TransitionConstraints?) {
        k = start.count
        var s = start.scalars, e = end.scalars, a = transitions.scalars
        if let c = constraints {
            let p = Scalar(TransitionConstraints.penalty)
            for j in 0..<k where !c.allowedStart[j] { s[j] += p }
            for j in 0..<k where !c.allowedEnd[j] { e[j] += p }
            for ij in 0..<(k * k) where !c.allowed[ij] { a[ij] += p }
        }
        (self.start, self.end, self.transitions) = (s, e, a)
    }
}

/// What the forward algorithm leaves for the backward.
struct CRFForward<Scalar: TensorScalar> {
    /// (T, B, K) log α; rows past a sequence's length are unused.
    let alpha: [Scalar]
    /// (B) log Z of each sequence.
    let logPartition: [Scalar]
    /// (B) score of each gold path.
    let goldScore: [Scalar]
}

extension CRFScores {
    /// log Σ_i exp(x_i) over `count` values at stride `stride`, maximum subtracted first.
    @inline(__always)
    static func logSumExp(_ count: Int, _ value: (Int) -> Scalar) -> Scalar {
        var m = -Scalar.infinity
        for i in 0..<count { m = Swift.max(m, value(i)) }
        var sum: Scalar = 0
        for i in 0..<count { sum += Scalar.exp(value(i) - m) }
        return m + Scalar.log(sum)
    }

    /// The forward algorithm over every sequence, and the gold paths' scores.
    /// - Parameters:
    ///   - emissions: (T, B, K).
    ///   - tags: (T, B) gold tags, row-major; entries past a sequence's length are not read.
    ///   - lengths: (B), each in 1...T.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    func forward(_ emissions: UnsafePointer<Scalar>, tags: [Int], steps T: Int, batch B: Int, lengths: [Int]) -> CRFForward<Scalar> {
        let K = k
        var alpha = [Scalar](repeating: 0, count: T * B * K)
        var logZ = [Scalar](repeating: 0, count: B), gold = logZ
        transitions.withUnsafeBufferPointer { A in
            alpha.withUnsafeMutableBufferPointer { alpha in
                for b in 0..<B {
                    let L = lengths[b]
                    let e0 = emissions + b * K, a0 = alpha.baseAddress! + b * K
                    for j in 0..<K { a0[j] = start[j] + e0[j] }
                    for t in 1..<Swift.max(L, 1) {
                        let prev = alpha.baseAddress! + ((t - 1) * B + b) * K
                        let cur = alpha.baseAddress! + (t * B + b) * K
                        let e = emissions + (t * B + b) * K
                        for j in 0..<K {
                            cur[j] = Self.logSumExp(K) { i in prev[i] + A[i * K + j] } + e[j]
                        }
                    }
                    let last = alpha.baseAddress! + ((L - 1) * B + b) * K
                    logZ[b] = Self.logSumExp(K) { j in last[j] + end[j] }

                    var y = tags[b]
                    var score = start[y] + e0[y]
                    for t in 1..<Swift.max(L, 1) {
                        let next = tags[t * B + b]
                        score += A[y * K + next] + emissions[(t * B + b) * K + next]
                        y = next
                    }
                    gold[b] = score + end[y]
                }
            }
        }
        return CRFForward(alpha: alpha, logPartition: logZ, goldScore: gold)
    }

    /// Accumulates `weight[b]` · ∂NLL_b/∂(inputs) into the gradients, by the backward recursion and the marginals.
    /// - Parameters:
    ///   - weights: (B) ∂loss/∂NLL_b from the reduction and the upstream gradient.
    ///   - dEmissions: (T, B, K), nil when not needed.
    ///   - dStart, dEnd: (K); dTransitions: (K, K); nil when not needed.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    func backward(_ emissions: UnsafePointer<Scalar>, tags: [Int], steps T: Int, batch B: Int, lengths: [Int],
                  saved: CRFForward<Scalar>, weights: [Scalar],
                  dEmissions: UnsafeMutablePointer<Scalar>?, dStart: UnsafeMutablePointer<Scalar>?,
                  dEnd: UnsafeMutablePointer<Scalar>?, dTransitions: UnsafeMutablePointer<Scalar>?) {
        let K = k
        var beta = [Scalar](repeating: 0, count: K), previousBeta = beta   // (K) β_t, β_{t−1}
        transitions.withUnsafeBufferPointer { A in
            saved.alpha.withUnsafeBufferPointer { alpha in
                for b in 0..<B where weights[b] != 0 {
                    let L = lengths[b], w = weights[b], logZ = saved.logPartition[b]
                    for i in 0..<K { beta[i] = end[i] }
                    for t in stride(from: L - 1, through: 0, by: -1) {
                        let a = alpha.baseAddress! + (t * B + b) * K
                        // Unary marginals P(y_t = j).
                        if let dE = dEmissions {
                            let g = dE + (t * B + b) * K
                            for j in 0..<K { g[j] += w * Scalar.exp(a[j] + beta[j] - logZ) }
                        }
                        if t == 0, let dS = dStart {
                            for j in 0..<K { dS[j] += w * Scalar.exp(a[j] + beta[j] - logZ) }
                        }
                        if t == L - 1, let dN = dEnd {
                            for j in 0..<K { dN[j] += w * Scalar.exp(a[j] + beta[j] - logZ) }
                        }
                        guard t > 0 else { break }
                        // Pairwise marginals P(y_{t−1} = i, y_t = j) and β_{t−1}.
                        let ap = alpha.baseAddress! + ((t - 1) * B + b) * K
                        let e = emissions + (t * B + b) * K
                        for i in 0..<K {
                            previousBeta[i] = Self.logSumExp(K) { j in A[i * K + j] + e[j] + beta[j] }
                            if let dA = dTransitions {
                                for j in 0..<K { dA[i * K + j] += w * Scalar.exp(ap[i] + A[i * K + j] + e[j] + beta[j] - logZ) }
                            }
                        }
                        swap(&beta, &previousBeta)
                    }
                    // The gold path's score enters with a minus sign.
                    var y = tags[b]
                    dStart?[y] -= w
                    dEmissions?[b * K + y] -= w
                    for t in 1..<Swift.max(L, 1) {
                        let next = tags[t * B + b]
                        dTransitions?[y * K + next] -= w
                        dEmissions?[(t * B + b) * K + next] -= w
                        y = next
                    }
                    dEnd?[y] -= w
                }
            }
        }
    }
}
