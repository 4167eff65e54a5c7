import RecurrentTensor

/// What a task model asks of its stacked recurrent network, whatever the cell: run it over a padded batch
/// from an initial state, carry its between-layer dropout generator through a checkpoint, and record the
/// per-step gradient norms (gradient-flow diagnostics). `RecurrentLayer` (Elman RNN, LSTM, GRU) and `Jordan`
/// conform, so the character language model, the classifier and the tagger take any of the four cells.
///
/// States are `RecurrentState`s, (L·D, B, stateWidth) with index `layer · D + direction`: an LSTM's is
/// `.lstm(LSTMState(h:c:))`; the others' `.hidden(h)`, where a Jordan network's is its fed-back output y.
public protocol RecurrentNetwork<Scalar>: AnyObject {
    /// The element type.
    associatedtype Scalar: TensorScalar
    /// The network as a module, to register in a model (its parameters keep their PyTorch-style names).
    var module: Module<Scalar> { get }
    /// L, the number of stacked layers.
    var numLayers: Int { get }
    /// D: 2 when bidirectional.
    var directions: Int { get }
    /// Width of one direction's state and of its output at each step (H, the projection size, or Jordan's O).
    var stateWidth: Int { get }
    /// Width of the network's output at each step (D · stateWidth when the directions are concatenated).
    var outputFeatures: Int { get }
    /// Generator of the between-layer dropout masks (saved in checkpoints for bit-identical resumes).
    var dropoutGenerator: RandomGenerator { get set }
    /// When set, backward records ‖∂L/∂state_t‖ for every layer·direction and step into `hiddenGradientNorms`.
    var recordsHiddenGradientNorms: Bool { get set }
    /// [layer · D + direction][t], filled by the last backward pass while `recordsHiddenGradientNorms`.
    var hiddenGradientNorms: [[Scalar]] { get }
    /// - Parameters:
    ///   - input: (T, B, I), or (B, T, I) for a network built batch-first (outputs follow the same layout)
    ///   - state: the initial state of every layer and direction, (L·D, B, stateWidth) tensors: `.lstm` for
    ///     an LSTM, `.hidden` for the others; zeros when nil.
    ///   - lengths: valid steps of each sequence, B values in 0...T (see RecurrentState.swift); nil: all T.
    /// - Returns: output (T, B, outputFeatures), zero past each length, and the final state.
    func run(_ input: Tensor<Scalar>, state: RecurrentState<Scalar>?, lengths: [Int]?)
        -> (output: Tensor<Scalar>, state: RecurrentState<Scalar>)
}

extension RecurrentNetwork {
    /// `run` in the calling convention of every layer and cell: `network(input, state:, lengths:)`.
    public func callAsFunction(_ input: Tensor<Scalar>, state: RecurrentState<Scalar>? = nil, lengths: [Int]? = nil)
        -> (output: Tensor<Scalar>, state: RecurrentState<Scalar>) {
        run(input, state: state, lengths: lengths)
    }
}

extension RecurrentLayer: RecurrentNetwork {
    public var module: Module<Scalar> { self }
    public var stateWidth: Int { outputWidth }
    public var outputFeatures: Int { outputSize }

    public func run(_ input: Tensor<Scalar>, state: RecurrentState<Scalar>?, lengths: [Int]?)
        -> (output: Tensor<Scalar>, state: RecurrentState<Scalar>) {
        let r: (output: Tensor<Scalar>, h: Tensor<Scalar>, c: Tensor<Scalar>?)
        switch state {
        case let .lstm(s)?:
            precondition(kind == .lstm, "\(kind.rawValue): expects a .hidden state, got an LSTM's .lstm(LSTMState)")
            r = forward(input, h0: s.h, c0: s.c, lengths: lengths)
        case let .hidden(h)?:
            precondition(kind != .lstm, "LSTM: expects an .lstm(LSTMState(h:c:)) state, got .hidden")
            r = forward(input, h0: h, c0: nil, lengths: lengths)
        case nil:
            r = forward(input, h0: nil, c0: nil, lengths: lengths)
        }
        return (r.output, r.c.map { .lstm(LSTMState(h: r.h, c: $0)) } ?? .hidden(r.h))
    }
}

extension Jordan: RecurrentNetwork {
    public var module: Module<Scalar> { self }
    public var stateWidth: Int { outputSize }
    public var outputFeatures: Int { directions * outputSize }

    public func run(_ input: Tensor<Scalar>, state: RecurrentState<Scalar>?, lengths: [Int]?)
        -> (output: Tensor<Scalar>, state: RecurrentState<Scalar>) {
        let r = self(input, state: state?.hiddenTensor("Jordan"), lengths: lengths)
        return (r.output, .hidden(r.state))
    }
}
