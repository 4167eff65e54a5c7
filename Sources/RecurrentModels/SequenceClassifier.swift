import Foundation
import RecurrentData
import RecurrentIO
import RecurrentNN
import RecurrentTensor

/// Hyper-parameters of a sequence classifier; stored in checkpoints as JSON.
public struct SequenceClassifierConfig: Codable, Equatable, Sendable {
    public var vocabularySize: Int
    public var embeddingSize: Int
    public var hiddenSize: Int
    public var layers: Int
    public var cell: CellKind
    public var bidirectional: Bool
    /// Dropout on the embeddings and on the pooled features (and between stacked layers), in train mode.
    public var dropout: Double
    public var classes: Int
    /// How the sequence becomes one vector: "final" (the last valid state of each direction),
    /// "mean" (masked mean of the outputs) or "max" (masked max of the outputs).
    public var pooling: Pooling

    public init(vocabularySize: Int, embeddingSize: Int = 64, hiddenSize: Int = 64, layers: Int = 1, cell: CellKind = .lstm,
                bidirectional: Bool = true, dropout: Double = 0.5, classes: Int = 2, pooling: Pooling = .max) {
        self.vocabularySize = vocabularySize
        self.embeddingSize = embeddingSize
        self.hiddenSize = hiddenSize
        self.layers = layers
        self.cell = cell
        self.bidirectional = bidirectional
        self.dropout = dropout
        self.classes = classes
        self.pooling = pooling
    }


    /// Checks sizes before anything is allocated from them (a config may come from a file).
    public func validate() throws {
        for (name, value, low, limit) in [("vocabularySize", vocabularySize, 2, 10_000_000), ("embeddingSize", embeddingSize, 1, 65_536),
                                          ("hiddenSize", hiddenSize, 1, 65_536), ("layers", layers, 1, 64), ("classes", classes, 2, 100_000)]
            where value < low || value > limit {
            throw ModelError.badConfig("\(name) must be in \(low)...\(limit), got \(value)")
        }
        guard isDropoutProbability(dropout) else { throw ModelError.badConfig("dropout must be in [0, 1) in single precision, got \(dropout)") }
    }
}

/// Many-to-one: embedding (`<pad>` = id 0 stays zero) → stacked, optionally bidirectional recurrent
/// layer over the true lengths → pooling over time → dropout → linear to the classes.
/// Parameter names: `embedding.weight`, `rnn.weight_ih_l0`, `rnn.weight_ih_l0_reverse`, …, `head.weight`, `head.bias`.
public final class SequenceClassifier: Module<Float> {
    public let config: SequenceClassifierConfig
    public let embedding: Embedding<Float>
    public let rnn: any RecurrentNetwork<Float>
    public let dropout: Dropout<Float>
    public let head: Linear<Float>

    /// Width of the pooled features: D·H.
    public var featureSize: Int { rnn.outputFeatures }

    public init(_ config: SequenceClassifierConfig, seed: UInt64) {
        precondition((try? config.validate()) != nil, "SequenceClassifier: invalid config \(config)")
        self.config = config
        var generator = RandomGenerator(seed: seed)
        embedding = Embedding(vocabularySize: config.vocabularySize, dimension: config.embeddingSize, paddingIndex: 0, generator: &generator)
        let (e, h, l, p, bi) = (config.embeddingSize, config.hiddenSize, config.layers, Float(config.dropout), config.bidirectional)
        rnn = TaskNetwork.make(cell: config.cell, input: e, hidden: h, layers: l, dropout: p, bidirectional: bi, generator: &generator)
        dropout = Dropout(p, seed: generator.next())
        head = Linear(inputSize: rnn.outputFeatures, outputSize: config.classes, generator: &generator)
        super.init()
        registerModule("embedding", embedding)
        registerModule("rnn", rnn.module)
        registerModule("dropout", dropout)      // no parameters; registered so that eval() reaches it
        registerModule("head", head)
    }

