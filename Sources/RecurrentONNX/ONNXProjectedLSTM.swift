import RecurrentNN
import RecurrentTensor

// An LSTM with a projection (PyTorch's proj_size) has no ONNX operator: ONNX's LSTM cannot project h. It is
// unrolled into elementary operators instead, one Scan per layer and direction, whose body is one step:
//
//   gates = x_t W_ihᵀ + h W_hhᵀ + (b_ih + b_hh)                  (B, 4H), PyTorch's order i, f, g, o
//   c' = σ(f) ⊙ c + σ(i) ⊙ tanh(g)                               (B, H)
//   h' = (σ(o) ⊙ tanh(c')) W_hrᵀ                                  (B, P)
//   past a sequence's length: h, c unchanged, y_t = 0             (as Recurrent's and ONNX's LSTM's outputs)
//
// The reverse direction scans the steps backwards (scan_input_directions / scan_output_directions = 1); past its
// length the state stays at h0, so it starts at each sequence's last valid step, as Recurrent's does.

extension ONNXGraphBuilder {
    /// A stacked, optionally bidirectional LSTM with a projection, unrolled with Scan; see `recurrent`.
    func projectedLSTM(_ layer: RecurrentLayer<Float>, _ x: ONNXValue, lengths: ONNXValue?, h0: ONNXValue?, c0: ONNXValue?,
                       name: String) -> (output: ONNXValue, h: ONNXValue, c: ONNXValue) {
        let parameters = Dictionary(uniqueKeysWithValues: layer.namedParameters().map { ($0.name, $0.tensor) })
        let (L, D, H, P) = (layer.numLayers, layer.directions, layer.hiddenSize, layer.projSize)
        let batch = unsqueeze(dimension(x, axis: 1), axes: [0])                                           // (1) = [B]
        let allSteps = lengths ?? op("Expand", dimension(x, axis: 0), batch)                              // (B) int64
        let valid = unsqueeze(validSteps(lengths: allSteps, stepsOf: x, stepAxis: 0), axes: [2])         // (T, B, 1) bool
        func zeros(_ width: Int) -> ONNXValue {                                                           // (B, width)
            op("ConstantOfShape", concat([batch, constant(int64: [Int64(width)])], axis: 0), attributes: [.floatTensor("value", [0], shape: [1])])
        }
        func initial(_ state: ONNXValue?, _ index: Int, width: Int) -> ONNXValue {
            state.map { squeeze(slice($0, axis: 0, index..<(index + 1)), axes: [0]) } ?? zeros(width)
        }
        var input = x
        var finalH: [ONNXValue] = [], finalC: [ONNXValue] = []
        for l in 0..<L {
            var outputs: [ONNXValue] = []
            for d in 0..<D {
                let suffix = "_l\(l)" + (d == 1 ? "_reverse" : "")
                let weights = DirectionParameters(weightIH: parameters["weight_ih" + suffix]!, weightHH: parameters["weight_hh" + suffix]!,
                                                  biasIH: parameters["bias_ih" + suffix], biasHH: parameters["bias_hh" + suffix])
                let r = projectedLSTMDirection(weights, weightHR: parameters["weight_hr" + suffix]!, input, valid: valid,
                                               h0: initial(h0, l * D + d, width: P), c0: initial(c0, l * D + d, width: H),
                                               reverse: d == 1, name: "\(name)\(suffix)")
                outputs.append(r.y)
                finalH.append(unsqueeze(r.h, axes: [0]))
                finalC.append(unsqueeze(r.c, axes: [0]))
            }
            if D == 1 {
                input = outputs[0]                                                                         // (T, B, P)
            } else if l < L - 1 {
                input = concat(outputs, axis: 2)                                                           // (T, B, 2P)
            } else {
                input = mergeDirections(outputs[0], outputs[1], layer.merge)
            }
        }
        return (input, concat(finalH, axis: 0), concat(finalC, axis: 0))
    }

    /// The last layer's two directions (T, B, P) each, combined as `RecurrentLayer.mergeDirections` does.
    func mergeDirections(_ forward: ONNXValue, _ backward: ONNXValue, _ merge: BidirectionalMerge) -> ONNXValue {
        switch merge {
        case .concat: concat([forward, backward], axis: 2)
        case .sum: add(forward, backward)
        case .mean: mul(add(forward, backward), scalar(0.5))
        case .multiply: mul(forward, backward)
        }
    }

    /// One direction of one projected LSTM layer as a Scan.
    /// - Parameters:
    ///   - x: (T, B, I). - valid: (T, B, 1) bool. - h0: (B, P). - c0: (B, H).
    /// - Returns: y (T, B, P) (zero past each length), the final h (B, P) and c (B, H).
    func projectedLSTMDirection(_ p: DirectionParameters, weightHR: Tensor<Float>, _ x: ONNXValue, valid: ONNXValue, h0: ONNXValue, c0: ONNXValue,
                                reverse: Bool, name: String) -> (y: ONNXValue, h: ONNXValue, c: ONNXValue) {
        let (G, I, P) = (p.weightIH.shape[0], p.weightIH.shape[1], weightHR.shape[0])
        let H = G / 4
        let wih = constant(transposedScalars(p.weightIH), shape: [I, G], name: "\(name).weight_ih_t")     // (I, 4H)
        let whh = constant(transposedScalars(p.weightHH), shape: [P, G], name: "\(name).weight_hh_t")     // (P, 4H)
        let whr = constant(transposedScalars(weightHR), shape: [H, P], name: "\(name).weight_hr_t")       // (H, P)
        let bias = p.biasIH.map { bih in constant(zip(bih.scalars, p.biasHH!.scalars).map { $0 + $1 }, shape: [G], name: "\(name).bias") }

        let body = ONNXGraphBuilder(subgraphOf: self, name: "\(name)_step")
        let h = body.input("\(name)_h_prev", .float, ["batch", .fixed(P)])
        let c = body.input("\(name)_c_prev", .float, ["batch", .fixed(H)])
        let xt = body.input("\(name)_x_t", .float, ["batch", .fixed(I)])
        let validT = body.input("\(name)_valid_t", .bool, ["batch", 1])
        var gates = body.add(body.matmul(xt, wih), body.matmul(h, whh))                                  // (B, 4H)
        if let bias { gates = body.add(gates, bias) }
        let parts = body.node("Split", [gates, body.constant(int64: [Int64(H), Int64(H), Int64(H), Int64(H)])], outputs: 4,
                              attributes: [.int("axis", 1)])                                              // i, f, g, o (B, H)
        let cNew = body.add(body.mul(body.sigmoid(parts[1]), c), body.mul(body.sigmoid(parts[0]), body.tanh(parts[2])))
        let hNew = body.matmul(body.mul(body.sigmoid(parts[3]), body.tanh(cNew)), whr)                    // (B, P)
        let hOut = body.where(validT, hNew, h), cOut = body.where(validT, cNew, c)
        let y = body.where(validT, hNew, body.scalar(0))
        body.subgraphOutput(hOut, .float, ["batch", .fixed(P)])
        body.subgraphOutput(cOut, .float, ["batch", .fixed(H)])
        body.subgraphOutput(y, .float, ["batch", .fixed(P)])

        let direction = reverse ? 1 : 0
        let outputs = node("Scan", [h0, c0, x, valid], outputs: 3, name: name,
                           attributes: [.graph("body", body.graph), .int("num_scan_inputs", 2),
                                        .ints("scan_input_directions", [direction, direction]), .ints("scan_output_directions", [direction])])
        return (outputs[2], outputs[0], outputs[1])
    }
}
