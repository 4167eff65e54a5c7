import RecurrentTensor

/// Final (or initial) states of a recurrent layer, PyTorch's layout: `h` is (D·L, B, P) and, for
/// LSTM, `c` is (D·L, B, H), with index `layer · D + direction` (P = projSize, or H without projection).
public struct RecurrentState<Scalar: TensorScalar> {
    public var h: Tensor<Scalar>
    public var c: Tensor<Scalar>?

    public init(h: Tensor<Scalar>, c: Tensor<Scalar>? = nil) {
        self.h = h
        self.c = c
    }

    /// The same values cut from the graph: carry a state into the next chunk of truncated BPTT.
    public func detached() -> RecurrentState {
        RecurrentState(h: h.detached(), c: c?.detached())
    }
}

/// How the two directions of a bidirectional layer are combined in its output (Keras' `merge_mode`).
/// Between stacked layers the directions are always concatenated, as PyTorch does.
public enum BidirectionalMerge: String, Sendable, CaseIterable {
    case concat, sum, mean, multiply
}

/// The recurrence a fused layer runs.
public enum RecurrentCellKind: String, Sendable, CaseIterable {
    case rnnTanh, rnnRelu, lstm
    /// PyTorch's and cuDNN's GRU: n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)).
    case gru
    /// The original paper's GRU (Keras `reset_after=False`): n = tanh(W_in x + b_in + W_hn (r ⊙ h) + b_hn).
    case gruResetBefore

    /// Gate blocks per hidden unit (G).
    public var gateCount: Int {
        switch self {
        case .rnnTanh, .rnnRelu: 1
        case .lstm: 4
        case .gru, .gruResetBefore: 3
        }
    }
}

/// Walks a long sequence in chunks of `chunk` steps for truncated BPTT: the ranges of time steps
/// of each chunk. Carry `state.detached()` from one chunk into the next.
public func truncatedChunks(totalSteps: Int, chunk: Int) -> [Range<Int>] {
    precondition(chunk > 0, "truncatedChunks: chunk must be positive, got \(chunk)")
    return stride(from: 0, to: totalSteps, by: chunk).map { $0..<min($0 + chunk, totalSteps) }
}
