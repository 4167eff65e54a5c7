import RecurrentTensor

// States. Every recurrence has ONE state type, used by its cell and its layer alike; only the shape differs:
// a cell's state is one step's, (B, ·); a layer's stacks every layer and direction in PyTorch's layout,
// (L·D, B, ·) with index `layer · D + direction`.
//
//     Elman RNN, GRU    Tensor h            cell (B, H)    layer (L·D, B, H)
//     LSTM              LSTMState(h:c:)     cell (B, H)    layer h (L·D, B, P), c (L·D, B, H)   (P = projSize or H)
//     Jordan            Tensor y            cell (B, O)    layer (L·D, B, O)   (the fed-back output)
//
// Code that takes any cell at run time (the task models, `RecurrentNetwork`) carries `RecurrentState`,
// an enum whose LSTM case holds both tensors: there is no LSTM state without c.

/// The state of an LSTM, as PyTorch's `(h, c)` pair.
///
/// For `LSTMCell`: h and c are (B, H). For the `LSTM` layer: h is (L·D, B, P) and c is (L·D, B, H),
/// index `layer · D + direction` (P = projSize, or H without projection).
public struct LSTMState<Scalar: TensorScalar> {
    /// Hidden state (the output of the step).
    public var h: Tensor<Scalar>
    /// Cell state (the memory).
    public var c: Tensor<Scalar>

    /// - Parameters:
    ///   - h: (B, H) for a cell, (L·D, B, P) for a layer.
    ///   - c: (B, H) for a cell, (L·D, B, H) for a layer.
    public init(h: Tensor<Scalar>, c: Tensor<Scalar>) {
        self.h = h
        self.c = c
    }

    /// The same values cut from the graph: carry a state into the next chunk of truncated BPTT.
    public func detached() -> LSTMState {
        LSTMState(h: h.detached(), c: c.detached())
    }
}

/// The state of a recurrence whose kind is chosen at run time (`RecurrentNetwork`, `RecurrentLayer(kind:…)`,
/// a decoder's stack of cells): the one-tensor state of an Elman RNN, a GRU or a Jordan network, or an
/// LSTM's (h, c). A layer's shapes, (L·D, B, ·), or a cell's, (B, ·); see `LSTMState`.
public enum RecurrentState<Scalar: TensorScalar> {
    /// h of an Elman RNN or a GRU, y of a Jordan network: (L·D, B, stateWidth), or (B, stateWidth) for a cell.
    case hidden(Tensor<Scalar>)
    /// h (L·D, B, P) and c (L·D, B, H) of an LSTM, or (B, H) each for a cell.
    case lstm(LSTMState<Scalar>)

    /// The part every kind has: h (Elman, GRU, LSTM) or y (Jordan), (L·D, B, stateWidth) (a cell's:
    /// (B, stateWidth)). The final states a classifier or a tagger reads.
    public var h: Tensor<Scalar> {
        switch self {
        case let .hidden(h): h
        case let .lstm(s): s.h
        }
    }

    /// The LSTM's h and c; nil for the other kinds.
    public var lstmState: LSTMState<Scalar>? {
        guard case let .lstm(s) = self else { return nil }
        return s
    }

    /// The one tensor of an Elman RNN's, a GRU's or a Jordan network's state; traps on an LSTM's state
    /// (a programmer error: the state came from another network).
    func hiddenTensor(_ op: String) -> Tensor<Scalar> {
        guard case let .hidden(h) = self else { preconditionFailure("\(op): expects a .hidden state, got an LSTM's .lstm(LSTMState)") }
        return h
    }

    /// The same kind of state with `transform` applied to each of its tensors (e.g. selecting rows).
    public func map(_ transform: (Tensor<Scalar>) -> Tensor<Scalar>) -> RecurrentState {
        switch self {
        case let .hidden(h): .hidden(transform(h))
        case let .lstm(s): .lstm(LSTMState(h: transform(s.h), c: transform(s.c)))
        }
    }

    /// The same values cut from the graph: carry a state into the next chunk of truncated BPTT.
    public func detached() -> RecurrentState { map { $0.detached() } }
}

// MARK: lengths

// Valid lengths, one rule for every layer (`RecurrentLayer` and `Jordan`): each of the B lengths lies in
// 0...T. A sequence of length n reads steps 0..<n (the reverse direction starts at step n − 1, as PyTorch's
// packed sequences); its outputs past n are zero and its final state is the one after its last valid step.
// A length of 0 runs no step: that row's output is zero everywhere and its final state is its initial
// state (zeros when none is given), as with TensorFlow's `dynamic_rnn(sequence_length:)`.
//
// PyTorch's `pack_padded_sequence` requires 1...T (it rejects 0); every batch PyTorch accepts is accepted
// here with the same results, and a length of 0 is allowed on top.

/// Checks `lengths` against the rule above (nil: all T) and returns them.
func validLengths(_ lengths: [Int]?, steps: Int, batch: Int, _ op: String) -> [Int] {
    guard let lengths else { return Array(repeating: steps, count: batch) }
    precondition(lengths.count == batch, "\(op): \(lengths.count) lengths for a batch of \(batch)")
    precondition(lengths.allSatisfy { $0 >= 0 && $0 <= steps },
                 "\(op): lengths must lie in 0...\(steps) (T; 0 runs no step and keeps the initial state), got \(lengths)")
    return lengths
}

/// How the two directions of a bidirectional layer are combined in its output (Keras' `merge_mode`).
/// Between stacked layers the directions are always concatenated, as PyTorch does.
public enum BidirectionalMerge: String, Sendable, CaseIterable {
    /// Concatenate the two directions (D·P features); add them; average them; multiply them element-wise (P features).
    case concat, sum, mean, multiply
}

/// The recurrence a fused layer runs.
public enum RecurrentCellKind: String, Sendable, CaseIterable {
    /// Elman's network with tanh; with ReLU; the LSTM.
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
