import RecurrentTensor

/// A stacked, optionally bidirectional recurrent layer over whole sequences, PyTorch's `nn.RNNBase`:
/// the machinery shared by `RNN`, `LSTM` and `GRU`. Each layer and direction runs as one fused
/// autograd node (see FusedRecurrence.swift).
///
/// Parameters carry PyTorch's names and shapes (`weight_ih_l0`, `weight_hh_l0_reverse`, …), so a
/// PyTorch `state_dict()` loads with `loadParameters`.
///
/// The typed layers `RNN`, `GRU` (state: h) and `LSTM` (state: `LSTMState`) are called as
/// `layer(input, state:, lengths:)` → `(output, state)`, with the state type of their cell. A layer built
/// with `init(kind:…)`, whose kind is a run-time value, takes and returns a `RecurrentState` the same way
/// (through `RecurrentNetwork`).
open class RecurrentLayer<Scalar: TensorScalar>: Module<Scalar> {
    /// The recurrence every layer and direction runs.
    public let kind: RecurrentCellKind
    /// I, the input features; H, the hidden features of each layer; L, the number of stacked layers.
    public let inputSize: Int, hiddenSize: Int, numLayers: Int
    /// Whether the biases exist, whether tensors are (B, T, ·), and whether a reverse direction runs.
    public let hasBias: Bool, batchFirst: Bool, bidirectional: Bool
    /// Dropout probability on the outputs of every layer but the last, in train mode.
    public let dropout: Scalar
    /// How the last layer's two directions are combined in the output.
    public let merge: BidirectionalMerge
    /// LSTM projection size (0: none).
    public let projSize: Int
    /// Generator of the between-layer dropout masks.
    public var dropoutGenerator: RandomGenerator
    /// When set, backward records ‖∂L/∂h_t‖ for every layer·direction and step t into `hiddenGradientNorms`.
    public var recordsHiddenGradientNorms = false
    /// [layer · D + direction][t], filled by the last backward pass while `recordsHiddenGradientNorms`.
    public internal(set) var hiddenGradientNorms: [[Scalar]] = []
    /// [layer · D + direction]: the plans the last call ran (tests check which path they covered).
    var fusedPlans: [FusedPlan] = []
    let weights: [DirectionWeights<Scalar>]

    /// Directions (D): 2 when bidirectional.
    public var directions: Int { bidirectional ? 2 : 1 }
    /// Width of one direction's output (P).
    public var outputWidth: Int { projSize > 0 ? projSize : hiddenSize }
    /// Width of the layer's output: D·P for concat, P for the other merge modes.
    public var outputSize: Int { merge == .concat ? directions * outputWidth : outputWidth }

    /// - Parameters:
    ///   - kind: the recurrence.
    ///   - inputSize: features I of the input.
    ///   - hiddenSize: features H of each layer's state.
    ///   - numLayers: stacked layers L.
    ///   - bias: whether bias_ih and bias_hh exist.
    ///   - batchFirst: input and output are (B, T, ·) instead of (T, B, ·) (states are not affected).
    ///   - dropout: probability of zeroing each output of every layer but the last, in train mode.
    ///   - bidirectional: run a second pass over each sequence in reverse.
    ///   - merge: how the last layer's two directions are combined in the output.
    ///   - projSize: LSTM only: project h to this width (0: no projection).
    ///   - generator: source of the U(−1/√H, 1/√H) initial values (and the dropout masks' seed), shared
    ///     with the modules built after this one.
    public init(kind: RecurrentCellKind, inputSize: Int, hiddenSize: Int, numLayers: Int = 1, bias: Bool = true, batchFirst: Bool = false,
                dropout: Scalar = 0, bidirectional: Bool = false, merge: BidirectionalMerge = .concat, projSize: Int = 0,
                generator: inout RandomGenerator) {
        precondition(inputSize > 0 && hiddenSize > 0 && numLayers > 0, "RecurrentLayer: sizes must be positive (input \(inputSize), hidden \(hiddenSize), layers \(numLayers))")
        precondition(dropout >= 0 && dropout < 1, "RecurrentLayer: dropout must be in [0, 1), got \(dropout)")
        precondition(projSize >= 0 && projSize < hiddenSize || projSize == 0, "RecurrentLayer: projSize must be below hiddenSize")
        precondition(projSize == 0 || kind == .lstm, "RecurrentLayer: projSize is only for LSTM")
        self.kind = kind
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        self.numLayers = numLayers
        hasBias = bias
        self.batchFirst = batchFirst
        self.dropout = dropout
        self.bidirectional = bidirectional
        self.merge = merge
        self.projSize = projSize
        dropoutGenerator = RandomGenerator(seed: generator.next())
        let D = bidirectional ? 2 : 1, GH = kind.gateCount * hiddenSize
        let P = projSize > 0 ? projSize : hiddenSize
        let bound = 1 / Scalar(hiddenSize).squareRoot()
        var all: [DirectionWeights<Scalar>] = []
        var named: [(String, Tensor<Scalar>)] = []
        for layer in 0..<numLayers {
            for direction in 0..<D {
                let suffix = "_l\(layer)" + (direction == 1 ? "_reverse" : "")
                let inWidth = layer == 0 ? inputSize : D * P
                func make(_ shape: [Int]) -> Tensor<Scalar> { .uniform(shape, low: -bound, high: bound, generator: &generator) }
                let wih = make([GH, inWidth]), whh = make([GH, P])
                let bih = bias ? make([GH]) : nil, bhh = bias ? make([GH]) : nil
                let whr = projSize > 0 ? make([P, hiddenSize]) : nil
                named += [("weight_ih" + suffix, wih), ("weight_hh" + suffix, whh)]
                if let bih, let bhh { named += [("bias_ih" + suffix, bih), ("bias_hh" + suffix, bhh)] }
                if let whr { named.append(("weight_hr" + suffix, whr)) }
                all.append(DirectionWeights(weightIH: wih, weightHH: whh, biasIH: bih, biasHH: bhh, weightHR: whr))
            }
        }
        weights = all
        super.init()
        for (name, t) in named { registerParameter(name, t) }
    }

