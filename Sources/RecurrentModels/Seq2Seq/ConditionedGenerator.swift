import Foundation
import RecurrentData
import RecurrentIO
import RecurrentNN
import RecurrentTensor

/// One-to-many generation: a `Decoder` (no attention) whose initial state is set by a single vector,
/// h⁽ˡ⁾₀ = tanh(W_l v + b_l) for every layer l (and c⁽ˡ⁾₀ = 0 for LSTM). With a one-hot class label as
/// the vector, it generates text conditioned on the label.
/// Parameter names: `condition.weight` (L·H, C), `condition.bias`, `decoder.…` (see `Decoder`).
public final class ConditionedGenerator<Scalar: TensorScalar>: Module<Scalar> {
    /// The linear map from the conditioning vector to every layer's initial state (`condition.…`).
    public let condition: Linear<Scalar>
    /// The decoder that generates the tokens (`decoder.…`).
    public let decoder: Decoder<Scalar>
    /// C, the width of the conditioning vector.
    public let conditionSize: Int
    /// The ids of `<s>` and `</s>`.
    public let bos = 2, eos = 3

    /// - Parameters:
    ///   - conditionSize: C, the width of the conditioning vector.
    ///   - vocabularySize: V, with `<pad>` 0, `<unk>` 1, `<s>` 2, `</s>` 3 (as `Seq2SeqVocabularies.target`).
    public init(conditionSize: Int, vocabularySize: Int, embeddingSize: Int, hiddenSize: Int, layers: Int = 1,
                cell: RecurrentCellKind = .lstm, seed: UInt64) {
        var generator = RandomGenerator(seed: seed)
        self.conditionSize = conditionSize
        condition = Linear(inputSize: conditionSize, outputSize: layers * hiddenSize, generator: &generator)
        decoder = Decoder(kind: cell, vocabularySize: vocabularySize, embeddingSize: embeddingSize, hiddenSize: hiddenSize, layers: layers,
                          attention: nil, attentionSize: hiddenSize, dropout: 0, seed: seed, generator: &generator)
        super.init()
        registerModule("condition", condition)
        registerModule("decoder", decoder)
    }

    /// The decoder's initial state from the vectors (B, C).
    public func initialState(_ vectors: Tensor<Scalar>) -> DecoderState<Scalar> {
        let H = decoder.hiddenSize, L = decoder.cells.count
        let all = condition(vectors).tanh()                                   // (B, L·H)
        return DecoderState(layers: (0..<L).map { l in decoder.layerState(h: all.slice(axis: 1, (l * H)..<((l + 1) * H))) })
    }

    /// Mean cross-entropy of `targets` (ids without `<s>`/`</s>`, padding ignored) with teacher forcing.
    /// - Parameter vectors: (B, C), one per target.
    public func loss(_ vectors: Tensor<Scalar>, targets: [[Int]]) -> Tensor<Scalar> {
        let b = targets.count, T = (targets.map(\.count).max() ?? 0) + 1
        precondition(vectors.shape == [b, conditionSize], "ConditionedGenerator.loss: vectors \(vectors.shape) for \(b) targets")
        var state = initialState(vectors)
        var logits: [Tensor<Scalar>] = []
        var outputs = [Int](repeating: 0, count: T * b)
        for t in 0..<T {
            let tokens = targets.map { t == 0 ? bos : (t - 1 < $0.count ? $0[t - 1] : 0) }
            for r in 0..<b { outputs[t * b + r] = t < targets[r].count ? targets[r][t] : (t == targets[r].count ? eos : 0) }
            let out = decoder.step(tokens, state: state, memory: nil)
            state = out.state
            logits.append(out.logits)
        }
        return crossEntropy(Tensor.stack(logits, axis: 0).reshaped([T * b, decoder.vocabularySize]), targets: outputs, ignoreIndex: 0)
    }

    /// A sentence drawn from each vector (B, C), token by token from softmax(logits / temperature) until
    /// `</s>` or `maxLength` tokens; ids without `</s>`.
    public func sample(_ vectors: Tensor<Scalar>, maxLength: Int, temperature: Double, generator: inout RandomGenerator) -> [[Int]] {
        decode(vectors, maxLength: maxLength) { row, V in
            var logProbs = Seq2Seq<Scalar>.logSoftmax(row, V)
            for never in 0..<bos + 1 { logProbs[never] = -.infinity }   // <pad>, <unk>, <s>
            return Seq2Seq<Scalar>.sample(logProbs, temperature: temperature, topK: 0, generator: &generator)
        }
    }

    /// Greedy generation from each vector (B, C) until `</s>` or `maxLength` tokens; ids without `</s>`.
    public func generate(_ vectors: Tensor<Scalar>, maxLength: Int) -> [[Int]] {
        decode(vectors, maxLength: maxLength) { row, V in
            var next = eos   // the most likely token but <pad>, <unk> and <s>
            for i in eos..<V where row[i] > row[next] { next = i }
            return next
        }
    }

