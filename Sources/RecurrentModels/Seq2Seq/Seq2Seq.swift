import Foundation
import RecurrentData
import RecurrentNN
import RecurrentTensor

/// One decoded output sequence.
public struct Translation: Sendable {
    /// Target ids, without `<s>`; ends with `</s>` unless the maximum length was reached.
    public var ids: [Int]
    /// Attention weights of every output step over the source, [step][source position] (empty without attention).
    public var attention: [[Double]]
    /// Sum of the log-probabilities of `ids`.
    public var logProbability: Double
    /// What beam search ranks by: `logProbability` divided by the length penalty (equal to it for greedy and sampling).
    public var score: Double

    /// A hypothesis with its ids, attention rows, log-probability and score.
    public init(ids: [Int], attention: [[Double]], logProbability: Double, score: Double) {
        self.ids = ids
        self.attention = attention
        self.logProbability = logProbability
        self.score = score
    }
}

/// An encoder-decoder (Sutskever et al. 2014; Cho et al. 2014), optionally with attention (Bahdanau
/// et al. 2015; Luong et al. 2015): the `Encoder` reads the source, its final state starts the
/// `Decoder`, which emits the target one token at a time from `<s>` until `</s>`.
/// Parameter names: `encoder.…` (see `Encoder`), `decoder.…` (see `Decoder`).
public final class Seq2Seq<Scalar: TensorScalar>: Module<Scalar> {
    /// The configuration the model was built from.
    public let config: Seq2SeqConfig
    /// The encoder (`encoder.…`).
    public let encoder: Encoder<Scalar>
    /// The decoder (`decoder.…`).
    public let decoder: Decoder<Scalar>
    /// Target ids of `<s>` and `</s>` (the layout of `Seq2SeqVocabularies`).
    public let bos = 2, eos = 3

    /// An encoder-decoder with random initial values drawn from a generator seeded with `seed`.
    public init(_ config: Seq2SeqConfig, seed: UInt64) {
        self.config = config
        var generator = RandomGenerator(seed: seed)
        encoder = Encoder(cell: config.cell, vocabularySize: config.sourceVocabularySize, embeddingSize: config.embeddingSize,
                          hiddenSize: config.hiddenSize, layers: config.layers, bidirectional: config.bidirectional,
                          dropout: Scalar(config.dropout), seed: seed, generator: &generator)
        decoder = Decoder(cell: config.cell, vocabularySize: config.targetVocabularySize, embeddingSize: config.embeddingSize,
                          hiddenSize: config.hiddenSize, layers: config.layers, attention: config.attentionKind,
                          attentionSize: config.attentionSize, inputFeeding: config.inputFeeding, dropout: Scalar(config.dropout),
                          seed: seed, generator: &generator)
        super.init()
        registerModule("encoder", encoder)
        registerModule("decoder", decoder)
    }

    /// Runs the encoder: the attention memory (nil without attention) and the decoder's initial state.
    /// - Parameters:
    ///   - source: (S, B) ids, row-major, 0 past each length.
    ///   - lengths: (B) in 1...S.
    public func encode(_ source: [Int], steps: Int, batch: Int, lengths: [Int]) -> (memory: AttentionMemory<Scalar>?, state: DecoderState<Scalar>) {
        let (keys, state) = encoder(source, steps: steps, batch: batch, lengths: lengths)  // (B, S, H)
        return (decoder.attention?.memory(keys: keys, lengths: lengths), state)
    }

    /// Decoder logits of every target step, (T, B, V).
    ///
    /// With `teacherForcing` 1 every step reads the true previous token; below 1, each row of each step
    /// reads the true token with that probability and the model's own previous argmax otherwise
    /// (scheduled sampling, Bengio et al. 2015, when the ratio decays over training).
    public func logits(_ batch: Seq2SeqBatch, teacherForcing: Double = 1, generator: inout RandomGenerator) -> Tensor<Scalar> {
        var (memory, state) = encode(batch.source, steps: batch.sourceSteps, batch: batch.batch, lengths: batch.sourceLengths)
        let B = batch.batch, V = decoder.vocabularySize
        var steps: [Tensor<Scalar>] = []
        var previous: [Int] = []
        for t in 0..<batch.targetSteps {
            var tokens = Array(batch.targetInput[(t * B)..<((t + 1) * B)])
            if t > 0, teacherForcing < 1 {
                for r in 0..<B where generator.nextUniform(Double.self) >= teacherForcing { tokens[r] = previous[r] }
            }
            let out = decoder.step(tokens, state: state, memory: memory)
            state = out.state
            steps.append(out.logits)
            if teacherForcing < 1 { previous = (0..<B).map { Self.argmax(out.logits.data + $0 * V, V) } }
        }
        return Tensor.stack(steps, axis: 0)                                       // (T, B, V)
    }

