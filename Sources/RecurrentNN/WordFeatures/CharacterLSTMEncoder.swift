import RecurrentTensor

/// A word's features from its characters by a bidirectional LSTM (Lample et al. 2016): the forward
/// direction's state after the last character concatenated with the backward direction's state after
/// the first, (N, 2H) for N words at once.
///
/// All words of a batch run as one (C, N) sequence batch through the fused LSTM with per-word lengths,
/// so padding never reaches a final state: a word's features do not depend on the batch it is in.
/// Parameter names: `embedding.weight` (V, E; row 0, padding, stays zero), `lstm.weight_ih_l0`, …,
/// `lstm.weight_hh_l0_reverse`, … (PyTorch's).
public final class CharacterLSTMEncoder<Scalar: TensorScalar>: Module<Scalar> {
    /// Character embeddings (V, E), row 0 the padding.
    public let embedding: Embedding<Scalar>
    /// The bidirectional LSTM over each word's characters, run with their lengths.
    public let lstm: LSTM<Scalar>
    /// Features per word: 2H.
    public var outputSize: Int { 2 * lstm.hiddenSize }

    /// - Parameters:
    ///   - alphabetSize: character ids V, padding (0) included.
    ///   - embeddingSize: features E of a character (Lample et al.: 25).
    ///   - hiddenSize: features H of each direction (Lample et al.: 25).
    ///   - generator: source of the initial values (N(0, 1) embedding, U(−1/√H, 1/√H) LSTM).
    public init(alphabetSize: Int, embeddingSize: Int, hiddenSize: Int, generator: inout RandomGenerator) {
        embedding = Embedding(vocabularySize: alphabetSize, dimension: embeddingSize, paddingIndex: 0, generator: &generator)
        lstm = LSTM(inputSize: embeddingSize, hiddenSize: hiddenSize, bidirectional: true, generator: &generator)
        super.init()
        registerModule("embedding", embedding)
        registerModule("lstm", lstm)
    }

    /// The same, from a generator seeded with `seed`.
    public convenience init(alphabetSize: Int, embeddingSize: Int, hiddenSize: Int, seed: UInt64 = 0) {
        var generator = RandomGenerator(seed: seed)
        self.init(alphabetSize: alphabetSize, embeddingSize: embeddingSize, hiddenSize: hiddenSize, generator: &generator)
    }

    /// - Parameter characters: N words' characters.
    /// - Returns: (N, 2H): the forward final state, then the backward one.
    public func callAsFunction(_ characters: CharacterBatch) -> Tensor<Scalar> {
        let (C, N, H) = (characters.steps, characters.words, lstm.hiddenSize)
        let x = embedding(characters.ids, shape: [C, N])                        // (C, N, E)
        let (_, state) = lstm(x, lengths: characters.lengths)                   // h (2, N, H)
        let forward = state.h.slice(axis: 0, 0..<1).reshaped([N, H])            // (N, H) after each word's last character
        let backward = state.h.slice(axis: 0, 1..<2).reshaped([N, H])           // (N, H) after its first
        return Tensor.concat([forward, backward], axis: 1)                      // (N, 2H)
    }
}
