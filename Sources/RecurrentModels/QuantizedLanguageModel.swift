import RecurrentData
import RecurrentNN
import RecurrentTensor

/// The inference form of a `LanguageModel` at a `Precision`: the embedding stays fp32 (a table lookup), the
/// recurrent layers become a `QuantizedRecurrentNetwork` and the head a `QuantizedLinear`. Built by
/// `LanguageModel.quantized(_:)`; it samples and scores text as the fp32 model does (`sample`, `meanLoss`) but
/// has no parameters and no gradients, so it cannot be trained: train the fp32 model and quantize it again.
public final class QuantizedLanguageModel: @unchecked Sendable {
    /// The configuration of the model it was built from.
    public let config: LanguageModelConfig
    /// The precision of the recurrent layers' and the head's products.
    public let precision: Precision
    /// The recurrent layers at `precision`.
    public let rnn: QuantizedRecurrentNetwork
    /// The output layer at `precision`.
    public let head: QuantizedLinear
    /// (V, E): the embedding table, copied.
    let table: [Float]

    init(_ model: LanguageModel, precision: Precision, kernel: (RecurrentLayer<Float>, Linear<Float>, Precision) throws
         -> (QuantizedRecurrentNetwork, QuantizedLinear)) throws {
        guard let layer = model.rnn as? RecurrentLayer<Float> else {
            throw QuantizationError.unsupported("a \(model.config.cell.rawValue) network (only RNN, LSTM and GRU layers are quantized)")
        }
        (config, self.precision) = (model.config, precision)
        (rnn, head) = try kernel(layer, model.head, precision)
        table = Array(UnsafeBufferPointer(start: model.embedding.weight.data, count: model.embedding.weight.count))
    }

    /// Logits (T, B, V) and the final state for token ids (T, B), row-major, as `LanguageModel.callAsFunction`.
    public func callAsFunction(_ ids: [Int], steps: Int, batch: Int, state: RecurrentState<Float>? = nil)
        -> (logits: Tensor<Float>, state: RecurrentState<Float>) {
        precondition(ids.count == steps * batch, "QuantizedLanguageModel: \(ids.count) ids for (\(steps), \(batch))")
        let E = config.embeddingSize, V = config.vocabularySize
        let x = Tensor<Float>.uninitialized([steps, batch, E])                  // (T, B, E)
        table.withUnsafeBufferPointer { t in
            for (r, id) in ids.enumerated() {
                precondition((0..<V).contains(id), "QuantizedLanguageModel: token id \(id) outside 0..<\(V)")
                (x.data + r * E).update(from: t.baseAddress! + id * E, count: E)
            }
        }
        do {
            // x was built here from plain arrays: it never requires a gradient, so neither call throws.
            let (h, newState) = try rnn.run(x, state: state)                       // (T, B, H)
            return (try head(h), newState)                                        // (T, B, V)
        } catch {
            preconditionFailure("QuantizedLanguageModel: \(error)")
        }
    }

    /// Generates `length` tokens after `prime`, one at a time with batch 1, as `LanguageModel.sample`.
    /// - Parameters:
    ///   - temperature: divides the logits; lower is more conservative. Must be > 0.
    ///   - topK: sample only among the k most likely tokens (nil: all).
    public func sample(prime: [Int], length: Int, temperature: Float = 1, topK: Int? = nil, generator: inout RandomGenerator) -> [Int] {
        precondition(temperature > 0, "sample: temperature must be positive")
        return LanguageModelLoops.sample(prime: prime, length: length, temperature: temperature, topK: topK,
                                         vocabularySize: config.vocabularySize, generator: &generator) { id, state in
            let step = self([id], steps: 1, batch: 1, state: state)
            return (step.logits, step.state)
        }
    }

    /// Mean nats per predicted character over `ids`, as `LanguageModel.meanLoss` (same streams and chunks).
    public func meanLoss(on ids: [Int], seqLen: Int, streams: Int) -> Double {
        let part = LanguageModelLoops.partialLoss(on: ids, seqLen: seqLen, streams: streams, part: { 0..<$0 }) { batch, state in
            let (logits, next) = self(batch.inputs, steps: batch.steps, batch: batch.batch, state: state)
            let flat = logits.reshaped([batch.steps * batch.batch, self.config.vocabularySize])
            return (withoutGrad { crossEntropy(flat, targets: batch.targets) }.item, next)
        }
        return part.batches > 0 ? part.sum / Double(part.batches) : .nan
    }
}

extension LanguageModel {
    /// This model for inference at `precision` (weights copied: training this model afterwards does not change
    /// the result): the recurrent layers' products and the head at bf16 or int8, the rest fp32. `.fp32` gives
    /// the same structure at full precision (what the other two are measured against).
    /// - Throws: `QuantizationError.unsupported` for a network the quantized forward does not implement
    ///   (Jordan, the reset-before GRU).
    public func quantized(_ precision: Precision) throws -> QuantizedLanguageModel {
        try QuantizedLanguageModel(self, precision: precision) { layer, head, precision in
            (try QuantizedRecurrentNetwork(layer, precision: precision), try head.quantized(precision))
        }
    }
}
