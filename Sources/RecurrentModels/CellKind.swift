import RecurrentNN

/// The recurrence of a task model (`--cell`): what the language model, classifier, tagger, forecaster,
/// memory-task model and encoder–decoder are built from.
public enum CellKind: String, Codable, CaseIterable, Sendable, CustomStringConvertible {
    /// The LSTM; the GRU (PyTorch's variant).
    case lstm, gru
    /// Elman's RNN with tanh.
    case rnn
    /// Jordan's network: the fed-back output (tanh, H wide) is the state.
    case jordan

    public var description: String { rawValue }

    /// The fused layer's kind for the gated and Elman cells; nil for Jordan (its own `Jordan` / `JordanCell`).
    public var layerKind: RecurrentCellKind? {
        switch self {
        case .lstm: .lstm
        case .gru: .gru
        case .rnn: .rnnTanh
        case .jordan: nil
        }
    }

    /// lstm, gru or rnn (tanh) from a layer kind; nil for the kinds task models do not take.
    public init?(kind: RecurrentCellKind) {
        switch kind {
        case .lstm: self = .lstm
        case .gru: self = .gru
        case .rnnTanh: self = .rnn
        default: return nil
        }
    }
}

/// How a classifier turns a sequence into one vector.
public enum Pooling: String, Codable, CaseIterable, Sendable, CustomStringConvertible {
    /// The last valid state of each direction.
    case final
    /// The masked mean of the outputs.
    case mean
    /// The masked maximum of the outputs.
    case max
    /// Learned weights over the valid steps (`AttentionPooling`), summing the outputs.
    case attention

    public var description: String { rawValue }
}

/// The attention of an encoder–decoder (`--attention`): none, or one of `AttentionKind`'s.
public enum Seq2SeqAttention: String, Codable, CaseIterable, Sendable, CustomStringConvertible {
    /// No attention: the decoder starts from the encoder's final state only; Bahdanau's additive attention.
    case none, bahdanau
    /// Luong's dot, general and concat scores.
    case luongDot = "luong-dot", luongGeneral = "luong-general", luongConcat = "luong-concat"

    public var description: String { rawValue }

    /// The attention module's kind; nil for none.
    public var kind: AttentionKind? { AttentionKind(rawValue: rawValue) }
    /// Luong's kinds (input feeding applies to them).
    public var isLuong: Bool { rawValue.hasPrefix("luong") }
}

/// The long-range memory benchmark a `MemoryTaskModel` trains on.
public enum MemoryTaskKind: String, Codable, CaseIterable, Sendable, CustomStringConvertible {
    /// The adding problem (Hochreiter and Schmidhuber 1997); the copy task.
    case adding, copy
    public var description: String { rawValue }
}