    /// PyTorch's default initialisation, U(−1/√H, 1/√H), from a generator seeded with `seed`.
    public convenience init(kind: RecurrentCellKind, inputSize: Int, hiddenSize: Int, numLayers: Int = 1, bias: Bool = true,
                            batchFirst: Bool = false, dropout: Scalar = 0, bidirectional: Bool = false,
                            merge: BidirectionalMerge = .concat, projSize: Int = 0, seed: UInt64 = 0) {
        var generator = RandomGenerator(seed: seed)
        self.init(kind: kind, inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers, bias: bias, batchFirst: batchFirst,
                  dropout: dropout, bidirectional: bidirectional, merge: merge, projSize: projSize, generator: &generator)
    }

    /// Runs the layer over whole sequences, from the initial states h0 (and, for LSTM, c0) of every layer
    /// and direction: what `RNN`, `GRU`, `LSTM` and `RecurrentNetwork.run` wrap in their state types.
    /// - Parameters:
    ///   - input: (T, B, I), or (B, T, I) when `batchFirst`.
    ///   - h0: (L·D, B, P); zeros when nil.
    ///   - c0: LSTM only: (L·D, B, H); zeros when nil.
    ///   - lengths: valid steps of each sequence, B values in 0...T (see RecurrentState.swift); nil: all T.
    /// - Returns: output (T, B, outputSize) (batch first if `batchFirst`), final h (L·D, B, P) and, for
    ///   LSTM, final c (L·D, B, H).
    func forward(_ input: Tensor<Scalar>, h0 initialH: Tensor<Scalar>?, c0 initialC: Tensor<Scalar>?, lengths: [Int]?)
        -> (output: Tensor<Scalar>, h: Tensor<Scalar>, c: Tensor<Scalar>?) {
        precondition(input.rank == 3, "\(kind.rawValue): input must be 3-D (T, B, I), got \(input.shape)")
        var x = batchFirst ? input.transposed(0, 1) : input      // (T, B, I)
        let (T, B) = (x.shape[0], x.shape[1])
        checkShapes("\(kind.rawValue) input", input.shape, [inputSize], x.shape[2] == inputSize)
        let lengths = validLengths(lengths, steps: T, batch: B, kind.rawValue)
        let D = directions, P = outputWidth, H = hiddenSize
        if let initialH {
            checkShapes("\(kind.rawValue) h0", initialH.shape, [numLayers * D, B, P], initialH.shape == [numLayers * D, B, P])
        }
        if let initialC {
            precondition(kind == .lstm, "\(kind.rawValue): only an LSTM has a cell state c0")
            checkShapes("LSTM c0", initialC.shape, [numLayers * D, B, H], initialC.shape == [numLayers * D, B, H])
        }
        if recordsHiddenGradientNorms { hiddenGradientNorms = Array(repeating: [], count: numLayers * D) }
        // Read on this thread: a bidirectional layer's second direction runs on the pair's helper thread.
        let configuration = FusedConfiguration.current, recording = isGradEnabled
        fusedPlans = []

        var finalH: [Tensor<Scalar>] = [], finalC: [Tensor<Scalar>] = []
        for layer in 0..<numLayers {
            func initial(_ index: Int) -> (h0: Tensor<Scalar>, c0: Tensor<Scalar>?) {
                let h0 = initialH.map { $0.slice(axis: 0, index..<(index + 1)).reshaped([B, P]) } ?? Tensor.zeros([B, P])
                let c0: Tensor<Scalar>? = kind != .lstm ? nil
                    : initialC.map { $0.slice(axis: 0, index..<(index + 1)).reshaped([B, H]) } ?? Tensor.zeros([B, H])
                return (h0, c0)
            }
            func sequence(_ direction: Int, _ h0: Tensor<Scalar>, _ c0: Tensor<Scalar>?) -> FusedSequence<Scalar> {
                let index = layer * D + direction
                let record: (([Scalar]) -> Void)? = recordsHiddenGradientNorms ? { [weak self] norms in self?.hiddenGradientNorms[index] = norms } : nil
                return fusedSequence(kind, x: x, h0: h0, c0: c0, weights: weights[index], lengths: lengths, reverse: direction == 1,
                                     configuration: configuration, recording: recording, onHiddenGradientNorm: record)
            }
            var sequences: [FusedSequence<Scalar>] = []
            // Inference runs the directions one after the other, each split over both cores, where its steps split:
            // two directions at once stream twice the weights through the shared cache each step (bilstm-256
            // inference ran at 1.24× one core's speed for 1.37× its CPU that way, against 1.75× for 1.07× split).
            let splitsEachDirection = !recording && projSize == 0 && kind != .gruResetBefore
            if D == 2, !splitsEachDirection, let both = bothDirections(configuration, batch: B, initial(layer * 2), initial(layer * 2 + 1), sequence) {
                sequences = both
            } else {
                for direction in 0..<D {
                    let (h0, c0) = initial(layer * D + direction)
                    let s = sequence(direction, h0, c0)
                    s.record("\(kind.rawValue)Sequence")
                    sequences.append(s)
                }
            }
            let outputs = sequences.map(\.output)
            fusedPlans += sequences.map(\.plan)
            for s in sequences {
                finalH.append(s.h.reshaped([1, B, P]))
                if let c = s.c { finalC.append(c.reshaped([1, B, H])) }
            }
            let last = layer == numLayers - 1
            x = D == 1 ? outputs[0] : (last ? mergeDirections(outputs[0], outputs[1]) : Tensor.concat(outputs, axis: 2))
            if !last, isTraining, dropout > 0 {
                x = x * dropoutMask(x.shape, p: dropout, generator: &dropoutGenerator)
            }
        }
        return (batchFirst ? x.transposed(0, 1) : x, Tensor.concat(finalH, axis: 0), finalC.isEmpty ? nil : Tensor.concat(finalC, axis: 0))
    }

