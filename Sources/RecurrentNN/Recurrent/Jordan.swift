import RecurrentTensor

/// A Jordan network over whole sequences: stacked, optionally bidirectional, with variable lengths.
///
/// Per layer k and direction (see `JordanCell` for the recurrence):
///
///     h_t = act(x_t·W_ihᵀ + y_{t−1}·W_yhᵀ + b_ih),   y_t = act_out(h_t·W_hoᵀ + b_ho)
///
/// Layer k > 0 reads layer k−1's output sequence y (both directions concatenated, D·O features).
/// Parameters, PyTorch-style: weight_ih_l{k} (H, I_k), weight_yh_l{k} (H, O), weight_ho_l{k} (O, H),
/// bias_ih_l{k} (H), bias_ho_l{k} (O), and the same with `_reverse` for the backward direction;
/// I_0 = inputSize, I_k = D·O; all U(−1/√H, 1/√H).
///
/// Each layer is ONE autograd node with hand-written BPTT: the input projection of all steps is one
/// GEMM, each step does two small GEMMs (y_{t−1}·W_yhᵀ and h_t·W_hoᵀ), and the backward walks the
/// steps in reverse and finishes with one GEMM per weight over all steps.
///
/// Called as every layer is, `jordan(input, state:, lengths:)` → `(output, state)`; its state is y
/// (L·D, B, O), as `JordanCell`'s is y (B, O).
public final class Jordan<Scalar: TensorScalar>: Module<Scalar> {
    /// I, the input features; H, the hidden features of each layer; O, the output (fed-back) features of each layer; L, the number of layers.
    public let inputSize: Int, hiddenSize: Int, outputSize: Int, numLayers: Int
    /// Whether the biases exist, whether tensors are (B, T, ·), and whether a reverse direction runs.
    public let hasBias: Bool, batchFirst: Bool, bidirectional: Bool
    /// Dropout probability on the outputs of every layer but the last, in train mode (as `RecurrentLayer`).
    public let dropout: Scalar
    /// Generator of the between-layer dropout masks.
    public var dropoutGenerator: RandomGenerator
    /// The hidden layer's activation φ.
    public let activation: Nonlinearity
    /// The output's activation ψ.
    public let outputActivation: OutputActivation
    /// D: 2 when bidirectional, else 1.
    public var directions: Int { bidirectional ? 2 : 1 }
    /// [layer][direction]
    let weights: [[JordanWeights<Scalar>]]
    /// When set, backward records ‖∂L/∂y_t‖ (y is the state a Jordan network carries) for every
    /// layer·direction and step t into `hiddenGradientNorms`, as `RecurrentLayer` does for h_t.
    public var recordsHiddenGradientNorms = false
    /// [layer · D + direction][t], filled by the last backward pass while `recordsHiddenGradientNorms`.
    public internal(set) var hiddenGradientNorms: [[Scalar]] = []

    /// - Parameters:
    ///   - inputSize: features I of the input.
    ///   - hiddenSize: features H of each hidden layer.
    ///   - outputSize: features O of each layer's output y (fed back, and passed to the next layer).
    ///   - numLayers: stacked layers L.
    ///   - bias: whether bias_ih and bias_ho exist.
    ///   - batchFirst: input and output are (B, T, ·) instead of (T, B, ·).
    ///   - dropout: probability of zeroing each output of every layer but the last, in train mode. Only a
    ///     positive dropout draws the masks' seed from `generator` (after the weights), so a network
    ///     without it takes exactly the same values from `generator` as before the option existed.
    ///   - bidirectional: run a second pass over each sequence in reverse; outputs are concatenated.
    ///   - activation: of the hidden layer, `.tanh` (default) or `.relu`.
    ///   - outputActivation: of y, `.tanh` (default), `.sigmoid` or `.identity`.
    ///   - generator: source of the U(−1/√H, 1/√H) initial values, shared with the modules built after this one.
    public init(inputSize: Int, hiddenSize: Int, outputSize: Int, numLayers: Int = 1, bias: Bool = true,
                batchFirst: Bool = false, dropout: Scalar = 0, bidirectional: Bool = false,
                activation: Nonlinearity = .tanh, outputActivation: OutputActivation = .tanh,
                generator: inout RandomGenerator) {
        precondition(numLayers > 0, "Jordan: numLayers must be positive, got \(numLayers)")
        precondition(dropout >= 0 && dropout < 1, "Jordan: dropout must be in [0, 1), got \(dropout)")
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        self.outputSize = outputSize
        self.numLayers = numLayers
        hasBias = bias
        self.batchFirst = batchFirst
        self.dropout = dropout
        self.bidirectional = bidirectional
        self.activation = activation
        self.outputActivation = outputActivation
        let d = bidirectional ? 2 : 1
        weights = (0..<numLayers).map { k in
            (0..<d).map { _ in
                JordanWeights(inputSize: k == 0 ? inputSize : d * outputSize, hiddenSize: hiddenSize,
                              outputSize: outputSize, bias: bias, generator: &generator)
            }
        }
        dropoutGenerator = RandomGenerator(seed: dropout > 0 ? generator.next() : 0)
        super.init()
        for (k, layer) in weights.enumerated() {
            for (dir, w) in layer.enumerated() {
                for (name, tensor) in w.named(suffix: "_l\(k)" + (dir == 1 ? "_reverse" : "")) { registerParameter(name, tensor) }
            }
        }
    }

