import RecurrentNN
import RecurrentTensor

/// One-to-many generation: a `Decoder` (no attention) whose initial state is set by a single vector,
/// h⁽ˡ⁾₀ = tanh(W_l v + b_l) for every layer l (and c⁽ˡ⁾₀ = 0 for LSTM). With a one-hot class label as
/// the vector, it generates text conditioned on the label.
/// Parameter names: `condition.weight` (L·H, C), `condition.bias`, `decoder.…` (see `Decoder`).
public final class ConditionedGenerator<Scalar: TensorScalar>: Module<Scalar> {
    public let condition: Linear<Scalar>
    public let decoder: Decoder<Scalar>
    public let conditionSize: Int
    public let bos = 2, eos = 3

    /// - Parameters:
    ///   - conditionSize: C, the width of the conditioning vector.
    ///   - vocabularySize: V, with `<pad>` 0, `<unk>` 1, `<s>` 2, `</s>` 3 (as `Seq2SeqVocabularies.target`).
    public init(conditionSize: Int, vocabularySize: Int, embeddingSize: Int, hiddenSize: Int, layers: Int = 1,
                cell: RecurrentCellKind = .lstm, seed: UInt64) {
        var generator = RandomGenerator(seed: seed)
        self.conditionSize = conditionSize
        condition = Linear(inputSize: conditionSize, outputSize: layers * hiddenSize, generator: &generator)
        decoder = Decoder(kind: cell, vocabularySize: vocabularySize, embeddingSize: embeddingSize, hiddenSize: hiddenSize, layers: layers,
                          attention: nil, attentionSize: hiddenSize, dropout: 0, seed: seed, generator: &generator)
        super.init()
        registerModule("condition", condition)
        registerModule("decoder", decoder)
    }

    /// The decoder's initial state from the vectors (B, C).
    public func initialState(_ vectors: Tensor<Scalar>) -> DecoderState<Scalar> {
        let H = decoder.hiddenSize, L = decoder.cells.count
        let all = condition(vectors).tanh()                                   // (B, L·H)
        return DecoderState(layers: (0..<L).map { l in decoder.layerState(h: all.slice(axis: 1, (l * H)..<((l + 1) * H))) })
    }

    /// Mean cross-entropy of `targets` (ids without `<s>`/`</s>`, padding ignored) with teacher forcing.
    /// - Parameter vectors: (B, C), one per target.
    public func loss(_ vectors: Tensor<Scalar>, targets: [[Int]]) -> Tensor<Scalar> {
        let b = targets.count, T = (targets.map(\.count).max() ?? 0) + 1
        precondition(vectors.shape == [b, conditionSize], "ConditionedGenerator.loss: vectors \(vectors.shape) for \(b) targets")
        var state = initialState(vectors)
        var logits: [Tensor<Scalar>] = []
        var outputs = [Int](repeating: 0, count: T * b)
        for t in 0..<T {
            let tokens = targets.map { t == 0 ? bos : (t - 1 < $0.count ? $0[t - 1] : 0) }
            for r in 0..<b { outputs[t * b + r] = t < targets[r].count ? targets[r][t] : (t == targets[r].count ? eos : 0) }
            let out = decoder.step(tokens, state: state, memory: nil)
            state = out.state
            logits.append(out.logits)
        }
        return crossEntropy(Tensor.stack(logits, axis: 0).reshaped([T * b, decoder.vocabularySize]), targets: outputs, ignoreIndex: 0)
    }

    /// Greedy generation from each vector (B, C) until `</s>` or `maxLength` tokens; ids without `</s>`.
    public func generate(_ vectors: Tensor<Scalar>, maxLength: Int) -> [[Int]] {
        withoutGrad {
            let b = vectors.shape[0], V = decoder.vocabularySize
            var state = initialState(vectors)
            var tokens = [Int](repeating: bos, count: b), results = [[Int]](repeating: [], count: b), done = [Bool](repeating: false, count: b)
            for _ in 0..<maxLength where !done.allSatisfy({ $0 }) {
                let out = decoder.step(tokens, state: state, memory: nil)
                state = out.state
                for r in 0..<b where !done[r] {
                    let next = Seq2Seq<Scalar>.argmax(out.logits.data + r * V, V)
                    if next == eos { done[r] = true } else { results[r].append(next) }
                    tokens[r] = next
                }
            }
            return results
        }
    }
}