    /// Both directions of one layer at once, one per core (each with single-threaded BLAS), recorded as
    /// one node whose backward also walks the two directions concurrently: no per-step hand-off between
    /// cores at all, unlike splitting each direction's steps. When the helper thread is unavailable the
    /// directions run one after the other the same way. Nil when the steps are too small for a second
    /// core to pay; the caller then records the directions as separate nodes.
    func bothDirections(_ configuration: FusedConfiguration, batch B: Int, _ forwardState: (h0: Tensor<Scalar>, c0: Tensor<Scalar>?),
                        _ backwardState: (h0: Tensor<Scalar>, c0: Tensor<Scalar>?),
                        _ sequence: (Int, Tensor<Scalar>, Tensor<Scalar>?) -> FusedSequence<Scalar>) -> [FusedSequence<Scalar>]? {
        // Chosen by shape only, and single-threaded BLAS either way, so the arithmetic never depends on
        // whether the two directions actually ran at the same time (bit-identical reruns).
        guard FusedPlan.pairsDirections(kind, B: B, H: hiddenSize, P: outputWidth, configuration: configuration) else { return nil }
        var forward: FusedSequence<Scalar>?, backward: FusedSequence<Scalar>?      // one per part: no shared mutable state
        let schedule = PairSchedule(configuration)
        schedule.run(phases: 1) { part, _ in
            if part == 0 { forward = sequence(0, forwardState.h0, forwardState.c0) }
            else { backward = sequence(1, backwardState.h0, backwardState.c0) }
        }
        guard let forward, let backward else { return nil }
        let counts = (forward.outputs.count, backward.outputs.count)
        let gradients = (forward.gradients, backward.gradients)
        Tensor.record("\(kind.rawValue)Bidirectional", inputs: forward.inputs + backward.inputs, outputs: forward.outputs + backward.outputs) { grads in
            let forwardGrads = Array(grads[0..<counts.0]), backwardGrads = Array(grads[counts.0..<(counts.0 + counts.1)])
            var walked: (FusedSequenceGradients<Scalar>.Walked?, FusedSequenceGradients<Scalar>.Walked?) = (nil, nil)
            schedule.run(phases: 1) { part, _ in
                if part == 0 { walked.0 = gradients.0.walk(forwardGrads) } else { walked.1 = gradients.1.walk(backwardGrads) }
            }
            return gradients.0.finish(walked.0) + gradients.1.finish(walked.1)
        }
        return [forward, backward]
    }