    /// The default initialisation, U(−1/√H, 1/√H), from a generator seeded with `seed`.
    public convenience init(inputSize: Int, hiddenSize: Int, outputSize: Int, numLayers: Int = 1, bias: Bool = true,
                            batchFirst: Bool = false, dropout: Scalar = 0, bidirectional: Bool = false,
                            activation: Nonlinearity = .tanh, outputActivation: OutputActivation = .tanh, seed: UInt64 = 0) {
        var generator = RandomGenerator(seed: seed)
        self.init(inputSize: inputSize, hiddenSize: hiddenSize, outputSize: outputSize, numLayers: numLayers, bias: bias,
                  batchFirst: batchFirst, dropout: dropout, bidirectional: bidirectional, activation: activation,
                  outputActivation: outputActivation, generator: &generator)
    }

    /// A `JordanCell` sharing (not copying) the parameters of one layer and direction, to step a
    /// trained network by hand. The reverse direction's cell must be fed the sequence backwards.
    public func cell(layer: Int, direction: Int = 0) -> JordanCell<Scalar> {
        precondition(layer >= 0 && layer < numLayers && direction >= 0 && direction < directions,
                     "Jordan.cell: no layer \(layer), direction \(direction) in \(numLayers) layers × \(directions) directions")
        return JordanCell(sharing: weights[layer][direction], activation: activation, outputActivation: outputActivation)
    }

    /// Runs the network over a batch of sequences.
    /// - Parameters:
    ///   - input: (T, B, I), or (B, T, I) with `batchFirst`.
    ///   - state: y_0 per layer and direction, (L·D, B, O) with index `layer · D + direction`; nil for zeros.
    ///   - lengths: valid steps of each sequence, B values in 0...T (the rule of every layer, beside
    ///     PyTorch's: RecurrentState.swift). Outputs past a sequence's length are zero, its final y is the
    ///     one at its last valid step, and the reverse direction starts at that step (as PyTorch's packed
    ///     sequences). Nil: all T steps.
    /// - Returns: `output` (T, B, D·O) (or (B, T, D·O) with `batchFirst`), the last layer's y at every
    ///   step; `state` (L·D, B, O), every layer's and direction's last y.
    public func callAsFunction(_ input: Tensor<Scalar>, state initialY: Tensor<Scalar>? = nil, lengths: [Int]? = nil)
        -> (output: Tensor<Scalar>, state: Tensor<Scalar>) {
        precondition(input.rank == 3, "Jordan: input must be 3-D \(batchFirst ? "(B, T, I)" : "(T, B, I)"), got \(input.shape)")
        var x = batchFirst ? input.transposed(0, 1) : input              // (T, B, I)
        let (t, b) = (x.shape[0], x.shape[1])
        checkShapes("Jordan input", input.shape, batchFirst ? [b, t, inputSize] : [t, b, inputSize], x.shape[2] == inputSize)
        let d = directions
        if let initialY {
            checkShapes("Jordan state", initialY.shape, [numLayers * d, b, outputSize], initialY.shape == [numLayers * d, b, outputSize])
        }
        let steps = validLengths(lengths, steps: t, batch: b, "Jordan")
        if recordsHiddenGradientNorms { hiddenGradientNorms = Array(repeating: [], count: numLayers * d) }

        var finals: [Tensor<Scalar>] = []
        for k in 0..<numLayers {
            let y0 = initialY?.slice(axis: 0, (k * d)..<((k + 1) * d))   // (D, B, O)
            let (out, final) = layerForward(k, x, y0, lengths: steps)
            x = out
            finals.append(final)
            if k < numLayers - 1, isTraining, dropout > 0 {
                x = x * dropoutMask(x.shape, p: dropout, generator: &dropoutGenerator)
            }
        }
        let output = batchFirst ? x.transposed(0, 1) : x
        return (output, numLayers == 1 ? finals[0] : Tensor.concat(finals, axis: 0))
    }

