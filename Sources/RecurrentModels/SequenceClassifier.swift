import Foundation
import RecurrentData
import RecurrentIO
import RecurrentNN
import RecurrentTensor

/// Hyper-parameters of a sequence classifier; stored in checkpoints as JSON.
public struct SequenceClassifierConfig: Codable, Equatable, Sendable {
    /// V, the number of tokens (0 for real-vector input).
    public var vocabularySize: Int
    /// The width of each token's embedding (or the features per step of real-vector input).
    public var embeddingSize: Int
    /// H, the hidden features of each layer and direction.
    public var hiddenSize: Int
    /// L, the number of stacked layers.
    public var layers: Int
    /// The recurrence.
    public var cell: CellKind
    /// Whether a reverse direction runs.
    public var bidirectional: Bool
    /// Dropout on the embeddings and on the pooled features (and between stacked layers), in train mode.
    public var dropout: Double
    /// Number of classes.
    public var classes: Int
    /// How the sequence becomes one vector: "final" (the last valid state of each direction),
    /// "mean" (masked mean of the outputs), "max" (masked max of the outputs) or "attention" (learned weights over the steps).
    public var pooling: Pooling
    /// What one input step is. nil: a token id, looked up in the embedding (`classify`; the vocabulary fields apply).
    /// F: a vector of F real features read as it is, after `scaler` (`classify-series`; no embedding, the vocabulary
    /// fields are 0). Absent from the JSON of token classifiers, so their checkpoints read as before.
    public var inputFeatures: Int?
    /// Per-feature standardisation fitted on the training split (real-vector input only).
    public var scaler: FeatureScaler?
    /// The class names in id order, as the data writes them (real-vector input: "Walking", "3"); nil: the ids.
    public var classNames: [String]?
    /// Steps of the data read as one input step (`LabelledSeries.patched`; real-vector input): `inputFeatures` is
    /// this times the data's features. nil: 1.
    public var patchLength: Int?

    /// A configuration; `validate()` checks it.
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

    /// A classifier of sequences of `features`-dimensional real vectors, standardised by `scaler`.
    public static func series(features: Int, scaler: FeatureScaler, classNames: [String], hiddenSize: Int = 64, layers: Int = 1,
                              cell: CellKind = .lstm, bidirectional: Bool = true, dropout: Double = 0.2, pooling: Pooling = .mean) -> Self {
        var config = Self(vocabularySize: 0, embeddingSize: 0, hiddenSize: hiddenSize, layers: layers, cell: cell, bidirectional: bidirectional,
                          dropout: dropout, classes: classNames.count, pooling: pooling)
        config.inputFeatures = features
        config.scaler = scaler
        config.classNames = classNames
        return config
    }

    /// Width of one input step: the embedding size, or F.
    public var inputSize: Int { inputFeatures ?? embeddingSize }


    /// Checks sizes before anything is allocated from them (a config may come from a file).
    public func validate() throws {
        var ranges = [("hiddenSize", hiddenSize, 1, 65_536), ("layers", layers, 1, 64), ("classes", classes, 2, 100_000)]
        if let inputFeatures {
            ranges.append(("inputFeatures", inputFeatures, 1, 65_536))
            guard let scaler else { throw ModelError.badConfig("a classifier of real vectors needs its feature scaler") }
            if let reason = scaler.invalidReason { throw ModelError.badConfig(reason) }
            guard scaler.features == inputFeatures else {
                throw ModelError.badConfig("the feature scaler has \(scaler.features) features but inputFeatures is \(inputFeatures)")
            }
        } else {
            ranges += [("vocabularySize", vocabularySize, 2, 10_000_000), ("embeddingSize", embeddingSize, 1, 65_536)]
        }
        for (name, value, low, limit) in ranges where value < low || value > limit {
            throw ModelError.badConfig("\(name) must be in \(low)...\(limit), got \(value)")
        }
        if let patchLength, patchLength < 1 || patchLength > 65_536 || (inputFeatures ?? 0) % patchLength != 0 {
            throw ModelError.badConfig("patchLength must be in 1...65536 and divide inputFeatures, got \(patchLength)")
        }
        if let classNames, classNames.count != classes || Set(classNames).count != classes {
            throw ModelError.badConfig("classNames must name each of the \(classes) classes once, got \(classNames.count) names")
        }
        guard isDropoutProbability(dropout) else { throw ModelError.badConfig("dropout must be in [0, 1) in single precision, got \(dropout)") }
    }
}

