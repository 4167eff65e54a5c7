import Foundation
import RecurrentIO
import RecurrentData
import RecurrentNN
import RecurrentTensor

/// Hyper-parameters of a character (or token) language model; stored in checkpoints as JSON.
public struct LanguageModelConfig: Codable, Equatable, Sendable {
    /// V, the number of tokens.
    public var vocabularySize: Int
    /// The width of each token's embedding.
    public var embeddingSize: Int
    /// H, the hidden features of each layer.
    public var hiddenSize: Int
    /// L, the number of stacked layers.
    public var layers: Int
    /// The recurrence.
    public var cell: CellKind
    /// Dropout probability between layers and before the head, in train mode.
    public var dropout: Double

    /// A configuration with char-rnn's defaults (2 × 256 LSTM).
    public init(vocabularySize: Int, embeddingSize: Int = 64, hiddenSize: Int = 256, layers: Int = 2, cell: CellKind = .lstm, dropout: Double = 0) {
        self.vocabularySize = vocabularySize
        self.embeddingSize = embeddingSize
        self.hiddenSize = hiddenSize
        self.layers = layers
        self.cell = cell
        self.dropout = dropout
    }

}

/// One-to-many: embedding → stacked recurrent layer → linear to the vocabulary (char-rnn's model).
/// Parameter names: `embedding.weight`, `rnn.weight_ih_l0`, …, `head.weight`, `head.bias`.
public final class LanguageModel: Module<Float> {
    /// The configuration the model was built from.
    public let config: LanguageModelConfig
    /// The token embedding (`embedding.weight`, (V, E)).
    public let embedding: Embedding<Float>
    /// The stacked recurrent network (`rnn.…`).
    public let rnn: any RecurrentNetwork<Float>
    /// The linear layer from the top layer's output to the V logits (`head.…`).
    public let head: Linear<Float>

    /// A language model with random initial values drawn from a generator seeded with `seed`.
    public init(_ config: LanguageModelConfig, seed: UInt64) {
        self.config = config
        var generator = RandomGenerator(seed: seed)
        embedding = Embedding(vocabularySize: config.vocabularySize, dimension: config.embeddingSize, generator: &generator)
        let dropout = Float(config.dropout)
        rnn = TaskNetwork.make(cell: config.cell, input: config.embeddingSize, hidden: config.hiddenSize, layers: config.layers,
                               dropout: dropout, bidirectional: false, generator: &generator)
        head = Linear(inputSize: config.hiddenSize, outputSize: config.vocabularySize, generator: &generator)
        super.init()
        registerModule("embedding", embedding)
        registerModule("rnn", rnn.module)
        registerModule("head", head)
    }

    /// - Parameters:
    ///   - ids: (T, B) token ids, row-major.
    /// - Returns: logits (T, B, V) and the final recurrent state.
    public func callAsFunction(_ ids: [Int], steps: Int, batch: Int, state: RecurrentState<Float>? = nil) -> (logits: Tensor<Float>, state: RecurrentState<Float>) {
        let x = embedding(ids, shape: [steps, batch])                 // (T, B, E)
        let (h, newState) = rnn(x, state: state)              // (T, B, H)
        return (head(h), newState)                                   // (T, B, V)
    }

    /// Mean cross-entropy (nats per token) of `targets` (T, B) under the model.
    public func loss(_ batch: LanguageModelBatch, state: RecurrentState<Float>? = nil) -> (loss: Tensor<Float>, state: RecurrentState<Float>) {
        let (logits, newState) = self(batch.inputs, steps: batch.steps, batch: batch.batch, state: state)
        let flat = logits.reshaped([batch.steps * batch.batch, config.vocabularySize])
        return (crossEntropy(flat, targets: batch.targets), newState)
    }

    /// Generates `length` tokens after `prime`, one at a time with batch 1.
    /// - Parameters:
    ///   - temperature: divides the logits; lower is more conservative. Must be > 0.
    ///   - topK: sample only among the k most likely tokens (nil: all).
    public func sample(prime: [Int], length: Int, temperature: Float = 1, topK: Int? = nil, generator: inout RandomGenerator) -> [Int] {
        precondition(temperature > 0, "sample: temperature must be positive")
        return withoutGrad {
            let wasTraining = isTraining
            eval()
            defer { train(wasTraining) }
            return LanguageModelLoops.sample(prime: prime, length: length, temperature: temperature, topK: topK,
                                             vocabularySize: config.vocabularySize, generator: &generator) { id, state in
                let step = self([id], steps: 1, batch: 1, state: state)
                return (step.logits, step.state)
            }
        }
    }
}

extension LanguageModel {
    /// Loads a checkpoint written by `LanguageModelTrainer`, validating everything that came from the file.
    public static func load(from url: URL) throws -> (model: LanguageModel, vocabulary: Vocabulary) {
        try load(checkpoint: Checkpoint.load(from: url))
    }

    /// Builds the model from a checkpoint already read, validating everything that came from it;
    /// a config that asks for more parameters than the checkpoint holds is refused before allocation.
    public static func load(checkpoint: Checkpoint) throws -> (model: LanguageModel, vocabulary: Vocabulary) {
        try checkpoint.require(task: "charlm")
        let config = try checkpoint.validatedConfig(LanguageModelConfig.self, what: "a language-model") { try $0.validate() }
        try checkpoint.requireParameters(atLeast: config.minimumParameterCount)
        guard let tokens = checkpoint.vocabulary else { throw ModelError.badConfig("the checkpoint has no vocabulary") }
        let vocabulary = try Vocabulary(tokens: tokens)
        guard vocabulary.count == config.vocabularySize else {
            throw ModelError.badConfig("the vocabulary has \(vocabulary.count) tokens but the config says \(config.vocabularySize)")
        }
        if let bad = checkpoint.nonFiniteTensorNames.first { throw ModelError.nonFiniteParameters(bad) }
        let model = LanguageModel(config, seed: 0)
        try model.loadParameters(checkpoint.modelTensors)
        return (model, vocabulary)
    }
}

extension LanguageModelConfig {
    /// Checks sizes before anything is allocated from them (a config may come from a file).
    public func validate() throws {
        for (name, value, limit) in [("vocabularySize", vocabularySize, 10_000_000), ("embeddingSize", embeddingSize, 65_536),
                                     ("hiddenSize", hiddenSize, 65_536), ("layers", layers, 64)] where value < 1 || value > limit {
            throw ModelError.badConfig("\(name) must be in 1...\(limit), got \(value)")
        }
        guard isDropoutProbability(dropout) else { throw ModelError.badConfig("dropout must be in [0, 1) in single precision, got \(dropout)") }
    }
}

/// Errors about models and checkpoints that came from outside.
public enum ModelError: Error, CustomStringConvertible, Equatable {
    /// The checkpoint belongs to another task.
    case wrongTask(expected: String, found: String)
    /// A configuration value is out of range; the text says which and why.
    case badConfig(String)
    /// Parameters hold NaN or infinity; the text names them.
    case nonFiniteParameters(String)

    public var description: String {
        switch self {
        case let .wrongTask(expected, found): "this checkpoint is for task '\(found)', expected '\(expected)'"
        case let .badConfig(reason): "bad model config: \(reason)"
        case let .nonFiniteParameters(name): "the checkpoint's parameter '\(name)' contains NaN or infinity"
        }
    }
}