    /// One layer, both directions, as one autograd node.
    /// - Parameters: x (T, B, I_k), y0 (D, B, O) or nil. - Returns: output (T, B, D·O), final y (D, B, O)
    private func layerForward(_ k: Int, _ x: Tensor<Scalar>, _ y0: Tensor<Scalar>?, lengths: [Int])
        -> (Tensor<Scalar>, Tensor<Scalar>) {
        let (t, b, i) = (x.shape[0], x.shape[1], x.shape[2])
        let (h, o, d) = (hiddenSize, outputSize, directions)
        let layer = weights[k]
        let out = Tensor<Scalar>(zeros: [t, b, d * o])                    // (T, B, D·O)
        let final = Tensor<Scalar>(zeros: [d, b, o])                      // (D, B, O)
        let proj = Tensor<Scalar>(zeros: [t, b, h])                       // (T, B, H) scratch: x·W_ihᵀ + b_ih
        var tapes: [JordanTape<Scalar>] = []
        for dir in 0..<d {
            let run = JordanRun(layer[dir], steps: t, batch: b, input: i, lengths: lengths, reverse: dir == 1,
                                activation: activation, outputActivation: outputActivation)
            let tape = JordanTape<Scalar>(steps: t, batch: b, hidden: h, output: o)
            run.forward(x: x.data, y0: y0.map { $0.data + dir * b * o }, proj: proj.data, tape: tape,
                        out: out.data + dir * o, outStride: d * o, finalY: final.data + dir * b * o)
            tapes.append(tape)
        }

        let inputs = [x] + (y0.map { [$0] } ?? []) + layer.flatMap(\.all)
        let (act, outAct) = (activation, outputActivation)
        let record: ((Int, [Scalar]) -> Void)? = recordsHiddenGradientNorms
            ? { [weak self] dir, norms in self?.hiddenGradientNorms[k * d + dir] = norms } : nil
        let outputs = Tensor.record("Jordan(layer \(k))", inputs: inputs, outputs: [out, final]) { grads in
            let dX: Tensor<Scalar>? = x.requiresGrad ? Tensor(zeros: x.shape) : nil
            let dY0: Tensor<Scalar>? = (y0?.requiresGrad ?? false) ? Tensor(zeros: [d, b, o]) : nil
            var paramGrads: [Tensor<Scalar>?] = []
            for dir in 0..<d {
                let w = layer[dir]
                func zeros(_ p: Tensor<Scalar>?) -> Tensor<Scalar>? { p.flatMap { $0.requiresGrad ? Tensor(zeros: $0.shape) : nil } }
                let g = JordanGradients(weightIH: zeros(w.weightIH), weightYH: zeros(w.weightYH), weightHO: zeros(w.weightHO),
                                        biasIH: zeros(w.biasIH), biasHO: zeros(w.biasHO))
                let run = JordanRun(w, steps: t, batch: b, input: i, lengths: lengths, reverse: dir == 1,
                                    activation: act, outputActivation: outAct)
                run.backward(x: x.data, dOut: grads[0].map { $0.data + dir * o }, outStride: d * o,
                             dFinal: grads[1].map { $0.data + dir * b * o }, tape: tapes[dir],
                             dX: dX?.data, dY0: dY0.map { $0.data + dir * b * o }, grads: g,
                             onStateGradientNorm: record.map { f in { f(dir, $0) } })
                paramGrads += [g.weightIH, g.weightYH, g.weightHO] + (w.biasIH == nil ? [] : [g.biasIH, g.biasHO])
            }
            return [dX] + (y0 == nil ? [] : [dY0]) + paramGrads
        }
        return (outputs[0], outputs[1])
    }
}

// MARK: fused forward and BPTT backward of one direction of one layer

/// What the backward needs from the forward, per step s (in the direction's step order, not time order).
final class JordanTape<Scalar: TensorScalar> {
    let hidden: Tensor<Scalar>     // (T, B, H) h at step s
    let output: Tensor<Scalar>     // (T, B, O) y produced at step s (every row, valid or not)
    let previous: Tensor<Scalar>   // (T, B, O) y fed in at step s

    init(steps: Int, batch: Int, hidden h: Int, output o: Int) {
        hidden = Tensor(zeros: [steps, batch, h])
        output = Tensor(zeros: [steps, batch, o])
        previous = Tensor(zeros: [steps, batch, o])
    }
}

