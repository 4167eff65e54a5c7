import RecurrentNN
import RecurrentTensor

/// The state a decoder steps from: the state of every layer's cell, each in its cell's state type
/// (`.lstm(LSTMState)` for LSTM, `.hidden(h)` for GRU and Elman, `.hidden(y)` for Jordan; tensors (B, H)),
/// and, for Luong attention with input feeding, the previous step's attentional vector õ (B, H) (nil: zeros,
/// the first step).
public struct DecoderState<Scalar: TensorScalar> {
    /// One per layer, bottom first.
    public var layers: [RecurrentState<Scalar>]
    /// The previous step's attentional vector õ (B, H), for Luong attention with input feeding; nil otherwise.
    public var attentional: Tensor<Scalar>?

    /// - Parameters:
    ///   - layers: each layer's cell state, tensors (B, H).
    ///   - attentional: õ_{t−1} (B, H), or nil for zeros.
    public init(layers: [RecurrentState<Scalar>], attentional: Tensor<Scalar>? = nil) {
        self.layers = layers
        self.attentional = attentional
    }

    /// Every layer's h (B, H) (a Jordan cell's y): what attention queries and the next layer reads.
    public var h: [Tensor<Scalar>] { layers.map(\.h) }

    /// The rows `rows` of every tensor (repeats allowed): a beam's states follow their parents.
    public func selecting(rows: [Int]) -> DecoderState {
        DecoderState(layers: layers.map { $0.map { $0.indexSelect(axis: 0, indices: rows) } },
                     attentional: attentional?.indexSelect(axis: 0, indices: rows))
    }
}

/// Encoder of a sequence-to-sequence model: embedding (`<pad>` = 0) → dropout → stacked, optionally
/// bidirectional recurrent network over the true lengths (LSTM, GRU, Elman, or a Jordan network whose
/// fed-back output y is H wide and serves as its state).
///
/// Its outputs are the attention keys: with two directions they are summed, so keys have the
/// decoder's width H for every attention kind (Luong dot included). Its final states start the
/// decoder, layer by layer; with two directions the forward and backward states of a layer are
/// concatenated and bridged to H: h = tanh(W_b [h→; h←] + b_b), c = W_c [c→; c←] + b_c.
/// Parameter names: `embedding.weight`, `rnn.weight_ih_l0`, `rnn.weight_ih_l0_reverse`, …
/// (a Jordan network's: `rnn.weight_ih_l0`, `rnn.weight_yh_l0`, `rnn.weight_ho_l0`, …),
/// `bridge.weight`, `bridge.bias`, `bridge_c.weight`, `bridge_c.bias`.
public final class Encoder<Scalar: TensorScalar>: Module<Scalar> {
    /// The recurrence.
    public let cell: CellKind
    /// The source token embedding (`embedding.weight`, `<pad>` = 0).
    public let embedding: Embedding<Scalar>
    /// The stacked, optionally bidirectional recurrent network (`rnn.…`).
    public let rnn: any RecurrentNetwork<Scalar>
    /// Dropout on the embeddings.
    public let dropout: Dropout<Scalar>
    /// W_b, b_b bridging the two directions' final h to the decoder's H (`bridge.…`); nil when unidirectional.
    public let bridge: Linear<Scalar>?
    /// W_c, b_c bridging the two directions' final LSTM cells (`bridge_c.…`); nil unless bidirectional LSTM.
    public let bridgeC: Linear<Scalar>?

    /// An encoder over a fused layer of `kind` (LSTM, GRU, Elman tanh).
    public convenience init(kind: RecurrentCellKind, vocabularySize: Int, embeddingSize: Int, hiddenSize: Int, layers: Int, bidirectional: Bool,
                            dropout: Scalar, seed: UInt64, generator: inout RandomGenerator) {
        guard let cell = CellKind(kind: kind) else { preconditionFailure("Encoder: cell \(kind) is not supported") }
        self.init(cell: cell, vocabularySize: vocabularySize, embeddingSize: embeddingSize, hiddenSize: hiddenSize, layers: layers,
                  bidirectional: bidirectional, dropout: dropout, seed: seed, generator: &generator)
    }

