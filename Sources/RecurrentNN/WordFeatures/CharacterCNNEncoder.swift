import RecurrentTensor

/// A word's features from its characters by a convolution and max-pooling (Ma & Hovy 2016): character
/// embedding → dropout → 1-D convolution of width 3 (one zero vector of padding each side) → maximum over
/// the word's positions, (N, F) for N words at once.
///
/// Positions past a word's length never win the maximum (they are filled with −∞ before it), and the
/// characters past it are zero vectors (the padding row of the embedding), exactly the zero padding a
/// word alone would get: a word's features do not depend on the batch it is in.
/// Parameter names: `embedding.weight` (V, E), `conv.weight` (F, E, 3) and `conv.bias` (F), the shapes of
/// PyTorch's `nn.Embedding` and `nn.Conv1d(E, F, 3, padding=1)`.
public final class CharacterCNNEncoder<Scalar: TensorScalar>: Module<Scalar> {
    /// Character embeddings (V, E), row 0 the padding.
    public let embedding: Embedding<Scalar>
    /// Dropout on the character embeddings before the convolution.
    public let dropout: Dropout<Scalar>
    /// (F, E, 3) filters: weight[f, e, k] multiplies feature e of the character at offset k − 1.
    public let weight: Tensor<Scalar>
    /// (F)
    public let bias: Tensor<Scalar>
    /// Features per word: F filters.
    public var outputSize: Int { weight.shape[0] }
    /// Width of the convolution.
    public static var width: Int { 3 }

    /// - Parameters:
    ///   - alphabetSize: character ids V, padding (0) included.
    ///   - embeddingSize: features E of a character (Ma & Hovy: 30).
    ///   - filters: output features F (Ma & Hovy: 30).
    ///   - dropout: probability of zeroing a character embedding's element in train mode (Ma & Hovy: 0.5).
    ///   - generator: source of the initial values: N(0, 1) embedding, and PyTorch's `Conv1d` default
    ///     U(−1/√(3E), 1/√(3E)) for the filters and bias; the dropout masks use the next value drawn from it.
    public init(alphabetSize: Int, embeddingSize: Int, filters: Int, dropout: Scalar = 0, generator: inout RandomGenerator) {
        precondition(filters > 0, "CharacterCNNEncoder: filters must be positive, got \(filters)")
        embedding = Embedding(vocabularySize: alphabetSize, dimension: embeddingSize, paddingIndex: 0, generator: &generator)
        let bound = 1 / Scalar(Double(Self.width * embeddingSize).squareRoot())
        weight = .uniform([filters, embeddingSize, Self.width], low: -bound, high: bound, generator: &generator)
        bias = .uniform([filters], low: -bound, high: bound, generator: &generator)
        self.dropout = Dropout(dropout, seed: generator.next())
        super.init()
        registerModule("embedding", embedding)
        registerModule("dropout", self.dropout)
        registerParameter("conv.weight", weight)
        registerParameter("conv.bias", bias)
    }

    /// The same, from a generator seeded with `seed`.
    public convenience init(alphabetSize: Int, embeddingSize: Int, filters: Int, dropout: Scalar = 0, seed: UInt64 = 0) {
        var generator = RandomGenerator(seed: seed)
        self.init(alphabetSize: alphabetSize, embeddingSize: embeddingSize, filters: filters, dropout: dropout, generator: &generator)
    }

    /// - Parameter characters: N words' characters.
    /// - Returns: (N, F): each filter's largest response over the word's positions.
    public func callAsFunction(_ characters: CharacterBatch) -> Tensor<Scalar> {
        let (C, N) = (characters.steps, characters.words)
        let x = dropout(embedding(characters.ids, shape: [C, N]))              // (C, N, E), zero past each length
        let E = x.shape[2], F = outputSize
        let zero = Tensor<Scalar>(zeros: [1, N, E])
        let padded = Tensor.concat([zero, x, zero], axis: 0)                   // (C+2, N, E)
        let windows = Tensor.concat((0..<Self.width).map { padded.slice(axis: 0, $0..<($0 + C)) }, axis: 2) // (C, N, 3E): k-major
        let filters = weight.permuted([0, 2, 1]).reshaped([F, Self.width * E])  // (F, 3E) in the windows' k-major order
        let responses = windows.matmul(filters, transposeOther: true) + bias     // (C, N, F)
        let padding = (0..<C).flatMap { c in characters.lengths.map { c >= $0 } } // (C, N)
        return responses.maskedFill(mask: padding, maskShape: [C, N, 1], value: -.infinity).max(axis: 0) // (N, F)
    }
}