/// Gradient destinations of one direction's parameters (nil: not needed).
struct JordanGradients<Scalar: TensorScalar> {
    let weightIH, weightYH, weightHO, biasIH, biasHO: Tensor<Scalar>?
}

/// One direction of one layer over a batch: sizes, lengths, and the kernels.
///
/// Step s of batch row b reads time t = s (forward) or t = length_b − 1 − s (reverse), and only while
/// s < length_b; past its length a row is carried unchanged (its y stays the last valid one) and its
/// output stays zero. Rows are computed in full every step so the GEMMs stay dense.
struct JordanRun<S: TensorScalar> {
    let steps: Int, batch: Int, input: Int, hidden: Int, output: Int
    let lengths: [Int]
    let reverse: Bool
    let activation: Nonlinearity
    let outputActivation: OutputActivation
    let wIH: UnsafePointer<S>, wYH: UnsafePointer<S>, wHO: UnsafePointer<S>
    let bIH: UnsafePointer<S>?, bHO: UnsafePointer<S>?

    init(_ w: JordanWeights<S>, steps: Int, batch: Int, input: Int, lengths: [Int], reverse: Bool,
         activation: Nonlinearity, outputActivation: OutputActivation) {
        self.steps = steps; self.batch = batch; self.input = input
        hidden = w.weightIH.shape[0]; output = w.weightHO.shape[0]
        self.lengths = lengths; self.reverse = reverse
        self.activation = activation; self.outputActivation = outputActivation
        wIH = UnsafePointer(w.weightIH.data); wYH = UnsafePointer(w.weightYH.data); wHO = UnsafePointer(w.weightHO.data)
        bIH = w.biasIH.map { UnsafePointer($0.data) }; bHO = w.biasHO.map { UnsafePointer($0.data) }
    }

    /// The time index row `b` reads at step `s`, or nil once the row is past its length.
    @inline(__always) func time(_ s: Int, _ b: Int) -> Int? {
        s < lengths[b] ? (reverse ? lengths[b] - 1 - s : s) : nil
    }

    /// - Parameters:
    ///   - x: (T, B, I)
    ///   - y0: (B, O) or nil for zeros
    ///   - proj: (T, B, H) scratch
    ///   - out: (T, B, ·) output, already offset to this direction's columns; row stride `outStride`
    ///   - finalY: (B, O)
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    func forward(x: UnsafePointer<S>, y0: UnsafePointer<S>?, proj: UnsafeMutablePointer<S>, tape: JordanTape<S>,
                 out: UnsafeMutablePointer<S>, outStride: Int, finalY: UnsafeMutablePointer<S>) {
        let (b, h, o) = (batch, hidden, output)
        // Input projection for all steps: one GEMM, (T·B, I)·W_ihᵀ + b_ih → (T·B, H).
        affineForward(rows: steps * b, inFeatures: input, outFeatures: h, a: x, lda: input, w: wIH, ldw: input, bias: bIH,
                      c: proj, ldc: h, accumulate: false)
        let yState = finalY                                                // (B, O): the running y, final at the end
        if let y0 { yState.update(from: y0, count: b * o) } else { yState.update(repeating: 0, count: b * o) }
        for s in 0..<steps {
            let hs = tape.hidden.data + s * b * h, ys = tape.output.data + s * b * o, yp = tape.previous.data + s * b * o
            yp.update(from: yState, count: b * o)
            for r in 0..<b {
                if let t = time(s, r) {
                    (hs + r * h).update(from: proj + (t * b + r) * h, count: h)
                } else {
                    (hs + r * h).update(repeating: 0, count: h)
                }
            }
            S.gemm(transA: false, transB: true, m: b, n: h, k: o, alpha: 1, a: yp, lda: o, b: wYH, ldb: o,
                   beta: 1, c: hs, ldc: h)                                 // + y_{t−1}·W_yhᵀ
            for j in 0..<(b * h) { hs[j] = activation.apply(hs[j]) }
            affineForward(rows: b, inFeatures: h, outFeatures: o, a: hs, lda: h, w: wHO, ldw: h, bias: bHO,
                          c: ys, ldc: o, accumulate: false)
            for j in 0..<(b * o) { ys[j] = outputActivation.apply(ys[j]) }
            for r in 0..<b {
                guard let t = time(s, r) else { continue }
                (yState + r * o).update(from: ys + r * o, count: o)
                (out + (t * b + r) * outStride).update(from: ys + r * o, count: o)
            }
        }
    }

