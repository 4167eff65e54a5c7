import RecurrentData
import RecurrentNN
import RecurrentTensor

/// The sampling and scoring loops of a language model, shared by `LanguageModel` (fp32, autograd) and
/// `QuantizedLanguageModel` (inference only): each passes the step that gives logits from ids and a state.
enum LanguageModelLoops {
    /// `length` tokens after `prime`, one at a time with batch 1; `step` gives the (1, 1, V) logits of one id.
    static func sample(prime: [Int], length: Int, temperature: Float, topK: Int?, vocabularySize: Int, generator: inout RandomGenerator,
                       step: (Int, RecurrentState<Float>?) -> (Tensor<Float>, RecurrentState<Float>)) -> [Int] {
        var state: RecurrentState<Float>? = nil
        var logits: Tensor<Float>? = nil
        for id in prime { (logits, state) = step(id, state) }
        var out: [Int] = []
        var probabilities = [Float](repeating: 0, count: vocabularySize)
        for _ in 0..<length {
            guard let current = logits else { break }
            sampleDistribution(current.data, into: &probabilities, temperature: temperature, topK: topK)
            let next = probabilities.withUnsafeBufferPointer { generator.nextIndex(weights: $0) }
            out.append(next)
            (logits, state) = step(next, state)
        }
        return out
    }

    /// softmax(logits / temperature) restricted to the top k, unnormalised.
    static func sampleDistribution(_ logits: UnsafePointer<Float>, into p: inout [Float], temperature: Float, topK: Int?) {
        let v = p.count
        var threshold = -Float.infinity
        if let k = topK, k > 0, k < v {
            threshold = (0..<v).map { logits[$0] }.sorted(by: >)[k - 1]
        }
        var maxLogit = -Float.infinity
        for i in 0..<v where logits[i] >= threshold { maxLogit = max(maxLogit, logits[i]) }
        for i in 0..<v { p[i] = logits[i] >= threshold ? Float.exp((logits[i] - maxLogit) / temperature) : 0 }
    }

    /// What `meanLoss` adds up over the streams `part(streamCount)` (LanguageModelEvaluation.swift);
    /// `loss` gives one batch's mean nats per token and the state after it.
    static func partialLoss(on ids: [Int], seqLen: Int, streams: Int, part: (Int) -> Range<Int>,
                            loss: (LanguageModelBatch, RecurrentState<Float>?) -> (Float, RecurrentState<Float>)) -> (sum: Double, batches: Int) {
        let streams = min(streams, max(1, (ids.count - 1) / seqLen))
        let mine = part(streams)
        let batches = LanguageModelBatch.sequential(from: ids, steps: seqLen, batch: streams, streams: mine)
        let fraction = Double(mine.count) / Double(streams)
        let chunks = (ids.count - 1) / streams >= seqLen ? ((ids.count - 1) / streams - seqLen) / seqLen + 1 : 0
        guard !batches.isEmpty else { return (0, chunks) }
        var state: RecurrentState<Float>? = nil
        var total = 0.0
        for b in batches {
            let (value, next) = loss(b, state)
            total += Double(value)
            state = next
        }
        return (fraction == 1 ? total : total * fraction, batches.count)
    }
}