    /// The decoding loop of `sample` and `generate`: `pick` chooses each row's next token from its logits (V);
    /// neither picks `<pad>`, `<unk>` or `<s>`.
    private func decode(_ vectors: Tensor<Scalar>, maxLength: Int, pick: (UnsafePointer<Scalar>, Int) -> Int) -> [[Int]] {
        withoutGrad {
            let b = vectors.shape[0], V = decoder.vocabularySize
            var state = initialState(vectors)
            var tokens = [Int](repeating: bos, count: b), results = [[Int]](repeating: [], count: b), done = [Bool](repeating: false, count: b)
            for _ in 0..<maxLength where !done.allSatisfy({ $0 }) {
                let out = decoder.step(tokens, state: state, memory: nil)
                state = out.state
                for r in 0..<b where !done[r] {
                    let next = pick(out.logits.data + r * V, V)
                    if next == eos { done[r] = true } else { results[r].append(next) }
                    tokens[r] = next
                }
            }
            return results
        }
    }
}

/// Hyper-parameters of a label-conditioned generator (`recurrent train generate`); stored in checkpoints as JSON.
public struct ConditionedGeneratorConfig: Codable, Equatable, Sendable {
    /// Labels 0..<classes, each a one-hot conditioning vector.
    public var classes: Int
    /// V, with `<pad>` 0, `<unk>` 1, `<s>` 2, `</s>` 3.
    public var vocabularySize: Int
    /// The width of each token's embedding.
    public var embeddingSize: Int
    /// H, the hidden features of each decoder layer.
    public var hiddenSize: Int
    /// L, the number of decoder layers.
    public var layers: Int
    /// lstm, gru or rnn (the decoder's cells).
    public var cell: CellKind

    /// A configuration; `validate()` checks it.
    public init(classes: Int, vocabularySize: Int, embeddingSize: Int = 64, hiddenSize: Int = 128, layers: Int = 1, cell: CellKind = .lstm) {
        (self.classes, self.vocabularySize, self.embeddingSize) = (classes, vocabularySize, embeddingSize)
        (self.hiddenSize, self.layers, self.cell) = (hiddenSize, layers, cell)
    }

    /// The decoder's cell kind; nil for the cells the generator does not take.
    var kind: RecurrentCellKind? { cell.layerKind }

    /// Checks sizes before anything is allocated from them (a config may come from a file).
    public func validate() throws {
        guard kind != nil else { throw ModelError.badConfig("the generator's cell must be lstm, gru or rnn, got '\(cell)'") }
        for (name, value, low, limit) in [("classes", classes, 2, 100_000), ("vocabularySize", vocabularySize, 5, 10_000_000),
                                          ("embeddingSize", embeddingSize, 1, 65_536), ("hiddenSize", hiddenSize, 1, 65_536), ("layers", layers, 1, 64)]
            where value < low || value > limit {
            throw ModelError.badConfig("\(name) must be in \(low)...\(limit), got \(value)")
        }
    }
}

extension ConditionedGenerator where Scalar == Float {
    /// The task name stored in checkpoints.
    public static let task = "generate"

    /// - Precondition: `config.validate()` passed.
    public convenience init(_ config: ConditionedGeneratorConfig, seed: UInt64) {
        self.init(conditionSize: config.classes, vocabularySize: config.vocabularySize, embeddingSize: config.embeddingSize,
                  hiddenSize: config.hiddenSize, layers: config.layers, cell: config.kind!, seed: seed)
    }

    /// One-hot vectors (B, C) of `labels`.
    public func oneHot(_ labels: [Int]) -> Tensor<Float> {
        var values = [Float](repeating: 0, count: labels.count * conditionSize)
        for (r, label) in labels.enumerated() { values[r * conditionSize + label] = 1 }
        return Tensor(values, shape: [labels.count, conditionSize])
    }

    /// Loads a checkpoint written by `recurrent train generate`, validating everything that came from the file.
    public static func load(from url: URL) throws -> (model: ConditionedGenerator<Float>, config: ConditionedGeneratorConfig, vocabulary: Vocabulary) {
        let checkpoint = try Checkpoint.load(from: url)
        try checkpoint.require(task: task)
        let config = try checkpoint.validatedConfig(ConditionedGeneratorConfig.self, what: "a generator") { try $0.validate() }
        guard let tokens = checkpoint.vocabulary, let vocabulary = try? Vocabulary(tokens: tokens), vocabulary.count == config.vocabularySize,
              vocabulary.id(Vocabulary.bos) == 2, vocabulary.id(Vocabulary.eos) == 3 else {
            throw ModelError.badConfig("the checkpoint's vocabulary does not match its config (\(config.vocabularySize) tokens, <s> 2, </s> 3)")
        }
        if let bad = checkpoint.nonFiniteTensorNames.first { throw ModelError.nonFiniteParameters(bad) }
        try checkpoint.requireParameters(atLeast: config.vocabularySize * config.embeddingSize)
        let model = ConditionedGenerator(config, seed: 0)
        try model.loadParameters(checkpoint.modelTensors)
        return (model, config, vocabulary)
    }
}
