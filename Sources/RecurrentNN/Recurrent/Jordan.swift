import RecurrentTensor

// Jordan network: the previous step's OUTPUT, not its hidden state, is fed back.
//     h_t = act(W_ih x_t + b_ih + W_yh y_{t-1}),   y_t = act_out(W_ho h_t + b_ho)
// Parameters (per layer k): weight_ih_l{k} (H, I), bias_ih_l{k} (H), weight_yh_l{k} (H, O),
// weight_ho_l{k} (O, H), bias_ho_l{k} (O); init U(−1/√H, 1/√H). Layer k > 0 reads layer k−1's y.

/// Activation of a Jordan network's output y.
public enum OutputActivation: String, Sendable, CaseIterable {
    case identity, tanh, sigmoid

    @inline(__always) func apply<S: TensorScalar>(_ x: S) -> S {
        switch self {
        case .identity: x
        case .tanh: S.tanh(x)
        case .sigmoid: S.sigmoid(x)
        }
    }

    /// Derivative from the output value y.
    @inline(__always) func derivative<S: TensorScalar>(output y: S) -> S {
        switch self {
        case .identity: 1
        case .tanh: 1 - y * y
        case .sigmoid: y * (1 - y)
        }
    }

    func apply<S>(_ t: Tensor<S>) -> Tensor<S> {
        switch self {
        case .identity: t
        case .tanh: t.tanh()
        case .sigmoid: t.sigmoid()
        }
    }
}

/// One Jordan step, composed from autograd ops (for hand-written loops and as the fused layer's reference).
public final class JordanCell<Scalar: TensorScalar>: Module<Scalar> {
    public let weightIH: Tensor<Scalar>, biasIH: Tensor<Scalar>?, weightYH: Tensor<Scalar>
    public let weightHO: Tensor<Scalar>, biasHO: Tensor<Scalar>?
    public let activation: Nonlinearity, outputActivation: OutputActivation

    public init(inputSize: Int, hiddenSize: Int, outputSize: Int, bias: Bool = true, activation: Nonlinearity = .tanh,
                outputActivation: OutputActivation = .tanh, generator: inout RandomGenerator) {
        let bound = 1 / Scalar(hiddenSize).squareRoot()
        func make(_ shape: [Int]) -> Tensor<Scalar> { .uniform(shape, low: -bound, high: bound, generator: &generator) }
        weightIH = make([hiddenSize, inputSize]); biasIH = bias ? make([hiddenSize]) : nil
        weightYH = make([hiddenSize, outputSize])
        weightHO = make([outputSize, hiddenSize]); biasHO = bias ? make([outputSize]) : nil
        self.activation = activation
        self.outputActivation = outputActivation
        super.init()
        registerParameter("weight_ih", weightIH)
        if let biasIH { registerParameter("bias_ih", biasIH) }
        registerParameter("weight_yh", weightYH)
        registerParameter("weight_ho", weightHO)
        if let biasHO { registerParameter("bias_ho", biasHO) }
    }

    /// - Parameters: x (B, I); y (B, O) the previous output, nil for zeros. - Returns: h (B, H), y (B, O)
    public func callAsFunction(_ x: Tensor<Scalar>, _ y: Tensor<Scalar>? = nil) -> (h: Tensor<Scalar>, y: Tensor<Scalar>) {
        let yPrev = y ?? .zeros([x.shape[0], weightYH.shape[1]])
        var pre = x.matmul(weightIH, transposeOther: true) + yPrev.matmul(weightYH, transposeOther: true)
        if let biasIH { pre = pre + biasIH }
        let h = activation == .tanh ? pre.tanh() : pre.relu()
        var out = h.matmul(weightHO, transposeOther: true)
        if let biasHO { out = out + biasHO }
        return (h, outputActivation.apply(out))
    }
}

