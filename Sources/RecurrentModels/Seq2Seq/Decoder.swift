import RecurrentNN
import RecurrentTensor

/// Decoder of a sequence-to-sequence model, stepped one token at a time:
///
///     e_t = dropout(embed(y_{t−1}))
///     Bahdanau:   c_t, a_t = attend(h_{t−1}, keys);  h_t = cells([e_t; c_t], h_{t−1})
///     Luong:      h_t = cells(e_t, h_{t−1});        c_t, a_t = attend(h_t, keys)
///       with input feeding:  h_t = cells([e_t; o_{t−1}], h_{t−1})   (o_0 = 0)
///     with attention:  o_t = tanh(W_o [h_t; c_t] + b_o)      without: o_t = h_t
///     logits_t = W_y dropout(o_t) + b_y
///
/// Input feeding (Luong et al. 2015, §3.3) lets the cells see which source words the last step attended
/// to: without it, Luong attention is read after the cells and no step knows the previous alignment.
///
/// where h is the top of a stack of cells (LSTMCell, GRUCell, RNNCell or JordanCell, one per layer), started
/// from the encoder's final state (the plain encoder-decoder) or from any vector (one-to-many generation).
/// A Jordan cell's state is its fed-back output y (H wide, tanh), which plays the part of h here.
/// Parameter names: `embedding.weight`, `cell_l0.weight_ih`, `cell_l0.weight_hh`, `cell_l0.bias_ih`,
/// `cell_l0.bias_hh` (Jordan: `cell_l0.weight_ih`, `weight_yh`, `weight_ho`, `bias_ih`, `bias_ho`), …,
/// `attention.…` (see `Attention`), `combine.weight`, `combine.bias`, `output.weight`, `output.bias`.
public final class Decoder<Scalar: TensorScalar>: Module<Scalar> {
    /// The recurrence of the decoder's cells.
    public let cell: CellKind
    /// H, the hidden features of each cell.
    public let hiddenSize: Int
    /// The target token embedding (`embedding.weight`).
    public let embedding: Embedding<Scalar>
    /// One per layer: `LSTMCell`, `GRUCell`, `RNNCell` or `JordanCell` (each a `RecurrentCell`).
    public let cells: [Module<Scalar>]
    /// The attention over the encoder's outputs, or nil.
    public let attention: Attention<Scalar>?
    /// W_o, b_o combining the state and the context into the attentional vector (`combine.…`); nil without attention.
    public let combine: Linear<Scalar>?
    /// The linear layer to the target vocabulary's logits (`output.…`).
    public let output: Linear<Scalar>
    /// Dropout on the embeddings and before the output layer.
    public let dropout: Dropout<Scalar>
    /// Luong attention only: the previous attentional vector o_{t−1} is fed to the first cell with the embedding.
    public let inputFeeding: Bool

    /// V, the number of target tokens.
    public var vocabularySize: Int { output.outputSize }

    /// A decoder over cells of `kind` (`.lstm`, `.gru` or `.rnnTanh`).
    public convenience init(kind: RecurrentCellKind, vocabularySize: Int, embeddingSize: Int, hiddenSize: Int, layers: Int,
                            attention kindOfAttention: AttentionKind?, attentionSize: Int, inputFeeding: Bool = false, dropout: Scalar,
                            seed: UInt64, generator: inout RandomGenerator) {
        guard let cell = CellKind(kind: kind) else { preconditionFailure("Decoder: cell \(kind) is not supported") }
        self.init(cell: cell, vocabularySize: vocabularySize, embeddingSize: embeddingSize, hiddenSize: hiddenSize, layers: layers,
                  attention: kindOfAttention, attentionSize: attentionSize, inputFeeding: inputFeeding, dropout: dropout, seed: seed,
                  generator: &generator)
    }

    /// - Parameters:
    ///   - cell: the recurrence of every layer.
    ///   - vocabularySize: target words V (id 0 is `<pad>`).
    ///   - embeddingSize: E.
    ///   - hiddenSize: H of every layer.
    ///   - layers: stacked cells.
    ///   - attention: the attention kind, nil for none; keys must have width H.
    ///   - attentionSize: A of the additive kinds.
    ///   - inputFeeding: feed o_{t−1} to the first cell (Luong kinds only).
    ///   - dropout: on the embeddings and before the output layer, in train mode.
    ///   - seed: seeds the dropout masks.
    ///   - generator: source of the initial values, shared with the modules built after this one.
    public init(cell: CellKind, vocabularySize: Int, embeddingSize: Int, hiddenSize: Int, layers: Int, attention kindOfAttention: AttentionKind?,
                attentionSize: Int, inputFeeding: Bool = false, dropout: Scalar, seed: UInt64, generator: inout RandomGenerator) {
        precondition(!inputFeeding || (kindOfAttention.map { !$0.queriesPreviousState } ?? false), "Decoder: input feeding needs Luong attention")
        self.cell = cell
        self.hiddenSize = hiddenSize
        self.inputFeeding = inputFeeding
        embedding = Embedding(vocabularySize: vocabularySize, dimension: embeddingSize, paddingIndex: 0, generator: &generator)
        // Bahdanau feeds its context, input feeding the attentional vector: either adds H inputs to the first cell.
        let feedsContext = kindOfAttention == .bahdanau || inputFeeding
        cells = (0..<layers).map { l in
            let inputSize = l > 0 ? hiddenSize : embeddingSize + (feedsContext ? hiddenSize : 0)
            switch cell {
            case .lstm: return LSTMCell(inputSize: inputSize, hiddenSize: hiddenSize, generator: &generator)
            case .gru: return GRUCell(inputSize: inputSize, hiddenSize: hiddenSize, generator: &generator)
            case .rnn: return RNNCell(inputSize: inputSize, hiddenSize: hiddenSize, generator: &generator)
            case .jordan: return JordanCell(inputSize: inputSize, hiddenSize: hiddenSize, outputSize: hiddenSize, generator: &generator)
            }
        }
        attention = kindOfAttention.map { Attention(kind: $0, querySize: hiddenSize, keySize: hiddenSize, attentionSize: attentionSize, generator: &generator) }
        combine = kindOfAttention == nil ? nil : Linear(inputSize: 2 * hiddenSize, outputSize: hiddenSize, generator: &generator)
        output = Linear(inputSize: hiddenSize, outputSize: vocabularySize, generator: &generator)
        self.dropout = Dropout(dropout, seed: seed &+ 21)
        super.init()
        registerModule("embedding", embedding)
        for (l, layerCell) in cells.enumerated() { registerModule("cell_l\(l)", layerCell) }
        if let attention { registerModule("attention", attention) }
        if let combine { registerModule("combine", combine) }
        registerModule("output", output)
        registerModule("dropout", self.dropout)
    }