    /// Mean cross-entropy over the real target tokens (`</s>` included, padding ignored).
    public func loss(_ batch: Seq2SeqBatch, teacherForcing: Double = 1, generator: inout RandomGenerator) -> Tensor<Scalar> {
        let logits = logits(batch, teacherForcing: teacherForcing, generator: &generator)
        return crossEntropy(logits.reshaped([batch.targetSteps * batch.batch, decoder.vocabularySize]), targets: batch.targetOutput, ignoreIndex: 0)
    }

    /// Mean cross-entropy with teacher forcing, for evaluation (no generator needed).
    public func loss(_ batch: Seq2SeqBatch) -> Tensor<Scalar> {
        var unused = RandomGenerator(seed: 0)
        return loss(batch, teacherForcing: 1, generator: &unused)
    }

    /// How the next token is chosen while decoding without beams.
    public enum Choice: Sendable {
        /// The most likely token.
        case greedy
        /// Sampling from softmax(logits / temperature), restricted to the `topK` most likely tokens (0: all).
        case sample(temperature: Double, topK: Int)
    }

    /// Decodes every source of the batch at once (eval mode, no gradients), each row until `</s>` or `maxLength` tokens.
    /// - Parameters:
    ///   - source: (S, B) ids, row-major, 0 past each length.
    ///   - lengths: (B) in 1...S.
    public func decode(_ source: [Int], steps: Int, batch: Int, lengths: [Int], maxLength: Int, choice: Choice = .greedy,
                       generator: inout RandomGenerator) -> [Translation] {
        withoutGrad {
            let wasTraining = isTraining
            eval()
            defer { train(wasTraining) }
            var (memory, state) = encode(source, steps: steps, batch: batch, lengths: lengths)
            let V = decoder.vocabularySize, S = steps
            var results = (0..<batch).map { _ in Translation(ids: [], attention: [], logProbability: 0, score: 0) }
            var done = [Bool](repeating: false, count: batch)
            var tokens = [Int](repeating: bos, count: batch)
            for _ in 0..<maxLength {
                let out = decoder.step(tokens, state: state, memory: memory)
                state = out.state
                for r in 0..<batch where !done[r] {
                    let logProbs = Self.logSoftmax(out.logits.data + r * V, V)
                    let next: Int
                    switch choice {
                    case .greedy: next = Self.argmax(logProbs)
                    case let .sample(temperature, topK): next = Self.sample(logProbs, temperature: temperature, topK: topK, generator: &generator)
                    }
                    results[r].ids.append(next)
                    results[r].logProbability += logProbs[next]
                    if let w = out.weights { results[r].attention.append((0..<lengths[r]).map { Double(w.data[r * S + $0]) }) }
                    tokens[r] = next
                    if next == eos { done[r] = true }
                }
                if done.allSatisfy({ $0 }) { break }
            }
            for r in results.indices { results[r].score = results[r].logProbability }
            return results
        }
    }

    /// Beam search for one source sentence: the `nBest` best hypotheses, best first (see `beamSearch`).
    /// - Parameters:
    ///   - source: the source ids (at least one).
    ///   - beamWidth: hypotheses kept per step.
    ///   - lengthPenalty: α of GNMT's ((5 + |Y|) / 6)^α; 0 ranks by log-probability alone.
    ///   - nBest: hypotheses returned, at most `beamWidth`.
    public func beamSearch(_ source: [Int], beamWidth: Int, maxLength: Int, lengthPenalty: Double = 0, nBest: Int = 1) -> [Translation] {
        beamSearch([source], beamWidth: beamWidth, maxLength: maxLength, lengthPenalty: lengthPenalty, nBest: nBest)[0]
    }

