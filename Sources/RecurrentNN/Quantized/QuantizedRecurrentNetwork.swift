import RecurrentTensor

/// An inference-only form of a stacked `RecurrentLayer` (Elman RNN, LSTM, reset-after GRU; one or two
/// directions, concatenated): the products x·W_ihᵀ and h·W_hhᵀ run at a `Precision` (QuantizedMatrix.swift),
/// the gates stay fp32 and run the fused layer's gate kernels (LSTMGates, GRUGates, RNNGates). Per layer and
/// direction, the structure of FusedForward without its splits: the input projection of all steps as one
/// product with the folded biases, then per step the recurrent product of every row and one gate pass per
/// active row. Sequences shorter than T keep their state past their length and write zeros, as the fused
/// layer does.
///
/// No parameters, no autograd: a quantized network cannot be trained (`QuantizationError.inferenceOnly` for an
/// input that requires a gradient); quantize the trained fp32 layer again after training.
public final class QuantizedRecurrentNetwork: @unchecked Sendable {
    /// The precision of the products.
    public let precision: Precision
    /// The recurrence.
    public let kind: RecurrentCellKind
    /// I, the input features; H, the hidden features of each layer; L, the stacked layers.
    public let inputSize: Int, hiddenSize: Int, numLayers: Int
    /// D: 2 when bidirectional.
    public let directions: Int
    /// Width of the network's output at each step (D · H).
    public var outputFeatures: Int { directions * hiddenSize }

    struct Direction {
        let input: QuantizedMatrix          // W_ih (G·H, I) with b_ih plus the linear part of b_hh
        let recurrent: QuantizedMatrix      // W_hh (G·H, H), no bias
        let bhn: [Float]?                   // GRU's b_hn (H), inside r ⊙ (W_hn h + b_hn)
    }
    let weights: [Direction]                // [layer · D + direction]

    /// Quantizes `layer`'s weights (copied: later changes to the layer do not reach this network).
    /// - Throws: `QuantizationError.unsupported` for what this forward does not implement: the reset-before GRU,
    ///   an LSTM projection, batch-first tensors, a merge other than concatenation; and int8 depths beyond
    ///   `QuantizedMatrix.maximumInt8Depth`.
    public convenience init(_ layer: RecurrentLayer<Float>, precision: Precision) throws {
        try self.init(layer, precision: precision, kernel: .selected)
    }

    init(_ layer: RecurrentLayer<Float>, precision: Precision, kernel: QuantizedKernel) throws {
        guard layer.kind != .gruResetBefore else { throw QuantizationError.unsupported("the reset-before GRU (its second product mid-step)") }
        guard layer.projSize == 0 else { throw QuantizationError.unsupported("an LSTM with a projection (projSize \(layer.projSize))") }
        guard !layer.batchFirst else { throw QuantizationError.unsupported("a batch-first layer") }
        guard layer.merge == .concat || !layer.bidirectional else {
            throw QuantizationError.unsupported("a bidirectional layer whose directions are merged by \(layer.merge.rawValue)")
        }
        (self.precision, kind, inputSize, hiddenSize, numLayers, directions) =
            (precision, layer.kind, layer.inputSize, layer.hiddenSize, layer.numLayers, layer.directions)
        let H = layer.hiddenSize, GH = layer.kind.gateCount * H, isGRU = layer.kind == .gru
        func array(_ t: Tensor<Float>) -> [Float] { Array(UnsafeBufferPointer(start: t.data, count: t.count)) }
        weights = try layer.weights.map { w in
            var bias: [Float]? = nil
            if w.biasIH != nil || w.biasHH != nil {
                var b = w.biasIH.map(array) ?? [Float](repeating: 0, count: GH)
                if let bhh = w.biasHH.map(array) { for j in 0..<(isGRU ? 2 * H : GH) { b[j] += bhh[j] } }
                bias = b
            }
            let bhn = isGRU ? w.biasHH.map { Array(array($0)[(2 * H)...]) } : nil
            return Direction(input: try QuantizedMatrix(weight: array(w.weightIH), rows: GH, depth: w.weightIH.shape[1], bias: bias,
                                                        precision: precision, kernel: kernel),
                             recurrent: try QuantizedMatrix(weight: array(w.weightHH), rows: GH, depth: H, bias: nil,
                                                            precision: precision, kernel: kernel),
                             bhn: bhn)
        }
    }