    /// The default initialisation (PyTorch's for every part) from a generator seeded with `seed`, which
    /// also seeds the dropout masks.
    public convenience init(cell: CellKind, vocabularySize: Int, embeddingSize: Int, hiddenSize: Int, layers: Int = 1,
                            attention kindOfAttention: AttentionKind? = nil, attentionSize: Int, inputFeeding: Bool = false,
                            dropout: Scalar = 0, seed: UInt64 = 0) {
        var generator = RandomGenerator(seed: seed)
        self.init(cell: cell, vocabularySize: vocabularySize, embeddingSize: embeddingSize, hiddenSize: hiddenSize, layers: layers,
                  attention: kindOfAttention, attentionSize: attentionSize, inputFeeding: inputFeeding, dropout: dropout, seed: seed,
                  generator: &generator)
    }

    /// A zero state for `batch` rows; o_0 is zero too.
    public func zeroState(batch: Int) -> DecoderState<Scalar> {
        DecoderState(layers: cells.map { _ in layerState(h: Tensor.zeros([batch, hiddenSize])) })
    }

    /// A layer's state in this decoder's cell type from its h (B, H), c starting at zero for LSTM: a state
    /// set from a vector (`ConditionedGenerator`).
    public func layerState(h: Tensor<Scalar>) -> RecurrentState<Scalar> {
        cell == .lstm ? .lstm(LSTMState(h: h, c: Tensor.zeros(h.shape))) : .hidden(h)
    }

    /// One step for every row of the batch.
    /// - Parameters:
    ///   - tokens: (B) the previous token of each row (`<s>` first).
    ///   - state: h (and c) per layer, each (B, H).
    ///   - memory: the attention keys (B, S, H) with their mask; required when the decoder has attention.
    /// - Returns: logits (B, V), the next state, and the attention weights (B, S) when there is attention.
    public func step(_ tokens: [Int], state: DecoderState<Scalar>, memory: AttentionMemory<Scalar>?)
        -> (logits: Tensor<Scalar>, state: DecoderState<Scalar>, weights: Tensor<Scalar>?) {
        let b = tokens.count
        precondition(attention == nil || memory?.batch == b, "Decoder.step: attention needs a memory of \(b) rows")
        precondition(state.layers.count == cells.count && state.h.allSatisfy { $0.shape == [b, hiddenSize] },
                     "Decoder.step: state must hold \(cells.count) layers of (\(b), \(hiddenSize))")
        var x = dropout(embedding(tokens, shape: [b]))                            // (B, E)
        var context: Tensor<Scalar>?, weights: Tensor<Scalar>?
        if let attention, attention.kind.queriesPreviousState {
            (context, weights) = attention(state.h[cells.count - 1], memory: memory!) // (B, H), (B, S)
            x = Tensor.concat([x, context!], axis: 1)                           // (B, E + H)
        } else if inputFeeding {
            x = Tensor.concat([x, state.attentional ?? Tensor.zeros([b, hiddenSize])], axis: 1)  // (B, E + H)
        }
        var next: [RecurrentState<Scalar>] = []
        for (l, cell) in cells.enumerated() {
            let previous = state.layers[l]
            switch cell {
            case let lstm as LSTMCell<Scalar>:
                guard let s = previous.lstmState else { preconditionFailure("Decoder.step: layer \(l) is an LSTM; its state must be .lstm") }
                next.append(.lstm(lstm(x, state: s)))
            case let gru as GRUCell<Scalar>:
                next.append(.hidden(gru(x, state: previous.h)))
            case let rnn as RNNCell<Scalar>:
                next.append(.hidden(rnn(x, state: previous.h)))
            case let jordan as JordanCell<Scalar>:
                next.append(.hidden(jordan(x, state: previous.h)))              // y_{t−1} → y_t
            default:
                preconditionFailure("Decoder: unsupported cell \(type(of: cell))")
            }
            x = next[l].h                                                       // (B, H)
        }
        if let attention, !attention.kind.queriesPreviousState {
            (context, weights) = attention(x, memory: memory!)                  // (B, H), (B, S)
        }
        if let combine, let context { x = combine(Tensor.concat([x, context], axis: 1)).tanh() }  // (B, H)
        let logits = output(dropout(x))                                        // (B, V)
        return (logits, DecoderState(layers: next, attentional: inputFeeding ? x : nil), weights)
    }
}
