import RecurrentTensor

/// Attention pooling over time (Yang et al. 2016, "Hierarchical Attention Networks"): each step's output is
/// scored by `v · tanh(W o_t + b)`, the scores are softmaxed over the valid steps of each sequence, and the
/// pooled vector is the weighted sum of the outputs. Unlike max or mean pooling it learns which steps matter
/// (a spectral band, a phase of a gesture), and the weights can be read back.
/// Parameter names: `projection.weight`, `projection.bias`, `score.weight`.
public final class AttentionPooling: Module<Float> {
    /// W and b of the step scores, (A, H) and (A) (`projection`).
    public let projection: Linear<Float>
    /// v of the step scores, (1, A), no bias (`score`).
    public let score: Linear<Float>

    /// - Parameters:
    ///   - inputSize: width of each step's output (D·H).
    ///   - attentionSize: width of the scoring layer A.
    public init(inputSize: Int, attentionSize: Int, generator: inout RandomGenerator) {
        projection = Linear(inputSize: inputSize, outputSize: attentionSize, generator: &generator)
        score = Linear(inputSize: attentionSize, outputSize: 1, bias: false, generator: &generator)
        super.init()
        registerModule("projection", projection)
        registerModule("score", score)
    }

    /// - Parameters:
    ///   - output: (T, B, X) the recurrent outputs.
    ///   - lengths: B lengths in 1...T; steps past a length get no weight.
    /// - Returns: the pooled features (B, X) and the weights (T, B, 1).
    public func callAsFunction(_ output: Tensor<Float>, lengths: [Int]) -> (pooled: Tensor<Float>, weights: Tensor<Float>) {
        let T = output.shape[0], B = output.shape[1]
        precondition(lengths.count == B, "AttentionPooling: \(lengths.count) lengths for a batch of \(B)")
        let scores = score(projection(output).tanh())                                  // (T, B, 1)
        var padded = [Bool](repeating: false, count: T * B)
        for b in 0..<B { for t in lengths[b]..<T { padded[t * B + b] = true } }
        // A large finite negative rather than -inf: exp underflows to exactly 0 without producing NaN.
        let weights = scores.maskedFill(mask: padded, maskShape: [T, B, 1], value: -1e30).softmax(axis: 0)   // (T, B, 1)
        return ((output * weights).sum(axis: 0), weights)                              // (B, X)
    }
}
