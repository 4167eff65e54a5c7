import Foundation
import RecurrentData
import RecurrentModels
import RecurrentNN

extension SequenceClassifier {
    /// The classifier as an ONNX graph:
    ///
    ///     inputs   ids       int64 (steps, batch)            token classifiers (`classify`), <pad> = 0 past each length
    ///              features  float (steps, batch, F)         real-vector classifiers (`classify-series`): standardised
    ///                                                        with the scaler in the metadata ((x − mean) / std); with
    ///                                                        `patch_length` k, k data steps side by side make one step
    ///              lengths   int64 (batch)                   valid steps of each row, in 1...steps
    ///     outputs  logits    float (batch, classes)
    ///
    /// Every pooling is exported (final, mean, max, attention); dropout is the identity.
    /// - Parameter vocabulary: stored in the metadata as `vocabulary` (JSON array).
    /// - Throws: `ONNXExportError.unsupported` for a Jordan network.
    public func onnxModel(vocabulary: Vocabulary? = nil) throws -> Onnx_ModelProto {
        let builder = ONNXGraphBuilder(name: "classify")
        let x: ONNXValue                                                                          // (T, B, I)
        if let embedding {
            x = builder.embedding(embedding, builder.input("ids", .int64, ["steps", "batch"]))
        } else {
            x = builder.input("features", .float, ["steps", "batch", .fixed(config.inputSize)])
        }
        let lengths = builder.input("lengths", .int64, ["batch"])
        let r = try builder.recurrent(rnn, x, lengths: lengths, h0: nil, c0: nil)                // (T, B, D·H)
        let (L, D) = (rnn.numLayers, rnn.directions)
        let features: ONNXValue                                                                   // (B, D·H)
        switch config.pooling {
        case .final:
            let last = builder.slice(r.h, axis: 0, ((L - 1) * D)..<(L * D))                       // (D, B, H)
            features = builder.reshape(builder.transpose(last, [1, 0, 2]), [0, -1])
        case .mean:
            let inverse = builder.div(builder.scalar(1), builder.unsqueeze(builder.cast(lengths, to: .float), axes: [1]))  // (B, 1)
            features = builder.mul(builder.reduceSum(r.output, axis: 0), inverse)                  // outputs past a length are zero
        case .max:
            let padded = builder.op("Not", builder.unsqueeze(builder.validSteps(lengths: lengths, stepsOf: r.output, stepAxis: 0), axes: [2]))
            features = builder.reduceMax(builder.where(padded, builder.scalar(-Float.greatestFiniteMagnitude), r.output), axis: 0)
        case .attention:
            features = builder.attentionPooling(attention!, r.output, lengths: lengths)
        }
        builder.output(builder.linear(head, features, name: "head"), name: "logits", .float, ["batch", .fixed(config.classes)])
        var metadata = ["task": embedding == nil ? "classify-series" : "classify", "cell": config.cell.rawValue, "pooling": config.pooling.rawValue]
        if let vocabulary { metadata["vocabulary"] = jsonArray(vocabulary.tokens) }
        if let names = config.classNames { metadata["classes"] = jsonArray(names) }
        if let patch = config.patchLength, patch > 1 { metadata["patch_length"] = "\(patch)" }   // k data steps read as one input step
        if let scaler = config.scaler {
            metadata["scaler_mean"] = jsonArray(scaler.mean.map { "\($0)" })
            metadata["scaler_std"] = jsonArray(scaler.std.map { "\($0)" })
        }
        return builder.model(docString: "Recurrent sequence classifier: class logits of each sequence.", metadata: metadata)
    }
}

extension ONNXGraphBuilder {
    /// `AttentionPooling`: weights softmax over the valid steps of vᵀ tanh(W o_t + b), the weighted sum of the outputs.
    /// - Parameters:
    ///   - output: (T, B, X). - lengths: (B) int64.
    /// - Returns: (B, X).
    public func attentionPooling(_ pooling: AttentionPooling, _ output: ONNXValue, lengths: ONNXValue, name: String = "attention") -> ONNXValue {
        let scores = linear(pooling.score, tanh(linear(pooling.projection, output, name: "\(name).projection")), name: "\(name).score") // (T, B, 1)
        let padded = op("Not", unsqueeze(validSteps(lengths: lengths, stepsOf: output, stepAxis: 0), axes: [2]))  // (T, B, 1)
        let weights = softmax(self.where(padded, scalar(-1e30), scores), axis: 0)                 // (T, B, 1)
        return reduceSum(mul(output, weights), axis: 0)                                            // (B, X)
    }
}