    /// - Returns: logits (B, C).
    public func callAsFunction(_ batch: ClassificationBatch) -> Tensor<Float> {
        let (T, B) = (batch.steps, batch.batch)
        let x = dropout(embedding(batch.ids, shape: [T, B]))                         // (T, B, E)
        let (output, state) = rnn(x, lengths: batch.lengths)                         // (T, B, D·H), h (L·D, B, H)
        let D = rnn.directions, H = rnn.stateWidth, L = rnn.numLayers
        let features: Tensor<Float>                                                   // (B, D·H)
        switch config.pooling {
        case .final:
            // The last layer's final states: forward at each sequence's last step, reverse at its first.
            let last = state.h.slice(axis: 0, ((L - 1) * D)..<(L * D))               // (D, B, H)
            features = last.permuted([1, 0, 2]).reshaped([B, D * H])
        case .mean:
            let inverse = Tensor<Float>(zeros: [B, 1])
            for b in 0..<B { inverse.data[b] = 1 / Float(batch.lengths[b]) }
            features = output.sum(axis: 0) * inverse                                  // outputs past a length are zero
        case .max:
            // Steps past a length are zero in `output`; they must not win the max.
            var padded = [Bool](repeating: false, count: T * B)
            for b in 0..<B { for t in batch.lengths[b]..<T { padded[t * B + b] = true } }
            features = output.maskedFill(mask: padded, maskShape: [T, B, 1], value: -.greatestFiniteMagnitude).max(axis: 0)
        }
        return head(dropout(features))                                                // (B, C)
    }

    /// Mean cross-entropy of the batch's labels, and the logits.
    public func loss(_ batch: ClassificationBatch) -> (loss: Tensor<Float>, logits: Tensor<Float>) {
        let logits = self(batch)
        return (crossEntropy(logits, targets: batch.labels), logits)
    }

    /// Class probabilities (B, C) in eval mode, without a graph.
    public func probabilities(_ batch: ClassificationBatch) -> Tensor<Float> {
        withoutGrad {
            let wasTraining = isTraining
            eval()
            defer { train(wasTraining) }
            return self(batch).softmax(axis: -1)
        }
    }
}

extension SequenceClassifier {
    /// The checkpoint task name.
    public static let task = "classify"

    /// Loads a checkpoint written by `SequenceClassifierTrainer`, validating everything that came from the file.
    /// - Returns: the model, its vocabulary and the checkpoint's `extra` metadata (split seed, epoch, …).
    public static func load(from url: URL) throws -> (model: SequenceClassifier, vocabulary: Vocabulary, extra: [String: String]) {
        try load(checkpoint: Checkpoint.load(from: url))
    }

    /// Builds the model from a checkpoint already read, validating everything that came from it;
    /// a config that asks for more parameters than the checkpoint holds is refused before allocation.
    public static func load(checkpoint: Checkpoint) throws -> (model: SequenceClassifier, vocabulary: Vocabulary, extra: [String: String]) {
        try checkpoint.require(task: task)
        let config = try checkpoint.validatedConfig(SequenceClassifierConfig.self, what: "a classifier") { try $0.validate() }
        try checkpoint.requireParameters(atLeast: config.minimumParameterCount)
        guard let tokens = checkpoint.vocabulary else { throw ModelError.badConfig("the checkpoint has no vocabulary") }
        let vocabulary = try Vocabulary(tokens: tokens)
        guard vocabulary.count == config.vocabularySize else {
            throw ModelError.badConfig("the vocabulary has \(vocabulary.count) tokens but the config says \(config.vocabularySize)")
        }
        guard vocabulary.paddingId == 0, vocabulary.unknownId != nil else {
            throw ModelError.badConfig("the vocabulary must start with <pad> and contain <unk>")
        }
        if let bad = checkpoint.nonFiniteTensorNames.first { throw ModelError.nonFiniteParameters(bad) }
        let model = SequenceClassifier(config, seed: 0)
        try model.loadParameters(checkpoint.modelTensors)  // last.safetensors also holds optimizer state
        return (model, vocabulary, checkpoint.extra)
    }
}