    func mergeDirections(_ forward: Tensor<Scalar>, _ backward: Tensor<Scalar>) -> Tensor<Scalar> {
        switch merge {
        case .concat: Tensor.concat([forward, backward], axis: 2)
        case .sum: forward + backward
        case .mean: (forward + backward) * Scalar(0.5)
        case .multiply: forward * backward
        }
    }
}

extension RecurrentLayer {
    /// The typed call of the layers whose state is one tensor h (`RNN`, `GRU`).
    func forwardHidden(_ input: Tensor<Scalar>, h0: Tensor<Scalar>?, lengths: [Int]?) -> (output: Tensor<Scalar>, state: Tensor<Scalar>) {
        let r = forward(input, h0: h0, c0: nil, lengths: lengths)
        return (r.output, r.h)
    }
}

// The typed layers. Each is called as `layer(input, state:, lengths:)` → `(output, state)` with its cell's
// state type (layer shapes: (L·D, B, ·)), and has two constructors: one drawing from a shared generator,
// one with PyTorch's default initialisation from `seed`.
//
//   - input: (T, B, I), or (B, T, I) when `batchFirst`.
//   - state: the initial state of every layer and direction; zeros when nil.
//   - lengths: valid steps of each sequence, B values in 0...T (see RecurrentState.swift for the rule and
//     PyTorch's); outputs past a length are zero and the final state is taken after the last valid step.
//     No sorting or packing needed. Nil: all T.
//   - Returns: output (T, B, outputSize) (batch first if `batchFirst`) and the final state.

/// Elman RNN, PyTorch's `nn.RNN`: h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh). State: h (L·D, B, H).
public final class RNN<Scalar: TensorScalar>: RecurrentLayer<Scalar> {
    /// - Parameters: as `RecurrentLayer.init(kind:…)`; `nonlinearity` picks `.rnnTanh` or `.rnnRelu`.
    public init(inputSize: Int, hiddenSize: Int, numLayers: Int = 1, nonlinearity: Nonlinearity = .tanh, bias: Bool = true,
                batchFirst: Bool = false, dropout: Scalar = 0, bidirectional: Bool = false, merge: BidirectionalMerge = .concat,
                generator: inout RandomGenerator) {
        super.init(kind: nonlinearity == .tanh ? .rnnTanh : .rnnRelu, inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers,
                   bias: bias, batchFirst: batchFirst, dropout: dropout, bidirectional: bidirectional, merge: merge, projSize: 0,
                   generator: &generator)
    }

    /// PyTorch's default initialisation, U(−1/√H, 1/√H), from a generator seeded with `seed`.
    public convenience init(inputSize: Int, hiddenSize: Int, numLayers: Int = 1, nonlinearity: Nonlinearity = .tanh, bias: Bool = true,
                            batchFirst: Bool = false, dropout: Scalar = 0, bidirectional: Bool = false,
                            merge: BidirectionalMerge = .concat, seed: UInt64 = 0) {
        var generator = RandomGenerator(seed: seed)
        self.init(inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers, nonlinearity: nonlinearity, bias: bias,
                  batchFirst: batchFirst, dropout: dropout, bidirectional: bidirectional, merge: merge, generator: &generator)
    }

    /// - Parameters:
    ///   - input: (T, B, I), or (B, T, I) when `batchFirst`.
    ///   - state: h0 (L·D, B, H); zeros when nil.
    ///   - lengths: B values in 0...T; nil: all T.
    /// - Returns: output (T, B, outputSize) and the final h (L·D, B, H).
    public func callAsFunction(_ input: Tensor<Scalar>, state: Tensor<Scalar>? = nil, lengths: [Int]? = nil)
        -> (output: Tensor<Scalar>, state: Tensor<Scalar>) {
        forwardHidden(input, h0: state, lengths: lengths)
    }
}