/// A stacked Jordan network over whole sequences; each layer is one fused autograd node with BPTT.
public final class Jordan<Scalar: TensorScalar>: Module<Scalar> {
    public let inputSize: Int, hiddenSize: Int, outputSize: Int, numLayers: Int, batchFirst: Bool, bidirectional: Bool
    public let activation: Nonlinearity, outputActivation: OutputActivation
    /// Per layer and direction (index layer · D + direction): weight_ih, bias_ih?, weight_yh, weight_ho, bias_ho?
    let layers: [JordanCell<Scalar>]
    public var directions: Int { bidirectional ? 2 : 1 }

    public init(inputSize: Int, hiddenSize: Int, outputSize: Int, numLayers: Int = 1, bias: Bool = true, batchFirst: Bool = false,
                bidirectional: Bool = false, activation: Nonlinearity = .tanh, outputActivation: OutputActivation = .tanh,
                generator: inout RandomGenerator) {
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        self.outputSize = outputSize
        self.numLayers = numLayers
        self.batchFirst = batchFirst
        self.bidirectional = bidirectional
        self.activation = activation
        self.outputActivation = outputActivation
        let D = bidirectional ? 2 : 1
        layers = (0..<(numLayers * D)).map { index in
            JordanCell(inputSize: index < D ? inputSize : D * outputSize, hiddenSize: hiddenSize, outputSize: outputSize, bias: bias,
                       activation: activation, outputActivation: outputActivation, generator: &generator)
        }
        super.init()
        for (index, cell) in layers.enumerated() {
            let suffix = "_l\(index / D)" + (index % D == 1 ? "_reverse" : "")
            for (name, t) in cell.namedParameters() { registerParameter(name + suffix, t) }
        }
    }

    /// - Parameters:
    ///   - input: (T, B, I), or (B, T, I) when `batchFirst`.
    ///   - initialOutput: y0 (L·D, B, O); zeros when nil.
    ///   - lengths: valid steps per sequence (1...T); outputs past them are zero, final y at the last valid step.
    /// - Returns: output (T, B, D·O) (directions concatenated; batch first if `batchFirst`) and the final
    ///   outputs (L·D, B, O); the reverse direction starts at each sequence's own end.
    public func callAsFunction(_ input: Tensor<Scalar>, initialOutput: Tensor<Scalar>? = nil, lengths: [Int]? = nil)
        -> (output: Tensor<Scalar>, finalOutput: Tensor<Scalar>) {
        precondition(input.rank == 3, "Jordan: input must be 3-D, got \(input.shape)")
        var x = batchFirst ? input.transposed(0, 1) : input
        let (T, B) = (x.shape[0], x.shape[1])
        checkShapes("Jordan input", input.shape, [inputSize], x.shape[2] == inputSize)
        let lengths = lengths ?? Array(repeating: T, count: B)
        precondition(lengths.count == B && lengths.allSatisfy { $0 >= 1 && $0 <= T }, "Jordan: lengths \(lengths) must be B=\(B) values in 1...\(T)")
        let D = directions
        if let y0 = initialOutput { checkShapes("Jordan y0", y0.shape, [numLayers * D, B, outputSize], y0.shape == [numLayers * D, B, outputSize]) }
        var finals: [Tensor<Scalar>] = []
        for layer in 0..<numLayers {
            var outputs: [Tensor<Scalar>] = []
            for direction in 0..<D {
                let index = layer * D + direction
                let y0 = initialOutput.map { $0.slice(axis: 0, index..<(index + 1)).reshaped([B, outputSize]) } ?? .zeros([B, outputSize])
                let (out, yN) = fusedJordan(layers[index], x: x, y0: y0, lengths: lengths, reverse: direction == 1)
                outputs.append(out)
                finals.append(yN.reshaped([1, B, outputSize]))
            }
            x = D == 1 ? outputs[0] : Tensor.concat(outputs, axis: 2)
        }
        return (batchFirst ? x.transposed(0, 1) : x, Tensor.concat(finals, axis: 0))
    }
}

