import RecurrentNN
import RecurrentTensor

// The recurrent layers as ONNX's own LSTM, GRU and RNN operators, one node per layer (both directions in it),
// with PyTorch's weights converted:
//
//   ONNX W (D, G·H, I), R (D, G·H, H), B (D, 2·G·H) = [W_b; R_b]; PyTorch weight_ih (G·H, I), weight_hh, bias_ih, bias_hh.
//   LSTM gates: PyTorch i, f, g, o  →  ONNX i, o, f, c   (blocks 0, 3, 1, 2)
//   GRU gates:  PyTorch r, z, n     →  ONNX z, r, h      (blocks 1, 0, 2); PyTorch's reset-after GRU is
//               linear_before_reset = 1, the original paper's reset-before GRU linear_before_reset = 0.
//   RNN:        one block; activations Tanh or Relu, one per direction.
//
// Variable lengths go in as `sequence_lens` (int32): ONNX's Y is zero past each length and Y_h is the state after
// each sequence's last valid step (the reverse direction's after its first), as Recurrent's outputs and final
// states are, so no masking is needed around the operators. Y is (T, D, B, H); stacked layers get it as
// (T, B, D·H). Jordan networks have no ONNX operator and are refused; an LSTM with a projection has none either
// and is unrolled into elementary operators (ONNXProjectedLSTM.swift).

/// What `recurrent` returns: the layer's output and final states, in the layer's own layouts.
public struct ONNXRecurrentOutputs: Sendable {
    /// (T, B, outputSize), or (B, T, outputSize) for a batch-first layer.
    public let output: ONNXValue
    /// (L·D, B, H), index layer · D + direction.
    public let h: ONNXValue
    /// LSTM only: (L·D, B, H).
    public let c: ONNXValue?
}

/// One direction's weights in PyTorch's layout.
struct DirectionParameters {
    var weightIH: Tensor<Float>      // (G·H, I)
    var weightHH: Tensor<Float>      // (G·H, H)
    var biasIH: Tensor<Float>?       // (G·H)
    var biasHH: Tensor<Float>?       // (G·H)
}

extension RecurrentCellKind {
    /// ONNX's operator for the kind.
    var onnxOperator: String {
        switch self {
        case .lstm: "LSTM"
        case .gru, .gruResetBefore: "GRU"
        case .rnnTanh, .rnnRelu: "RNN"
        }
    }

    /// Where ONNX's gate block k comes from in PyTorch's order.
    var onnxGateOrder: [Int] {
        switch self {
        case .lstm: [0, 3, 1, 2]
        case .gru, .gruResetBefore: [1, 0, 2]
        case .rnnTanh, .rnnRelu: [0]
        }
    }
}

/// The rows of `m` ((G·H, C) or (G·H)) with its G blocks of H rows reordered: block k of the result is block order[k].
func reorderedGates(_ m: Tensor<Float>, order: [Int]) -> [Float] {
    let values = m.scalars, blockSize = values.count / order.count
    return order.flatMap { values[($0 * blockSize)..<(($0 + 1) * blockSize)] }
}

extension ONNXGraphBuilder {
    /// The nodes of a task model's recurrent network: a fused layer (`RNN`, `LSTM`, `GRU`, `RecurrentLayer`).
    /// - Throws: `ONNXExportError.unsupported` for a `Jordan` network (no ONNX operator feeds back an output).
    public func recurrent(_ network: any RecurrentNetwork<Float>, _ x: ONNXValue, lengths: ONNXValue?, h0: ONNXValue?, c0: ONNXValue?,
                          name: String = "rnn") throws -> ONNXRecurrentOutputs {
        guard let layer = network as? RecurrentLayer<Float> else {
            throw ONNXExportError.unsupported("a \(type(of: network)) network: ONNX has no operator for Jordan's recurrence (the fed-back "
                + "output), only LSTM, GRU and Elman RNN; train with --cell lstm, gru or rnn to export")
        }
        return try recurrent(layer, x, lengths: lengths, h0: h0, c0: c0, name: name)
    }

