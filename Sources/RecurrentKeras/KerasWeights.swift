import RecurrentTensor

/// Reads one layer's weights from a Keras 3 weights file and converts them to the library's (PyTorch's) layout.
///
/// Keras 3 keeps a layer's variables under `layers/<group>/…/vars/<index>`:
///
///     LSTM, GRU, SimpleRNN   cell/vars/0 kernel (I, G·H), 1 recurrent_kernel (H, G·H), 2 bias (G·H)
///                            (GRU reset_after=True: bias (2, G·H), the input and the recurrent bias)
///     Bidirectional          forward_layer/cell/vars/…, backward_layer/cell/vars/… as above
///     Embedding              vars/0 embeddings (V, D)
///     Dense                  vars/0 kernel (I, O), 1 bias (O)
///
/// The library stores weight_ih (G·H, I), weight_hh (G·H, H), bias_ih and bias_hh (G·H), and Linear's weight
/// (O, I): every kernel is transposed. Gate blocks: Keras' LSTM i, f, c, o is PyTorch's i, f, g, o (same order);
/// Keras' GRU z, r, h becomes r, z, n. A Keras layer with one bias (LSTM, SimpleRNN, GRU reset_after=False) gets
/// a zero bias_hh: for GRU reset_after=False that is exactly Keras' n = tanh(W_n x + b_n + U_n (r ⊙ h)).
enum KerasWeights {
    /// For each of the library's gate blocks, the Keras block it comes from.
    static func gateSource(_ kind: KerasLayerSpec.Kind) -> [Int] {
        switch kind {
        case .lstm: [0, 1, 2, 3]
        case .gru: [1, 0, 2]     // r ← Keras block 1, z ← block 0, n ← block 2
        default: [0]
        }
    }

    /// The layer's spec and its parameters under the model's names (`<group>.weight_ih_l0`, …).
    /// - Parameters:
    ///   - layer: the layer as the config (or the file's structure) describes it.
    ///   - inputSize: the width the previous layer hands on; nil for the first (then read off the kernel).
    /// - Throws: `KerasError.missingDataset`, `.wrongShape`, `.incompatibleLayers`, HDF5 errors.
    static func read(_ layer: ConfiguredLayer, inputSize: Int?, from file: HDF5File) throws(KerasError)
        -> (spec: KerasLayerSpec, tensors: [String: Tensor<Float>]) {
        let base = "layers/\(layer.group)"
        var spec = KerasLayerSpec(name: layer.group, kind: layer.kind, inputSize: inputSize ?? 0, units: layer.units ?? 0,
                                  activation: layer.activation, useBias: layer.useBias, resetAfter: layer.resetAfter,
                                  returnSequences: layer.returnSequences, goBackwards: layer.goBackwards, bidirectional: layer.merge)
        var tensors: [String: Tensor<Float>] = [:]
        switch layer.kind {
        case .dropout:
            guard let inputSize else { throw .incompatibleLayers(reason: "a Dropout layer first: the input width is unknown") }
            spec.units = inputSize
        case .embedding:
            let path = base + "/vars/0"
            let table = try file.floats(at: path)
            guard table.shape.count == 2, table.shape[0] > 0, table.shape[1] > 0, layer.units.map({ $0 == table.shape[1] }) ?? true else {
                throw .wrongShape(path: path, expected: [table.shape.first ?? 1, layer.units ?? (table.shape.last ?? 1)], found: table.shape)
            }
            guard inputSize == nil else { throw .incompatibleLayers(reason: "Embedding '\(layer.configName)' must be the first layer") }
            spec.inputSize = table.shape[0]
            spec.units = table.shape[1]
            tensors["\(layer.group).weight"] = Tensor(table.values, shape: table.shape)
        case .dense:
            let kernelPath = base + "/vars/0"
            let kernel = try file.floats(at: kernelPath)
            guard kernel.shape.count == 2, kernel.shape[0] > 0, kernel.shape[1] > 0 else {
                throw .wrongShape(path: kernelPath, expected: [inputSize ?? 1, layer.units ?? 1], found: kernel.shape)
            }
            let expected = [inputSize ?? kernel.shape[0], layer.units ?? kernel.shape[1]]
            guard kernel.shape == expected else { throw .wrongShape(path: kernelPath, expected: expected, found: kernel.shape) }
            spec.inputSize = expected[0]
            spec.units = expected[1]
            tensors["\(layer.group).weight"] = Tensor(transposed(kernel.values, rows: expected[0], columns: expected[1], blocks: [0]),
                                                      shape: [expected[1], expected[0]])
            if layer.useBias {
                let biasPath = base + "/vars/1"
                let bias = try file.floats(at: biasPath)
                guard bias.shape == [expected[1]] else { throw .wrongShape(path: biasPath, expected: [expected[1]], found: bias.shape) }
                tensors["\(layer.group).bias"] = Tensor(bias.values, shape: [expected[1]])
            }
        case .lstm, .gru, .simpleRNN:
            let directions = layer.merge == nil ? [""] : ["/forward_layer", "/backward_layer"]
            for (direction, folder) in directions.enumerated() {
                let prefix = base + folder + "/cell/vars/"
                let suffix = direction == 1 ? "_l0_reverse" : "_l0"
                let converted = try recurrent(layer, prefix: prefix, inputSize: spec.inputSize == 0 ? nil : spec.inputSize,
                                              units: spec.units == 0 ? nil : spec.units, from: file)
                spec.inputSize = converted.inputSize
                spec.units = converted.units
                for (name, tensor) in converted.tensors { tensors["\(layer.group).\(name)\(suffix)"] = tensor }
            }
        }
        return (spec, tensors)
    }