/// Many-to-one: embedding (`<pad>` = id 0 stays zero) — or, for real-vector input, the standardised vectors as they
/// are — → stacked, optionally bidirectional recurrent layer over the true lengths → pooling over time → dropout →
/// linear to the classes. One model serves `classify` (words) and `classify-series` (spectra, sensor recordings,
/// speech frames): only what enters the recurrent layer differs.
/// Parameter names: `embedding.weight` (token input only), `rnn.weight_ih_l0`, `rnn.weight_ih_l0_reverse`, …,
/// `head.weight`, `head.bias`, and for attention pooling `attention.projection.weight`, `attention.projection.bias`,
/// `attention.score.weight`.
public final class SequenceClassifier: Module<Float> {
    /// The configuration the model was built from.
    public let config: SequenceClassifierConfig
    /// nil for real-vector input.
    public let embedding: Embedding<Float>?
    /// The stacked recurrent network (`rnn.…`).
    public let rnn: any RecurrentNetwork<Float>
    /// Dropout on the pooled features, in train mode.
    public let dropout: Dropout<Float>
    /// The linear layer from the pooled features to the class logits (`head.…`).
    public let head: Linear<Float>
    /// The scorer of attention pooling (nil for the other poolings).
    public let attention: AttentionPooling?

    /// Width of the pooled features: D·H.
    public var featureSize: Int { rnn.outputFeatures }

    /// A classifier with random initial values drawn from a generator seeded with `seed`.
    public init(_ config: SequenceClassifierConfig, seed: UInt64) {
        precondition((try? config.validate()) != nil, "SequenceClassifier: invalid config \(config)")
        self.config = config
        var generator = RandomGenerator(seed: seed)
        embedding = config.inputFeatures == nil
            ? Embedding(vocabularySize: config.vocabularySize, dimension: config.embeddingSize, paddingIndex: 0, generator: &generator) : nil
        let (e, h, l, p, bi) = (config.inputSize, config.hiddenSize, config.layers, Float(config.dropout), config.bidirectional)
        rnn = TaskNetwork.make(cell: config.cell, input: e, hidden: h, layers: l, dropout: p, bidirectional: bi, generator: &generator)
        dropout = Dropout(p, seed: generator.next())
        head = Linear(inputSize: rnn.outputFeatures, outputSize: config.classes, generator: &generator)
        // Drawn after everything else, so that the other poolings' seeds give the models they gave before.
        attention = config.pooling == .attention ? AttentionPooling(inputSize: rnn.outputFeatures, attentionSize: h, generator: &generator) : nil
        super.init()
        if let embedding { registerModule("embedding", embedding) }
        registerModule("rnn", rnn.module)
        registerModule("dropout", dropout)      // no parameters; registered so that eval() reaches it
        registerModule("head", head)
        if let attention { registerModule("attention", attention) }
    }

    /// - Returns: logits (B, C).
    public func callAsFunction(_ batch: ClassificationBatch) -> Tensor<Float> {
        guard let embedding else { preconditionFailure("SequenceClassifier: token batch given to a classifier of real vectors") }
        let x = dropout(embedding(batch.ids, shape: [batch.steps, batch.batch]))     // (T, B, E)
        return classify(x, lengths: batch.lengths)
    }

    /// - Returns: logits (B, C) of a batch of standardised real vectors. No input dropout: zeroing a measured feature
    ///   is not the regulariser that dropping a word's embedding is.
    public func callAsFunction(_ batch: SeriesBatch) -> Tensor<Float> {
        precondition(batch.features == config.inputFeatures, "SequenceClassifier: \(batch.features) features for a model of \(config.inputFeatures ?? 0)")
        return classify(Tensor(batch.values, shape: [batch.steps, batch.batch, batch.features]), lengths: batch.lengths)
    }