    /// The nodes of a stacked, optionally bidirectional recurrent layer: one ONNX LSTM, GRU or RNN node per layer.
    /// - Parameters:
    ///   - x: (T, B, I) float, or (B, T, I) for a batch-first layer.
    ///   - lengths: (B) int64 valid steps of each sequence, in 1...T; nil: all T.
    ///   - h0: (L·D, B, H) float; nil: zeros.
    ///   - c0: LSTM only: (L·D, B, H) float; nil: zeros.
    /// - Returns: the output (zero past each length) and final states, as `RecurrentLayer.forward` gives them.
    ///   An LSTM with a projection (`projSize > 0`) has no ONNX operator; it is unrolled into elementary
    ///   operators, one Scan per layer and direction (ONNXProjectedLSTM.swift).
    public func recurrent(_ layer: RecurrentLayer<Float>, _ x: ONNXValue, lengths: ONNXValue?, h0: ONNXValue?, c0: ONNXValue?,
                          name: String = "rnn") throws -> ONNXRecurrentOutputs {
        if layer.projSize > 0 {
            let x = layer.batchFirst ? transpose(x, [1, 0, 2]) : x                                      // (T, B, I)
            let r = projectedLSTM(layer, x, lengths: lengths, h0: h0, c0: c0, name: name)
            return ONNXRecurrentOutputs(output: layer.batchFirst ? transpose(r.output, [1, 0, 2]) : r.output, h: r.h, c: r.c)
        }
        let parameters = Dictionary(uniqueKeysWithValues: layer.namedParameters().map { ($0.name, $0.tensor) })
        let (L, D, H) = (layer.numLayers, layer.directions, layer.hiddenSize)
        var input = layer.batchFirst ? transpose(x, [1, 0, 2]) : x                        // (T, B, I)
        let sequenceLengths = lengths.map { cast($0, to: .int32) }
        var finalH: [ONNXValue] = [], finalC: [ONNXValue] = []
        for l in 0..<L {
            let directions = (0..<D).map { d in
                let suffix = "_l\(l)" + (d == 1 ? "_reverse" : "")
                return DirectionParameters(weightIH: parameters["weight_ih" + suffix]!, weightHH: parameters["weight_hh" + suffix]!,
                                           biasIH: parameters["bias_ih" + suffix], biasHH: parameters["bias_hh" + suffix])
            }
            let states = (l * D)..<((l + 1) * D)
            let (y, yh, yc) = recurrentOperator(layer.kind, directions, input, sequenceLengths: sequenceLengths,
                                                h0: h0.map { slice($0, axis: 0, states) }, c0: c0.map { slice($0, axis: 0, states) },
                                                hiddenSize: H, name: "\(name)_l\(l)")           // y (T, D, B, H)
            finalH.append(yh)
            if let yc { finalC.append(yc) }
            if D == 1 {
                input = squeeze(y, axes: [1])                                                // (T, B, H)
            } else if l < L - 1 || layer.merge == .concat {
                input = reshape(transpose(y, [0, 2, 1, 3]), [0, 0, -1])                      // (T, B, 2H)
            } else {
                switch layer.merge {
                case .concat: preconditionFailure("unreachable")
                case .sum: input = reduceSum(y, axis: 1)                                     // (T, B, H)
                case .mean: input = mul(reduceSum(y, axis: 1), scalar(0.5))
                case .multiply: input = squeeze(mul(slice(y, axis: 1, 0..<1), slice(y, axis: 1, 1..<2)), axes: [1])
                }
            }
        }
        return ONNXRecurrentOutputs(output: layer.batchFirst ? transpose(input, [1, 0, 2]) : input,
                                    h: concat(finalH, axis: 0), c: finalC.isEmpty ? nil : concat(finalC, axis: 0))
    }