    /// Runs the network over whole sequences, as `RecurrentNetwork.run` does.
    /// - Parameters:
    ///   - input: (T, B, I), not requiring a gradient.
    ///   - state: the initial state of every layer and direction, (L·D, B, H): `.lstm` for an LSTM, `.hidden`
    ///     for the others; zeros when nil.
    ///   - lengths: valid steps of each sequence, B values in 0...T; nil: all T.
    /// - Returns: output (T, B, D·H), zero past each length, and the final state.
    /// - Throws: `QuantizationError.inferenceOnly` when the input requires a gradient.
    public func run(_ input: Tensor<Float>, state: RecurrentState<Float>? = nil, lengths: [Int]? = nil)
        throws(QuantizationError) -> (output: Tensor<Float>, state: RecurrentState<Float>) {
        guard !input.requiresGrad else { throw .inferenceOnly }
        precondition(input.rank == 3 && input.shape[2] == inputSize, "Quantized \(kind.rawValue): expects (T, B, \(inputSize)), got \(input.shape)")
        let (T, B, H, D, L) = (input.shape[0], input.shape[1], hiddenSize, directions, numLayers)
        let lengths = lengths ?? Array(repeating: T, count: B)
        precondition(lengths.count == B && lengths.allSatisfy { (0...T).contains($0) }, "Quantized \(kind.rawValue): lengths \(lengths) for T \(T), B \(B)")
        let isLSTM = kind == .lstm
        var h0: Tensor<Float>? = nil, c0: Tensor<Float>? = nil
        switch state {
        case let .lstm(s)?:
            precondition(isLSTM, "\(kind.rawValue): expects a .hidden state, got an LSTM's .lstm(LSTMState)")
            (h0, c0) = (s.h, s.c)
        case let .hidden(h)?:
            precondition(!isLSTM, "LSTM: expects an .lstm(LSTMState(h:c:)) state, got .hidden")
            h0 = h
        case nil: break
        }
        for t in [h0, c0].compactMap({ $0 }) { precondition(t.shape == [L * D, B, H], "Quantized \(kind.rawValue): state must be \([L * D, B, H]), got \(t.shape)") }
        let hOut = Tensor<Float>(zeros: [L * D, B, H]), cOut = isLSTM ? Tensor<Float>(zeros: [L * D, B, H]) : nil
        let scratch = QuantizedScratch()
        var x = input
        for l in 0..<L {
            let out = Tensor<Float>(zeros: [T, B, D * H])
            for d in 0..<D {
                let index = l * D + d
                runDirection(weights[index], x: x, out: out, column: d * H, reverse: d == 1, lengths: lengths,
                             h0: h0.map { $0.data + index * B * H }, c0: c0.map { $0.data + index * B * H },
                             hFinal: hOut.data + index * B * H, cFinal: cOut.map { $0.data + index * B * H }, scratch: scratch)
            }
            x = out
        }
        return (x, cOut.map { .lstm(LSTMState(h: hOut, c: $0)) } ?? .hidden(hOut))
    }

    /// One layer and direction: x (T, B, I') into columns [column, column + H) of out (T, B, D·H). With enough
    /// rows and work (FusedConfiguration's `batchSplitMinimumRows`, `splitMinimumWork`), split over the two cores
    /// as the fused layer's batch split is: each part projects half of the T·B input rows, then (after a barrier)
    /// runs its own half of the batch through every step. Activations are quantized per row, so the result
    /// does not depend on the split.
    func runDirection(_ w: Direction, x: Tensor<Float>, out: Tensor<Float>, column: Int, reverse: Bool, lengths: [Int],
                      h0: UnsafeMutablePointer<Float>?, c0: UnsafeMutablePointer<Float>?, hFinal: UnsafeMutablePointer<Float>,
                      cFinal: UnsafeMutablePointer<Float>?, scratch: QuantizedScratch) {
        let (T, B, I, H) = (x.shape[0], x.shape[1], x.shape[2], hiddenSize), GH = kind.gateCount * H
        let xw = UnsafeMutablePointer<Float>.allocate(capacity: T * B * GH)            // (T, B, G·H) x·W_ihᵀ + biases
        defer { xw.deallocate() }
        let configuration = FusedConfiguration.current
        let split = B >= configuration.batchSplitMinimumRows && B * GH * H >= configuration.splitMinimumWork
        guard split else {
            w.input.product(m: T * B, a: x.data, lda: I, c: xw, ldc: GH, scratch: scratch)
            runRows(0..<B, w, xw: xw, B: B, out: out, column: column, reverse: reverse, lengths: lengths, h0: h0, c0: c0, hFinal: hFinal,
                    cFinal: cFinal, scratch: scratch, kernels: configuration.kernels)
            return
        }
        let rows = T * B, middle = rows / 2, half = B / 2
        let second = QuantizedScratch(), xp = x.data
        PairSchedule(configuration).run(phases: 2, barrierAfter: { $0 == 0 }) { part, phase in
            let (r0, r1) = part == 0 ? (0, middle) : (middle, rows)
            if phase == 0 {
                w.input.product(m: r1 - r0, a: xp + r0 * I, lda: I, c: xw + r0 * GH, ldc: GH, scratch: part == 0 ? scratch : second)
            } else {
                runRows(part == 0 ? 0..<half : half..<B, w, xw: xw, B: B, out: out, column: column, reverse: reverse, lengths: lengths,
                        h0: h0, c0: c0, hFinal: hFinal, cFinal: cFinal, scratch: part == 0 ? scratch : second, kernels: configuration.kernels)
            }
        }
    }