    /// BPTT. Accumulates into dX (T, B, I) and the parameter gradients; writes dY0 (B, O).
    /// - Parameters:
    ///   - dOut: ∂L/∂output, offset to this direction's columns, row stride `outStride`; nil for zero
    ///   - dFinal: ∂L/∂finalY (B, O); nil for zero
    ///   - onStateGradientNorm: called with ‖∂L/∂y_t‖ over the active rows for each step, indexed by t.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    func backward(x: UnsafePointer<S>, dOut: UnsafePointer<S>?, outStride: Int, dFinal: UnsafePointer<S>?, tape: JordanTape<S>,
                  dX: UnsafeMutablePointer<S>?, dY0: UnsafeMutablePointer<S>?, grads: JordanGradients<S>,
                  onStateGradientNorm: (([S]) -> Void)? = nil) {
        let (b, h, o) = (batch, hidden, output)
        let dyState = Tensor<S>(zeros: [b, o])                            // (B, O) ∂L/∂y carried back to the previous step
        if let dFinal { dyState.data.update(from: dFinal, count: b * o) }
        let dZ = Tensor<S>(zeros: [steps, b, o])                          // (T, B, O) ∂L/∂(h·W_hoᵀ + b_ho), step order
        let dPre = Tensor<S>(zeros: [steps, b, h])                        // (T, B, H) ∂L/∂(pre-activation of h), step order
        let dProj = Tensor<S>(zeros: [steps, b, h])                       // (T, B, H) the same in time order, for W_ih and x
        let dyPrev = Tensor<S>(zeros: [b, o])                             // (B, O) ∂L/∂y_{t−1} of one step
        let dys = dyState.data
        var norms = onStateGradientNorm != nil ? [S](repeating: 0, count: steps) : []
        for s in stride(from: steps - 1, through: 0, by: -1) {
            let hs = tape.hidden.data + s * b * h, ys = tape.output.data + s * b * o
            let dz = dZ.data + s * b * o, dp = dPre.data + s * b * h
            var squares: S = 0
            for r in 0..<b {
                guard let t = time(s, r) else { continue }                // rows past their length stay zero
                let g = dOut.map { $0 + (t * b + r) * outStride }
                for j in 0..<o {
                    let dy = dys[r * o + j] + (g?[j] ?? 0)                // ∂L/∂y_t, all paths
                    squares += dy * dy
                    dz[r * o + j] = dy * outputActivation.derivative(output: ys[r * o + j])
                }
            }
            if onStateGradientNorm != nil { norms[reverse ? steps - 1 - s : s] = squares.squareRoot() }
            S.gemm(transA: false, transB: false, m: b, n: h, k: o, alpha: 1, a: dz, lda: o, b: wHO, ldb: h,
                   beta: 0, c: dp, ldc: h)                                 // ∂L/∂h = dz·W_ho
            for j in 0..<(b * h) { dp[j] *= activation.derivative(output: hs[j]) }
            S.gemm(transA: false, transB: false, m: b, n: o, k: h, alpha: 1, a: dp, lda: h, b: wYH, ldb: o,
                   beta: 0, c: dyPrev.data, ldc: o)                        // ∂L/∂y_{t−1} = dPre·W_yh
            for r in 0..<b {
                guard let t = time(s, r) else { continue }                // a carried row passes its gradient on unchanged
                (dys + r * o).update(from: dyPrev.data + r * o, count: o)
                (dProj.data + (t * b + r) * h).update(from: dp + r * h, count: h)
            }
        }
        dY0?.update(from: dys, count: b * o)
        onStateGradientNorm?(norms)
        // Weight gradients: one GEMM each over all T·B rows.
        affineBackward(rows: steps * b, inFeatures: input, outFeatures: h, dc: dProj.data, ldd: h, a: x, lda: input,
                       w: wIH, ldw: input, da: dX, ldda: input, dw: grads.weightIH?.data, lddw: input, dbias: grads.biasIH?.data)
        affineBackward(rows: steps * b, inFeatures: o, outFeatures: h, dc: dPre.data, ldd: h, a: tape.previous.data, lda: o,
                       w: wYH, ldw: o, da: nil, ldda: o, dw: grads.weightYH?.data, lddw: o, dbias: nil)
        affineBackward(rows: steps * b, inFeatures: h, outFeatures: o, dc: dZ.data, ldd: o, a: tape.hidden.data, lda: h,
                       w: wHO, ldw: h, da: nil, ldda: h, dw: grads.weightHO?.data, lddw: h, dbias: grads.biasHO?.data)
    }
}