    /// The recurrent layer, pooling and head over inputs already embedded or standardised.
    /// - Parameters:
    ///   - x: (T, B, I).
    ///   - lengths: B lengths in 1...T.
    /// - Returns: logits (B, C).
    func classify(_ x: Tensor<Float>, lengths: [Int]) -> Tensor<Float> {
        classify(x, lengths: lengths, network: { self.rnn($0, lengths: $1) }, head: { self.head($0) })
    }

    /// `classify` with the recurrent network and the head given (QuantizedSequenceClassifier's quantized ones).
    func classify(_ x: Tensor<Float>, lengths: [Int], network: (Tensor<Float>, [Int]) -> (output: Tensor<Float>, state: RecurrentState<Float>),
                  head: (Tensor<Float>) -> Tensor<Float>) -> Tensor<Float> {
        let T = x.shape[0], B = x.shape[1]
        let (output, state) = network(x, lengths)                                    // (T, B, D·H), h (L·D, B, H)
        let D = rnn.directions, H = rnn.stateWidth, L = rnn.numLayers
        let features: Tensor<Float>                                                   // (B, D·H)
        switch config.pooling {
        case .final:
            // The last layer's final states: forward at each sequence's last step, reverse at its first.
            let last = state.h.slice(axis: 0, ((L - 1) * D)..<(L * D))               // (D, B, H)
            features = last.permuted([1, 0, 2]).reshaped([B, D * H])
        case .mean:
            let inverse = Tensor<Float>(zeros: [B, 1])
            for b in 0..<B { inverse.data[b] = 1 / Float(lengths[b]) }
            features = output.sum(axis: 0) * inverse                                  // outputs past a length are zero
        case .max:
            // Steps past a length are zero in `output`; they must not win the max.
            var padded = [Bool](repeating: false, count: T * B)
            for b in 0..<B { for t in lengths[b]..<T { padded[t * B + b] = true } }
            features = output.maskedFill(mask: padded, maskShape: [T, B, 1], value: -.greatestFiniteMagnitude).max(axis: 0)
        case .attention:
            features = attention!(output, lengths: lengths).pooled
        }
        return head(dropout(features))                                                // (B, C)
    }

    /// Mean cross-entropy of the batch's labels, and the logits.
    public func loss(_ batch: ClassificationBatch) -> (loss: Tensor<Float>, logits: Tensor<Float>) {
        let logits = self(batch)
        return (crossEntropy(logits, targets: batch.labels), logits)
    }

    /// Mean cross-entropy of a series batch's labels, and the logits.
    public func loss(_ batch: SeriesBatch) -> (loss: Tensor<Float>, logits: Tensor<Float>) {
        let logits = self(batch)
        return (crossEntropy(logits, targets: batch.labels), logits)
    }

    /// Class probabilities (B, C) of a series batch in eval mode, without a graph.
    public func probabilities(_ batch: SeriesBatch) -> Tensor<Float> {
        withoutGrad {
            let wasTraining = isTraining
            eval()
            defer { train(wasTraining) }
            return self(batch).softmax(axis: -1)
        }
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
        guard config.inputFeatures == nil else { throw ModelError.badConfig("the checkpoint's classifier reads real vectors, not tokens") }
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

extension SequenceClassifier {
    /// The checkpoint task name of classifiers of real-vector sequences.
    public static let seriesTask = "classify-series"

    /// Loads a checkpoint written by `recurrent train classify-series`, validating everything that came from the file.
    /// - Returns: the model (its config holds the feature scaler and the class names) and the checkpoint's `extra` metadata.
    public static func loadSeries(from url: URL) throws -> (model: SequenceClassifier, extra: [String: String]) {
        let checkpoint = try Checkpoint.load(from: url)
        try checkpoint.require(task: seriesTask)
        let config = try checkpoint.validatedConfig(SequenceClassifierConfig.self, what: "a series classifier") { try $0.validate() }
        guard config.inputFeatures != nil else { throw ModelError.badConfig("the checkpoint's classifier reads tokens, not real vectors") }
        try checkpoint.requireParameters(atLeast: config.minimumParameterCount)
        if let bad = checkpoint.nonFiniteTensorNames.first { throw ModelError.nonFiniteParameters(bad) }
        let model = SequenceClassifier(config, seed: 0)
        try model.loadParameters(checkpoint.modelTensors)  // last.safetensors also holds optimizer state
        return (model, checkpoint.extra)
    }
}