    /// Beam search for several source sentences at once: they are encoded as one padded batch and every
    /// decoder step runs the live hypotheses of all of them together (`beamSearch(sources:…)`); each sentence
    /// keeps its own beam and stops on its own. Its hypotheses equal those of the sentence searched alone up
    /// to the last bits of the batched arithmetic (tested).
    /// - Parameter sources: the source sentences (each at least one id).
    /// - Returns: per sentence, the `nBest` best hypotheses, best first; attention rows over its own words.
    public func beamSearch(_ sources: [[Int]], beamWidth: Int, maxLength: Int, lengthPenalty: Double = 0, nBest: Int = 1) -> [[Translation]] {
        precondition(!sources.isEmpty && sources.allSatisfy { !$0.isEmpty }, "beamSearch: empty source")
        return withoutGrad {
            let wasTraining = isTraining
            eval()
            defer { train(wasTraining) }
            let batch = Seq2SeqBatch(sources: sources, targets: sources.map { _ in [] }, bos: bos, eos: eos)
            let (memory0, state0) = encode(batch.source, steps: batch.sourceSteps, batch: batch.batch, lengths: batch.sourceLengths)
            var memory = memory0, state = state0
            let V = decoder.vocabularySize, S = batch.sourceSteps
            let results = RecurrentModels.beamSearch(sources: sources.count, beamWidth: beamWidth, maxLength: maxLength,
                                                     lengthPenalty: lengthPenalty, nBest: nBest, vocabularySize: V, bos: bos, eos: eos) { parents, tokens in
                if parents != Array(0..<state.h[0].shape[0]) {                 // reordered, or sentences finished
                    state = state.selecting(rows: parents)
                    memory = memory.map { $0.selecting(rows: parents) }
                }
                let out = decoder.step(tokens, state: state, memory: memory)
                state = out.state
                var logProbs: [Double] = []
                logProbs.reserveCapacity(tokens.count * V)
                for r in tokens.indices { logProbs += Self.logSoftmax(out.logits.data + r * V, V) }
                let attention = out.weights.map { w in tokens.indices.map { r in (0..<S).map { Double(w.data[r * S + $0]) } } }
                return (logProbs, attention)
            }
            // Attention rows span the padded batch: keep each sentence's own positions (the rest are masked zeros).
            return zip(results, sources).map { hypotheses, source in
                hypotheses.map { h in
                    var h = h
                    h.attention = h.attention.map { Array($0.prefix(source.count)) }
                    return h
                }
            }
        }
    }

    static func logSoftmax(_ row: UnsafePointer<Scalar>, _ n: Int) -> [Double] {
        var m = -Double.infinity
        for i in 0..<n { m = max(m, Double(row[i])) }
        var sum = 0.0
        for i in 0..<n { sum += Foundation.exp(Double(row[i]) - m) }
        let lse = m + Foundation.log(sum)
        return (0..<n).map { Double(row[$0]) - lse }
    }

    static func argmax(_ row: UnsafePointer<Scalar>, _ n: Int) -> Int {
        var best = 0
        for i in 1..<n where row[i] > row[best] { best = i }
        return best
    }

    static func argmax(_ values: [Double]) -> Int {
        var best = 0
        for i in values.indices where values[i] > values[best] { best = i }
        return best
    }

    /// Draws from softmax(logProbs / temperature) over the `topK` largest (all when topK is 0).
    static func sample(_ logProbs: [Double], temperature: Double, topK: Int, generator: inout RandomGenerator) -> Int {
        var candidates = Array(logProbs.indices)
        if topK > 0, topK < candidates.count {
            candidates.sort { logProbs[$0] > logProbs[$1] }
            candidates = Array(candidates.prefix(topK))
        }
        let m = candidates.map { logProbs[$0] }.max()!
        let weights = candidates.map { Foundation.exp((logProbs[$0] - m) / temperature) }
        let k = weights.withUnsafeBufferPointer { generator.nextIndex(weights: $0) }
        return candidates[k]
    }
}