    /// One step of a cell (`LSTMCell`, `GRUCell`, `RNNCell`) as the layer operator over one step.
    /// - Parameters:
    ///   - x: (B, I). - h: (B, H). - c: LSTM only, (B, H).
    /// - Returns: the next h (B, H) and, for an LSTM, c (B, H).
    /// - Throws: `ONNXExportError.unsupported` for a `JordanCell` or any other module.
    public func cell(_ cell: Module<Float>, _ x: ONNXValue, h: ONNXValue, c: ONNXValue?, name: String = "cell") throws -> (h: ONNXValue, c: ONNXValue?) {
        let kind: RecurrentCellKind
        switch cell {
        case is LSTMCell<Float>: kind = .lstm
        case let gru as GRUCell<Float>: kind = gru.resetAfter ? .gru : .gruResetBefore
        case let rnn as RNNCell<Float>: kind = rnn.nonlinearity == .tanh ? .rnnTanh : .rnnRelu
        default:
            throw ONNXExportError.unsupported("a \(type(of: cell)) cell: ONNX has no operator for Jordan's recurrence (the fed-back output), "
                + "only LSTM, GRU and Elman RNN")
        }
        let base = cell as! RNNCellBase<Float>
        let direction = DirectionParameters(weightIH: base.weightIH, weightHH: base.weightHH, biasIH: base.biasIH, biasHH: base.biasHH)
        let (_, yh, yc) = recurrentOperator(kind, [direction], unsqueeze(x, axes: [0]), sequenceLengths: nil, h0: unsqueeze(h, axes: [0]),
                                            c0: c.map { unsqueeze($0, axes: [0]) }, hiddenSize: base.hiddenSize, name: name)
        return (squeeze(yh, axes: [0]), yc.map { squeeze($0, axes: [0]) })
    }

    /// One ONNX LSTM / GRU / RNN node over all steps of one layer (both directions when given two).
    /// - Returns: Y (T, D, B, H), Y_h (D, B, H), and for an LSTM Y_c (D, B, H).
    func recurrentOperator(_ kind: RecurrentCellKind, _ directions: [DirectionParameters], _ x: ONNXValue, sequenceLengths: ONNXValue?,
                           h0: ONNXValue?, c0: ONNXValue?, hiddenSize H: Int, name: String) -> (ONNXValue, ONNXValue, ONNXValue?) {
        let D = directions.count, G = kind.gateCount, order = kind.onnxGateOrder
        let inputWidth = directions[0].weightIH.shape[1]
        let w = constant(directions.flatMap { reorderedGates($0.weightIH, order: order) }, shape: [D, G * H, inputWidth], name: "\(name).W")
        let r = constant(directions.flatMap { reorderedGates($0.weightHH, order: order) }, shape: [D, G * H, H], name: "\(name).R")
        var b: ONNXValue?
        if directions[0].biasIH != nil {
            b = constant(directions.flatMap { reorderedGates($0.biasIH!, order: order) + reorderedGates($0.biasHH!, order: order) },
                         shape: [D, 2 * G * H], name: "\(name).B")
        }
        var attributes: [ONNXAttribute] = [.int("hidden_size", H), .string("direction", D == 2 ? "bidirectional" : "forward")]
        switch kind {
        case .gru: attributes.append(.int("linear_before_reset", 1))
        case .gruResetBefore: attributes.append(.int("linear_before_reset", 0))
        case .rnnTanh: attributes.append(.strings("activations", Array(repeating: "Tanh", count: D)))
        case .rnnRelu: attributes.append(.strings("activations", Array(repeating: "Relu", count: D)))
        case .lstm: break
        }
        var inputs: [ONNXValue?] = [x, w, r, b, sequenceLengths, h0]
        if kind == .lstm { inputs.append(c0) }
        let outputs = node(kind.onnxOperator, inputs, outputs: kind == .lstm ? 3 : 2, name: name, attributes: attributes)
        return (outputs[0], outputs[1], kind == .lstm ? outputs[2] : nil)
    }
}