    /// - Parameters:
    ///   - cell: the recurrence (LSTM, GRU, Elman, Jordan).
    ///   - vocabularySize: source words (id 0 is `<pad>`).
    ///   - embeddingSize: E.
    ///   - hiddenSize: H per direction.
    ///   - layers: stacked layers L.
    ///   - bidirectional: whether a reverse direction runs too.
    ///   - dropout: on the embeddings and between layers, in train mode.
    ///   - seed: seeds the dropout masks.
    ///   - generator: source of the initial values, shared with the modules built after this one.
    public init(cell: CellKind, vocabularySize: Int, embeddingSize: Int, hiddenSize: Int, layers: Int, bidirectional: Bool,
                dropout: Scalar, seed: UInt64, generator: inout RandomGenerator) {
        self.cell = cell
        embedding = Embedding(vocabularySize: vocabularySize, dimension: embeddingSize, paddingIndex: 0, generator: &generator)
        if let kind = cell.layerKind {
            rnn = RecurrentLayer(kind: kind, inputSize: embeddingSize, hiddenSize: hiddenSize, numLayers: layers, bias: true, batchFirst: false,
                                 dropout: dropout, bidirectional: bidirectional, merge: .sum, projSize: 0, generator: &generator)
        } else {
            // Jordan concatenates its directions; callAsFunction sums them as the fused layer's `.sum` does.
            rnn = Jordan(inputSize: embeddingSize, hiddenSize: hiddenSize, outputSize: hiddenSize, numLayers: layers, dropout: dropout,
                         bidirectional: bidirectional, generator: &generator)
        }
        rnn.dropoutGenerator = RandomGenerator(seed: seed &+ 11)
        self.dropout = Dropout(dropout, seed: seed &+ 12)
        bridge = bidirectional ? Linear(inputSize: 2 * hiddenSize, outputSize: hiddenSize, generator: &generator) : nil
        bridgeC = bidirectional && cell == .lstm ? Linear(inputSize: 2 * hiddenSize, outputSize: hiddenSize, generator: &generator) : nil
        super.init()
        registerModule("embedding", embedding)
        registerModule("rnn", rnn.module)
        registerModule("dropout", self.dropout)
        if let bridge { registerModule("bridge", bridge) }
        if let bridgeC { registerModule("bridge_c", bridgeC) }
    }

    /// The default initialisation (PyTorch's for every part) from a generator seeded with `seed`, which
    /// also seeds the dropout masks, as `Seq2Seq(config, seed:)` builds its encoder.
    public convenience init(cell: CellKind, vocabularySize: Int, embeddingSize: Int, hiddenSize: Int, layers: Int = 1,
                            bidirectional: Bool = false, dropout: Scalar = 0, seed: UInt64 = 0) {
        var generator = RandomGenerator(seed: seed)
        self.init(cell: cell, vocabularySize: vocabularySize, embeddingSize: embeddingSize, hiddenSize: hiddenSize, layers: layers,
                  bidirectional: bidirectional, dropout: dropout, seed: seed, generator: &generator)
    }

    /// - Parameters:
    ///   - ids: (S, B) source ids, row-major, 0 past each length.
    ///   - lengths: (B) valid steps, in 1...S (attention needs at least one key per row).
    /// - Returns: outputs (B, S, H), zero past each length, and the decoder's initial state.
    public func callAsFunction(_ ids: [Int], steps: Int, batch: Int, lengths: [Int]) -> (outputs: Tensor<Scalar>, state: DecoderState<Scalar>) {
        let x = dropout(embedding(ids, shape: [steps, batch]))               // (S, B, E)
        var (out, final) = rnn(x, lengths: lengths)                         // (S, B, H or 2H), h (L·D, B, H)
        let H = rnn.stateWidth, D = rnn.directions
        if rnn.outputFeatures == 2 * H {                                    // directions concatenated (Jordan): sum them
            out = out.slice(axis: 2, 0..<H) + out.slice(axis: 2, H..<(2 * H))  // (S, B, H)
        }
        func layerState(_ t: Tensor<Scalar>, _ l: Int, _ bridge: Linear<Scalar>?, squash: Bool) -> Tensor<Scalar> {
            guard let bridge else { return t.slice(axis: 0, l..<(l + 1)).reshaped([batch, H]) }
            let both = t.slice(axis: 0, (D * l)..<(D * l + 2))                   // (2, B, H)
            let joined = Tensor.concat([both.slice(axis: 0, 0..<1).reshaped([batch, H]),
                                        both.slice(axis: 0, 1..<2).reshaped([batch, H])], axis: 1) // (B, 2H)
            let y = bridge(joined)                                              // (B, H)
            return squash ? y.tanh() : y
        }
        let L = rnn.numLayers
        let layers: [RecurrentState<Scalar>] = (0..<L).map { l in
            let h = layerState(final.h, l, bridge, squash: true)
            return final.lstmState.map { .lstm(LSTMState(h: h, c: layerState($0.c, l, bridgeC, squash: false))) } ?? .hidden(h)
        }
        return (out.transposed(0, 1), DecoderState(layers: layers))         // (B, S, H)
    }
}