    /// Batch rows `rows` of one direction through every step, from the projection xw (T, B, G·H).
    func runRows(_ rows: Range<Int>, _ w: Direction, xw: UnsafeMutablePointer<Float>, B: Int, out: Tensor<Float>, column: Int, reverse: Bool,
                 lengths: [Int], h0: UnsafeMutablePointer<Float>?, c0: UnsafeMutablePointer<Float>?, hFinal: UnsafeMutablePointer<Float>,
                 cFinal: UnsafeMutablePointer<Float>?, scratch: QuantizedScratch, kernels: KernelChoice) {
        let (T, H, n, b0) = (out.shape[0], hiddenSize, rows.count, rows.lowerBound), GH = kind.gateCount * H
        let width = out.shape[2], isLSTM = kind == .lstm
        let hw = UnsafeMutablePointer<Float>.allocate(capacity: n * GH)                // (n, G·H) h·W_hhᵀ
        let states = UnsafeMutablePointer<Float>.allocate(capacity: 4 * n * H)         // h, h', c, c': (n, H) each
        let rowScratch = UnsafeMutablePointer<Float>.allocate(capacity: GH + 2 * H)    // gates (G·H), tanh c or W_hn h (H)
        defer { hw.deallocate(); states.deallocate(); rowScratch.deallocate() }
        var (h, hNext, c, cNext) = (states, states + n * H, states + 2 * n * H, states + 3 * n * H)
        if let h0 { h.update(from: h0 + b0 * H, count: n * H) } else { h.initialize(repeating: 0, count: n * H) }
        if let c0 { c.update(from: c0 + b0 * H, count: n * H) } else { c.initialize(repeating: 0, count: n * H) }
        let outp = out.data, g = rowScratch, aux = rowScratch + GH
        w.bhn.withUnsafeBufferPointerIfAny { bhnConst in
            let bhn = bhnConst.map { UnsafeMutablePointer(mutating: $0) }
            for s in 0..<T {
                w.recurrent.product(m: n, a: h, lda: H, c: hw, ldc: GH, scratch: scratch)
                for r in 0..<n {
                    let b = b0 + r
                    guard s < lengths[b] else {                                 // finished: carry the state
                        (hNext + r * H).update(from: h + r * H, count: H)
                        if isLSTM { (cNext + r * H).update(from: c + r * H, count: H) }
                        continue
                    }
                    let t = reverse ? lengths[b] - 1 - s : s
                    let xr = xw + (t * B + b) * GH, hr = hw + r * GH, hn = hNext + r * H
                    switch kind {
                    case .lstm:
                        LSTMGates.forward(xr, hr, g, c + r * H, cNext + r * H, hn, aux, H, stride: H, hStride: H, kernels: kernels)
                    case .gru:
                        GRUGates.forward(xr, hr, bhn, g, h + r * H, hn, aux, H, stride: H, hStride: H, kernels: kernels)
                    case .rnnTanh, .rnnRelu:
                        RNNGates.forward(relu: kind == .rnnRelu, xr, hr, hn, H, kernels: kernels)
                    case .gruResetBefore:
                        preconditionFailure("QuantizedRecurrentNetwork: the reset-before GRU is refused at quantization")
                    }
                    (outp + (t * B + b) * width + column).update(from: hn, count: H)
                }
                swap(&h, &hNext)
                swap(&c, &cNext)
            }
        }
        (hFinal + b0 * H).update(from: h, count: n * H)
        if let cFinal { (cFinal + b0 * H).update(from: c, count: n * H) }
    }
}

extension RecurrentLayer where Scalar == Float {
    /// This layer for inference at `precision`: see `QuantizedRecurrentNetwork`.
    /// - Throws: `QuantizationError.unsupported` for what the quantized forward does not implement.
    public func quantized(_ precision: Precision) throws -> QuantizedRecurrentNetwork {
        try QuantizedRecurrentNetwork(self, precision: precision)
    }
}