    /// One direction of a recurrent layer: weight_ih, weight_hh, bias_ih, bias_hh (without the layer suffix).
    static func recurrent(_ layer: ConfiguredLayer, prefix: String, inputSize: Int?, units: Int?, from file: HDF5File) throws(KerasError)
        -> (inputSize: Int, units: Int, tensors: [String: Tensor<Float>]) {
        let G = gateSourceCount(layer.kind)
        let kernel = try file.floats(at: prefix + "0"), recurrentKernel = try file.floats(at: prefix + "1")
        // H from the recurrent kernel (H, G·H) unless the config says; I from the kernel (I, G·H) unless the previous layer says.
        guard recurrentKernel.shape.count == 2, recurrentKernel.shape[0] > 0 else {
            throw .wrongShape(path: prefix + "1", expected: [units ?? 1, G * (units ?? 1)], found: recurrentKernel.shape)
        }
        let H = units ?? recurrentKernel.shape[0]
        guard recurrentKernel.shape == [H, G * H] else { throw .wrongShape(path: prefix + "1", expected: [H, G * H], found: recurrentKernel.shape) }
        guard kernel.shape.count == 2, kernel.shape[0] > 0 else { throw .wrongShape(path: prefix + "0", expected: [inputSize ?? 1, G * H], found: kernel.shape) }
        let I = inputSize ?? kernel.shape[0]
        guard kernel.shape == [I, G * H] else { throw .wrongShape(path: prefix + "0", expected: [I, G * H], found: kernel.shape) }
        let source = gateSource(layer.kind)
        var tensors = [
            "weight_ih": Tensor(transposed(kernel.values, rows: I, columns: G * H, blocks: source), shape: [G * H, I]),
            "weight_hh": Tensor(transposed(recurrentKernel.values, rows: H, columns: G * H, blocks: source), shape: [G * H, H]),
        ]
        if layer.useBias {
            let bias = try file.floats(at: prefix + "2")
            let twoBiases = layer.kind == .gru && layer.resetAfter == true
            let expected = twoBiases ? [2, G * H] : [G * H]
            guard bias.shape == expected else { throw .wrongShape(path: prefix + "2", expected: expected, found: bias.shape) }
            // A (1, G·H) vector per bias, permuted by blocks like the kernels' columns.
            tensors["bias_ih"] = Tensor(transposed(Array(bias.values[0..<(G * H)]), rows: 1, columns: G * H, blocks: source), shape: [G * H])
            tensors["bias_hh"] = twoBiases
                ? Tensor(transposed(Array(bias.values[(G * H)...]), rows: 1, columns: G * H, blocks: source), shape: [G * H])
                : Tensor(zeros: [G * H])
        }
        return (I, H, tensors)
    }

    static func gateSourceCount(_ kind: KerasLayerSpec.Kind) -> Int { gateSource(kind).count }

    /// A Keras kernel (R, C) with C = blocks·K columns → the library's (C, R), block p taken from Keras block `blocks[p]`:
    /// out[p·K + j, r] = kernel[r, blocks[p]·K + j].
    static func transposed(_ kernel: [Float], rows: Int, columns: Int, blocks: [Int]) -> [Float] {
        let K = columns / blocks.count
        var out = [Float](repeating: 0, count: rows * columns)
        for (p, b) in blocks.enumerated() {
            for j in 0..<K {
                for r in 0..<rows { out[(p * K + j) * rows + r] = kernel[r * columns + b * K + j] }
            }
        }
        return out
    }
}