/// Long short-term memory, PyTorch's `nn.LSTM` (gates i, f, g, o; optional projection of h).
/// State: `LSTMState`, h (L·D, B, P) and c (L·D, B, H).
public final class LSTM<Scalar: TensorScalar>: RecurrentLayer<Scalar> {
    /// - Parameters: as `RecurrentLayer.init(kind:…)`.
    public init(inputSize: Int, hiddenSize: Int, numLayers: Int = 1, bias: Bool = true, batchFirst: Bool = false,
                dropout: Scalar = 0, bidirectional: Bool = false, merge: BidirectionalMerge = .concat, projSize: Int = 0,
                generator: inout RandomGenerator) {
        super.init(kind: .lstm, inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers, bias: bias,
                   batchFirst: batchFirst, dropout: dropout, bidirectional: bidirectional, merge: merge, projSize: projSize,
                   generator: &generator)
    }

    /// PyTorch's default initialisation, U(−1/√H, 1/√H), from a generator seeded with `seed`.
    public convenience init(inputSize: Int, hiddenSize: Int, numLayers: Int = 1, bias: Bool = true, batchFirst: Bool = false,
                            dropout: Scalar = 0, bidirectional: Bool = false, merge: BidirectionalMerge = .concat, projSize: Int = 0,
                            seed: UInt64 = 0) {
        var generator = RandomGenerator(seed: seed)
        self.init(inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers, bias: bias, batchFirst: batchFirst,
                  dropout: dropout, bidirectional: bidirectional, merge: merge, projSize: projSize, generator: &generator)
    }

    /// - Parameters:
    ///   - input: (T, B, I), or (B, T, I) when `batchFirst`.
    ///   - state: h0 (L·D, B, P) and c0 (L·D, B, H); zeros when nil.
    ///   - lengths: B values in 0...T; nil: all T.
    /// - Returns: output (T, B, outputSize) and the final h (L·D, B, P) and c (L·D, B, H).
    public func callAsFunction(_ input: Tensor<Scalar>, state: LSTMState<Scalar>? = nil, lengths: [Int]? = nil)
        -> (output: Tensor<Scalar>, state: LSTMState<Scalar>) {
        let r = forward(input, h0: state?.h, c0: state?.c, lengths: lengths)
        return (r.output, LSTMState(h: r.h, c: r.c!))
    }
}

/// Gated recurrent unit, PyTorch's `nn.GRU` (gates r, z, n). `resetAfter: false` selects the
/// original paper's variant, which applies the reset gate before the recurrent product. State: h (L·D, B, H).
public final class GRU<Scalar: TensorScalar>: RecurrentLayer<Scalar> {
    /// - Parameters: as `RecurrentLayer.init(kind:…)`; `resetAfter` picks `.gru` or `.gruResetBefore`.
    public init(inputSize: Int, hiddenSize: Int, numLayers: Int = 1, bias: Bool = true, batchFirst: Bool = false,
                dropout: Scalar = 0, bidirectional: Bool = false, merge: BidirectionalMerge = .concat, resetAfter: Bool = true,
                generator: inout RandomGenerator) {
        super.init(kind: resetAfter ? .gru : .gruResetBefore, inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers,
                   bias: bias, batchFirst: batchFirst, dropout: dropout, bidirectional: bidirectional, merge: merge, projSize: 0,
                   generator: &generator)
    }

    /// PyTorch's default initialisation, U(−1/√H, 1/√H), from a generator seeded with `seed`.
    public convenience init(inputSize: Int, hiddenSize: Int, numLayers: Int = 1, bias: Bool = true, batchFirst: Bool = false,
                            dropout: Scalar = 0, bidirectional: Bool = false, merge: BidirectionalMerge = .concat, resetAfter: Bool = true,
                            seed: UInt64 = 0) {
        var generator = RandomGenerator(seed: seed)
        self.init(inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers, bias: bias, batchFirst: batchFirst,
                  dropout: dropout, bidirectional: bidirectional, merge: merge, resetAfter: resetAfter, generator: &generator)
    }

    /// - Parameters:
    ///   - input: (T, B, I), or (B, T, I) when `batchFirst`.
    ///   - state: h0 (L·D, B, H); zeros when nil.
    ///   - lengths: B values in 0...T; nil: all T.
    /// - Returns: output (T, B, outputSize) and the final h (L·D, B, H).
    public func callAsFunction(_ input: Tensor<Scalar>, state: Tensor<Scalar>? = nil, lengths: [Int]? = nil)
        -> (output: Tensor<Scalar>, state: Tensor<Scalar>) {
        forwardHidden(input, h0: state, lengths: lengths)
    }
}
