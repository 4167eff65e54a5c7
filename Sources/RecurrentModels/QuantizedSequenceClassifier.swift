import RecurrentData
import RecurrentNN
import RecurrentTensor

/// The inference form of a `SequenceClassifier` at a `Precision`: its recurrent layers become a
/// `QuantizedRecurrentNetwork` and its head a `QuantizedLinear`; the embedding, pooling (attention included) and
/// softmax run the fp32 model's own code. Built by `SequenceClassifier.quantized(_:)`; no gradients, no training.
public final class QuantizedSequenceClassifier: @unchecked Sendable {
    /// The fp32 model (embedding, pooling; not changed).
    public let model: SequenceClassifier
    /// The precision of the recurrent layers' and the head's products.
    public let precision: Precision
    let rnn: QuantizedRecurrentNetwork
    let head: QuantizedLinear

    init(_ model: SequenceClassifier, precision: Precision) throws {
        guard let layer = model.rnn as? RecurrentLayer<Float> else {
            throw QuantizationError.unsupported("a \(model.config.cell.rawValue) network (only RNN, LSTM and GRU layers are quantized)")
        }
        (self.model, self.precision) = (model, precision)
        rnn = try QuantizedRecurrentNetwork(layer, precision: precision)
        head = try model.head.quantized(precision)
    }

    /// Class probabilities (B, C) of a token batch, as `SequenceClassifier.probabilities`.
    public func probabilities(_ batch: ClassificationBatch) -> Tensor<Float> {
        guard let embedding = model.embedding else { preconditionFailure("QuantizedSequenceClassifier: token batch given to a classifier of real vectors") }
        return run { classify(embedding(batch.ids, shape: [batch.steps, batch.batch]), lengths: batch.lengths) }
    }

    /// Class probabilities (B, C) of a batch of standardised real vectors.
    public func probabilities(_ batch: SeriesBatch) -> Tensor<Float> {
        precondition(batch.features == model.config.inputFeatures, "QuantizedSequenceClassifier: \(batch.features) features for a model of \(model.config.inputFeatures ?? 0)")
        return run { classify(Tensor(batch.values, shape: [batch.steps, batch.batch, batch.features]), lengths: batch.lengths) }
    }

    /// Eval mode (dropout off), no graph: nothing here requires a gradient, so the quantized calls never throw.
    func run(_ body: () -> Tensor<Float>) -> Tensor<Float> {
        withoutGrad {
            let wasTraining = model.isTraining
            model.eval()
            defer { model.train(wasTraining) }
            return body().softmax(axis: -1)
        }
    }

    func classify(_ x: Tensor<Float>, lengths: [Int]) -> Tensor<Float> {
        model.classify(x, lengths: lengths, network: { x, lengths in
            do { return try self.rnn.run(x, lengths: lengths) } catch { preconditionFailure("QuantizedSequenceClassifier: \(error)") }
        }, head: { features in
            do { return try self.head(features) } catch { preconditionFailure("QuantizedSequenceClassifier: \(error)") }
        })
    }
}

extension SequenceClassifier {
    /// This classifier for inference at `precision` (weights copied): see `QuantizedSequenceClassifier`.
    /// - Throws: `QuantizationError.unsupported` for a network the quantized forward does not implement (Jordan).
    public func quantized(_ precision: Precision) throws -> QuantizedSequenceClassifier {
        try QuantizedSequenceClassifier(self, precision: precision)
    }
}