/// One Jordan layer over a sequence as one node.
/// - Parameters: x (T, B, I), y0 (B, O). - Returns: output (T, B, O), final y (B, O).
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
func fusedJordan<Scalar: TensorScalar>(_ cell: JordanCell<Scalar>, x: Tensor<Scalar>, y0: Tensor<Scalar>, lengths: [Int], reverse: Bool = false)
    -> (Tensor<Scalar>, Tensor<Scalar>) {
    let (T, B, I) = (x.shape[0], x.shape[1], x.shape[2])
    let H = cell.weightIH.shape[0], O = cell.weightHO.shape[0]
    let act = cell.activation, actOut = cell.outputActivation
    // Step s of sequence b reads and writes time t (reverse: from each sequence's own end), as in FusedRecurrence.swift.
    @inline(__always) func time(_ s: Int, _ b: Int) -> Int { reverse ? lengths[b] - 1 - s : s }

    let xw = Tensor<Scalar>(zeros: [T, B, H])                   // (T, B, H) input projection + b_ih, one GEMM
    Scalar.gemm(transA: false, transB: true, m: T * B, n: H, k: I, alpha: 1, a: x.data, lda: I,
                b: cell.weightIH.data, ldb: I, beta: 0, c: xw.data, ldc: H)
    if let b = cell.biasIH { addRowBias(xw.data, rows: T * B, b.data, width: H) }
    let ys = Tensor<Scalar>(zeros: [T + 1, B, O])               // (T+1, B, O): ys[s] = y before step s
    ys.data.update(from: y0.data, count: B * O)
    let hs = Tensor<Scalar>(zeros: [T, B, H])                   // (T, B, H) activated hidden, zero rows when inactive
    let output = Tensor<Scalar>(zeros: [T, B, O])
    for s in 0..<T {
        let h = hs.data + s * B * H, yPrev = ys.data + s * B * O, yNext = ys.data + (s + 1) * B * O
        // h = act(xw + y_{s-1}·W_yhᵀ): (B, O)·(O, H)
        for b in 0..<B where s < lengths[b] { (h + b * H).update(from: xw.data + (time(s, b) * B + b) * H, count: H) }
        Scalar.gemm(transA: false, transB: true, m: B, n: H, k: O, alpha: 1, a: yPrev, lda: O,
                    b: cell.weightYH.data, ldb: O, beta: 1, c: h, ldc: H)
        for b in 0..<B {
            let row = h + b * H
            if s < lengths[b] {
                for j in 0..<H { row[j] = act == .tanh ? Scalar.tanh(row[j]) : Swift.max(row[j], 0) }
            } else {
                row.update(repeating: 0, count: H)
            }
        }
        // y = act_out(h·W_hoᵀ + b_ho): (B, H)·(H, O)
        Scalar.gemm(transA: false, transB: true, m: B, n: O, k: H, alpha: 1, a: h, lda: H,
                    b: cell.weightHO.data, ldb: H, beta: 0, c: yNext, ldc: O)
        for b in 0..<B {
            let row = yNext + b * O
            if s < lengths[b] {
                for j in 0..<O { row[j] = actOut.apply(row[j] + (cell.biasHO?.data[j] ?? 0)) }
                (output.data + (time(s, b) * B + b) * O).update(from: row, count: O)
            } else {
                row.update(from: yPrev + b * O, count: O)
            }
        }
    }
    let yFinal = Tensor<Scalar>(zeros: [B, O])
    yFinal.data.update(from: ys.data + T * B * O, count: B * O)

    let params = cell.parameters()
    Tensor.record("jordanSequence", inputs: [x, y0] + params, outputs: [output, yFinal]) { grads in
        let dy = Tensor<Scalar>(zeros: [B, O])                   // (B, O) ∂L/∂y carried backwards
        if let g = grads[1] { dy.copy(from: g) }
        let dPreY = Tensor<Scalar>(zeros: [T, B, O])             // (T, B, O) ∂L/∂(W_ho h + b_ho)
        let dPreH = Tensor<Scalar>(zeros: [T, B, H])             // (T, B, H) ∂L/∂(pre-activation of h)
        let scratch = Tensor<Scalar>(zeros: [B, Swift.max(H, O)])
        for s in stride(from: T - 1, through: 0, by: -1) {
            let yNext = ys.data + (s + 1) * B * O, h = hs.data + s * B * H
            let dpy = dPreY.data + s * B * O, dph = dPreH.data + s * B * H
            for b in 0..<B where s < lengths[b] {
                let g = grads[0].map { $0.data + (time(s, b) * B + b) * O }
                for j in 0..<O {
                    let total = dy.data[b * O + j] + (g?[j] ?? 0)
                    dpy[b * O + j] = total * actOut.derivative(output: yNext[b * O + j])
                }
            }
            // ∂L/∂h = dPreY · W_ho: (B, O)·(O, H)
            Scalar.gemm(transA: false, transB: false, m: B, n: H, k: O, alpha: 1, a: dpy, lda: O,
                        b: cell.weightHO.data, ldb: H, beta: 0, c: scratch.data, ldc: H)
            for b in 0..<B where s < lengths[b] {
                for j in 0..<H {
                    let hv = h[b * H + j]
                    dph[b * H + j] = scratch.data[b * H + j] * (act == .tanh ? 1 - hv * hv : (hv > 0 ? 1 : 0))
                }
            }
            // ∂L/∂y_{s-1} = dPreH · W_yh: (B, H)·(H, O); inactive rows pass their gradient through.
            Scalar.gemm(transA: false, transB: false, m: B, n: O, k: H, alpha: 1, a: dph, lda: H,
                        b: cell.weightYH.data, ldb: O, beta: 0, c: scratch.data, ldc: O)
            for b in 0..<B where s < lengths[b] {
                (dy.data + b * O).update(from: scratch.data + b * O, count: O)
            }
        }
        // Weight gradients: one GEMM each over all T·B rows; x's side needs dPreH in time order.
        let dPreHTime: Tensor<Scalar>
        if reverse || lengths.contains(where: { $0 != T }) {
            dPreHTime = Tensor<Scalar>(zeros: [T, B, H])
            for s in 0..<T { for b in 0..<B where s < lengths[b] {
                (dPreHTime.data + (time(s, b) * B + b) * H).update(from: dPreH.data + (s * B + b) * H, count: H)
            } }
        } else {
            dPreHTime = dPreH
        }
        let gx = Tensor<Scalar>(zeros: [T, B, I])
        Scalar.gemm(transA: false, transB: false, m: T * B, n: I, k: H, alpha: 1, a: dPreHTime.data, lda: H,
                    b: cell.weightIH.data, ldb: I, beta: 0, c: gx.data, ldc: I)
        let gWih = Tensor<Scalar>(zeros: [H, I]), gWyh = Tensor<Scalar>(zeros: [H, O]), gWho = Tensor<Scalar>(zeros: [O, H])
        Scalar.gemm(transA: true, transB: false, m: H, n: I, k: T * B, alpha: 1, a: dPreHTime.data, lda: H,
                    b: x.data, ldb: I, beta: 0, c: gWih.data, ldc: I)
        Scalar.gemm(transA: true, transB: false, m: H, n: O, k: T * B, alpha: 1, a: dPreH.data, lda: H,
                    b: ys.data, ldb: O, beta: 0, c: gWyh.data, ldc: O)
        Scalar.gemm(transA: true, transB: false, m: O, n: H, k: T * B, alpha: 1, a: dPreY.data, lda: O,
                    b: hs.data, ldb: H, beta: 0, c: gWho.data, ldc: H)
        var result: [Tensor<Scalar>?] = [gx, dy, gWih]
        if cell.biasIH != nil { result.append(columnSums(dPreHTime.data, rows: T * B, width: H)) }
        result += [gWyh, gWho]
        if cell.biasHO != nil { result.append(columnSums(dPreY.data, rows: T * B, width: O)) }
        return result
    }
    return (output, yFinal)
}
