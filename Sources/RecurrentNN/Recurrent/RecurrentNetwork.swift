import RecurrentTensor

/// What a task model asks of its stacked recurrent network, whatever the cell: run it over a padded batch
/// from an initial state, carry its between-layer dropout generator through a checkpoint, and record the
/// gradient norms that `recurrent diagnose` plots. `RecurrentLayer` (Elman RNN, LSTM, GRU) and `Jordan`
/// conform, so the character language model, the classifier and the tagger take any of the four cells.
///
/// States use `RecurrentState`'s layout, (L·D, B, stateWidth) with index `layer · D + direction`: a
/// Jordan network's state is its fed-back output y, in `h` (no `c`).
public protocol RecurrentNetwork<Scalar>: AnyObject {
    associatedtype Scalar: TensorScalar
    /// The network as a module, to register in a model (its parameters keep their PyTorch-style names).
    var module: Module<Scalar> { get }
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
    ///   - initialState: (L·D, B, stateWidth) states (and LSTM's c); zeros when nil.
    ///   - lengths: valid steps of each sequence (B values in 1...T); nil: all T.
    /// - Returns: output (T, B, outputFeatures), zero past each length, and the final state.
    func run(_ input: Tensor<Scalar>, initialState: RecurrentState<Scalar>?, lengths: [Int]?)
        -> (output: Tensor<Scalar>, state: RecurrentState<Scalar>)
}

extension RecurrentNetwork {
    public func callAsFunction(_ input: Tensor<Scalar>, initialState: RecurrentState<Scalar>? = nil, lengths: [Int]? = nil)
        -> (output: Tensor<Scalar>, state: RecurrentState<Scalar>) {
        run(input, initialState: initialState, lengths: lengths)
    }
}

extension RecurrentLayer: RecurrentNetwork {
    public var module: Module<Scalar> { self }
    public var stateWidth: Int { outputWidth }
    public var outputFeatures: Int { outputSize }

    public func run(_ input: Tensor<Scalar>, initialState: RecurrentState<Scalar>?, lengths: [Int]?)
        -> (output: Tensor<Scalar>, state: RecurrentState<Scalar>) {
        self(input, initialState: initialState, lengths: lengths)
    }
}

extension Jordan: RecurrentNetwork {
    public var module: Module<Scalar> { self }
    public var stateWidth: Int { outputSize }
    public var outputFeatures: Int { directions * outputSize }

    public func run(_ input: Tensor<Scalar>, initialState: RecurrentState<Scalar>?, lengths: [Int]?)
        -> (output: Tensor<Scalar>, state: RecurrentState<Scalar>) {
        let (output, finalY) = self(input, initialY: initialState?.h, lengths: lengths)
        return (output, RecurrentState(h: finalY))
    }
}
