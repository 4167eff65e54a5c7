import RecurrentNN
import RecurrentTensor

extension ONNXGraphBuilder {
    /// One read of `Attention` (every kind): scores of the query against every key, −∞ at padded positions,
    /// softmax over the source, and the weighted sum of the keys.
    /// - Parameters:
    ///   - query: (B, Q). - keys: (B, S, K). - lengths: (B) int64 valid source positions, in 1...S.
    /// - Returns: context (B, K) and weights (B, S).
    public func attention(_ attention: Attention<Float>, query: ONNXValue, keys: ONNXValue, lengths: ONNXValue,
                          name: String = "attention") -> (context: ONNXValue, weights: ONNXValue) {
        let raw: ONNXValue                                                                          // (B, S)
        switch attention.kind {
        case .bahdanau, .luongConcat:
            let projectedKeys: ONNXValue, q: ONNXValue                                              // (B, S, A), (B, A)
            if attention.kind == .bahdanau {
                projectedKeys = linear(attention.keyLayer!, keys, name: "\(name).key_layer")
                q = linear(attention.queryLayer!, query, name: "\(name).query_layer")
            } else {
                let (A, Q, K) = (attention.attentionSize, attention.querySize, attention.keySize)
                let w = attention.concatWeight!.scalars                                             // (A, Q + K)
                func columns(_ range: Range<Int>) -> [Float] {                                      // W[:, range]ᵀ, (range.count, A)
                    range.flatMap { j in (0..<A).map { a in w[a * (Q + K) + j] } }
                }
                q = matmul(query, constant(columns(0..<Q), shape: [Q, A], name: "\(name).weight_q_t"))
                projectedKeys = matmul(keys, constant(columns(Q..<(Q + K)), shape: [K, A], name: "\(name).weight_k_t"))
            }
            let energy = tanh(add(projectedKeys, unsqueeze(q, axes: [1])))                          // (B, S, A)
            raw = squeeze(linear(attention.energyLayer!, energy, name: "\(name).energy_layer"), axes: [2])
        case .luongDot:
            raw = squeeze(matmul(keys, unsqueeze(query, axes: [2])), axes: [2])                     // (B, S, K)(B, K, 1)
        case .luongGeneral:
            let projectedKeys = linear(attention.keyLayer!, keys, name: "\(name).key_layer")         // (B, S, Q)
            raw = squeeze(matmul(projectedKeys, unsqueeze(query, axes: [2])), axes: [2])
        }
        let padded = op("Not", validSteps(lengths: lengths, stepsOf: keys, stepAxis: 1, batchMajor: true))  // (B, S)
        let weights = softmax(self.where(padded, scalar(-Float.infinity), raw), axis: -1)          // (B, S)
        let context = squeeze(matmul(unsqueeze(weights, axes: [1]), keys), axes: [1])                // (B, 1, S)(B, S, K) → (B, K)
        return (context, weights)
    }
}
