/// One layer of an imported Keras model, as the importer understood it from the config and the weights'
/// shapes: what `KerasModel` builds and what an imported checkpoint's config lists.
///
/// `name` is the layer's group under `layers/` in Keras 3's weights file (`lstm`, `lstm_1`, `bidirectional`…,
/// Keras names them by class, in order) and the prefix of its parameters in the model (`lstm.weight_ih_l0`).
public struct KerasLayerSpec: Codable, Equatable, Sendable {
    /// The Keras layer class (a `Bidirectional` wrapper is its inner layer's kind with `bidirectional` set).
    public enum Kind: String, Codable, Sendable, CaseIterable {
        /// `Embedding`.
        case embedding
        /// `LSTM`.
        case lstm
        /// `GRU`, either `reset_after`.
        case gru
        /// `SimpleRNN` (an Elman network).
        case simpleRNN = "simple_rnn"
        /// `Dense`.
        case dense
        /// `Dropout` (identity at inference).
        case dropout
    }

    /// Activations the importer converts: SimpleRNN's `tanh`/`relu`, Dense's all five.
    public enum Activation: String, Codable, Sendable, CaseIterable {
        /// The identity.
        case linear
        /// The hyperbolic tangent.
        case tanh
        /// max(0, x).
        case relu
        /// The logistic sigmoid.
        case sigmoid
        /// Softmax over the last axis.
        case softmax
    }

    /// Keras' `Bidirectional(merge_mode=…)`.
    public enum Merge: String, Codable, Sendable, CaseIterable {
        /// Both directions' outputs side by side (2H).
        case concat
        /// Their sum.
        case sum
        /// Their element-wise product.
        case mul
        /// Their mean.
        case ave
    }

    /// The layer's weight group in the Keras file and the prefix of its parameters (`lstm`, `bidirectional_1`).
    public var name: String
    /// Which layer it is.
    public var kind: Kind
    /// Features in: I (recurrent, dense, dropout), or the vocabulary V of an embedding.
    public var inputSize: Int
    /// Features out of one direction: H (recurrent), O (dense), D (embedding); for dropout equal to `inputSize`.
    public var units: Int
    /// SimpleRNN: tanh or relu; Dense: any; nil for the others (LSTM and GRU: tanh and sigmoid, the only ones imported).
    public var activation: Activation?
    /// Keras' `use_bias`: whether the layer has biases (the library's `bias:`).
    public var useBias: Bool
    /// GRU only: Keras' `reset_after` (true: PyTorch's variant, the Keras 3 default).
    public var resetAfter: Bool?
    /// Recurrent: whether every step's output is returned (B, T, ·) or the last (B, ·).
    public var returnSequences: Bool
    /// Recurrent, one direction: the sequence is read from its end, and (with `returnSequences`) the outputs come in that order.
    public var goBackwards: Bool
    /// Recurrent: how a `Bidirectional` wrapper merged the directions; nil for one direction.
    public var bidirectional: Merge?

    /// A layer description; see the properties for each argument.
    public init(name: String, kind: Kind, inputSize: Int, units: Int, activation: Activation? = nil, useBias: Bool = true,
                resetAfter: Bool? = nil, returnSequences: Bool = false, goBackwards: Bool = false, bidirectional: Merge? = nil) {
        self.name = name
        self.kind = kind
        self.inputSize = inputSize
        self.units = units
        self.activation = activation
        self.useBias = useBias
        self.resetAfter = resetAfter
        self.returnSequences = returnSequences
        self.goBackwards = goBackwards
        self.bidirectional = bidirectional
    }

    /// LSTM, GRU or SimpleRNN.
    public var isRecurrent: Bool { kind == .lstm || kind == .gru || kind == .simpleRNN }

    /// Gate blocks per unit in the weights (G): 4 for LSTM, 3 for GRU, 1 for SimpleRNN.
    var gateCount: Int {
        switch kind {
        case .lstm: 4
        case .gru: 3
        default: 1
        }
    }

    /// Width of the layer's output.
    public var outputSize: Int {
        switch kind {
        case .dropout: inputSize
        case .lstm, .gru, .simpleRNN: bidirectional == .concat ? 2 * units : units
        case .embedding, .dense: units
        }
    }
}

/// What an imported checkpoint's config holds (`Checkpoint.config`, task `keras`).
public struct KerasModelConfig: Codable, Equatable, Sendable {
    /// The layers in the order the model applies them.
    public var layers: [KerasLayerSpec]
    /// False when the file came without a config: `layers` is then in name order with Keras' default options,
    /// and `KerasModel` refuses to build from it (`KerasError.incompleteModel`).
    public var complete: Bool

    /// A model of `layers`, in order.
    public init(layers: [KerasLayerSpec], complete: Bool) {
        self.layers = layers
        self.complete = complete
    }
}
