import RecurrentNN
import RecurrentTensor

/// The values of a matrix (R, C) transposed, (C, R), read without recording anything on the tape.
func transposedScalars(_ m: Tensor<Float>) -> [Float] {
    precondition(m.rank == 2, "transposedScalars: a matrix expected, got \(m.shape)")
    let (r, c) = (m.shape[0], m.shape[1]), values = m.scalars
    var out = [Float](repeating: 0, count: r * c)
    for i in 0..<r { for j in 0..<c { out[j * r + i] = values[i * c + j] } }
    return out
}

// The feed-forward layers as ONNX nodes. Each takes the value its module's `callAsFunction` takes and
// returns the value it returns; dropout is the identity (an exported graph is for inference).
extension ONNXGraphBuilder {
    /// x Wᵀ + b over the last axis: MatMul with the transposed weight (I, O) stored once, then Add.
    /// - Parameter x: (…, I). - Returns: (…, O).
    public func linear(_ layer: Linear<Float>, _ x: ONNXValue, name: String = "linear") -> ONNXValue {
        let wt = constant(transposedScalars(layer.weight), shape: [layer.inputSize, layer.outputSize], name: "\(name).weight_t")
        let y = matmul(x, wt)
        guard let bias = layer.bias else { return y }
        return add(y, constant(bias, name: "\(name).bias"))
    }

    /// Rows of the embedding table: Gather on axis 0.
    /// - Parameter ids: int64 of any shape S. - Returns: (S…, E).
    public func embedding(_ layer: Embedding<Float>, _ ids: ONNXValue, name: String = "embedding") -> ONNXValue {
        op("Gather", constant(layer.weight, name: "\(name).weight"), ids, attributes: [.int("axis", 0)])
    }

    /// y = (x − mean) / √(var + ε) · weight + bias over the last axis (LayerNormalization, opset 17).
    public func layerNorm(_ layer: LayerNorm<Float>, _ x: ONNXValue, name: String = "layer_norm") -> ONNXValue {
        op("LayerNormalization", x, constant(layer.weight, name: "\(name).weight"), constant(layer.bias, name: "\(name).bias"),
           attributes: [.int("axis", -1), .float("epsilon", layer.epsilon)])
    }

    /// The nodes of a one-tensor-in, one-tensor-out module: `Linear`, `Dropout` (identity), `Activation`,
    /// `LayerNorm`, and a `Sequential` of them.
    /// - Throws: `ONNXExportError.unsupported` for any other module (for an `Embedding`, call `embedding`;
    ///   for a recurrent layer, `recurrent`, which also returns the final state).
    public func apply(_ module: Module<Float>, _ x: ONNXValue, name: String = "module") throws -> ONNXValue {
        switch module {
        case let linear as Linear<Float>: return self.linear(linear, x, name: name)
        case is Dropout<Float>: return x
        case let activation as Activation<Float>:
            switch activation.kind {
            case .tanh: return tanh(x)
            case .sigmoid: return sigmoid(x)
            case .relu: return relu(x)
            }
        case let norm as LayerNorm<Float>: return layerNorm(norm, x, name: name)
        case let sequential as Sequential<Float>:
            var y = x
            for (k, layer) in sequential.layers.enumerated() { y = try apply(layer, y, name: "\(name).\(k)") }
            return y
        default:
            throw ONNXExportError.unsupported("no ONNX mapping for a \(type(of: module)) module (known: Linear, Dropout, Activation, LayerNorm, "
                + "Sequential; Embedding and the recurrent layers have their own builder calls)")
        }
    }
}
