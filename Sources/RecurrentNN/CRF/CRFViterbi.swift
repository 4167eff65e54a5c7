import RecurrentTensor

// Viterbi decoding of a linear-chain CRF: the highest-scoring tag path of each sequence, with the same
// scores (and constraint penalties) as the likelihood. pytorch-crf's `_viterbi_decode`, per sequence:
//   δ_0(j) = s_j + e_0(j)
//   δ_t(j) = max_i (δ_{t−1}(i) + A_ij) + e_t(j),   ψ_t(j) = argmax_i (first on ties)
//   y_{L−1} = argmax_j (δ_{L−1}(j) + n_j), then y_{t−1} = ψ_t(y_t).

extension CRFScores {
    /// - Parameters:
    ///   - emissions: (T, B, K).
    ///   - lengths: (B), each in 1...T.
    /// - Returns: B paths, path b of length `lengths[b]`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    func viterbi(_ emissions: UnsafePointer<Scalar>, steps T: Int, batch B: Int, lengths: [Int]) -> [[Int]] {
        let K = k
        var delta = [Scalar](repeating: 0, count: K), next = delta      // (K)
        var history = [Int](repeating: 0, count: T * K)                   // (T, K) ψ
        return (0..<B).map { b in
            let L = lengths[b]
            for j in 0..<K { delta[j] = start[j] + emissions[b * K + j] }
            for t in 1..<Swift.max(L, 1) {
                let e = emissions + (t * B + b) * K
                for j in 0..<K {
                    var best = 0, bestScore = delta[0] + transitions[j]
                    for i in 1..<K {
                        let s = delta[i] + transitions[i * K + j]
                        if s > bestScore { (best, bestScore) = (i, s) }
                    }
                    next[j] = bestScore + e[j]
                    history[t * K + j] = best
                }
                swap(&delta, &next)
            }
            var y = 0, bestScore = delta[0] + end[0]
            for j in 1..<K where delta[j] + end[j] > bestScore { (y, bestScore) = (j, delta[j] + end[j]) }
            var path = [Int](repeating: 0, count: L)
            path[L - 1] = y
            for t in stride(from: L - 1, to: 0, by: -1) {
                y = history[t * K + y]
                path[t - 1] = y
            }
            return path
        }
    }
}
