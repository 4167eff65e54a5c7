import Foundation
import RecurrentData
import RecurrentIO
import RecurrentNN
import RecurrentTensor

/// Character-level features of each word, concatenated to its embedding.
public enum CharacterFeatures: String, Codable, CaseIterable, Sendable {
    /// None: the word embedding alone.
    case none
    /// A character BiLSTM per word, its final states (Lample et al. 2016).
    case lstm
    /// A character CNN of width 3 with max-pooling (Ma & Hovy 2016).
    case cnn
}

/// What the intent head reads of the bidirectional layer's outputs.
public enum IntentPooling: String, Codable, CaseIterable, Sendable {
    /// The final states of both directions of the last layer (forward at the last word, backward at the first): 2H.
    case final
    /// The element-wise maximum of the outputs over the valid steps, concatenated with the final states: 4H.
    case max
    /// An attention-weighted mean of the outputs over the valid steps (one learned score per step,
    /// `intent_attention.…`), concatenated with the final states: 4H.
    case attention
    /// Votes of the words (token-level intents, as Qin et al. 2019): the intent head scores the intents from each
    /// word's output, and the sentence's distribution is the normalised geometric mean of the words' distributions
    /// (their log-probabilities averaged over the valid steps), trained by its cross-entropy: 2H per word.
    case votes

    /// Features the intent head reads, for `hiddenSize` units per direction.
    public func features(hiddenSize H: Int) -> Int { self == .final || self == .votes ? 2 * H : 4 * H }
}

/// Hyper-parameters of a sequence tagger; stored in checkpoints as JSON.
public struct SequenceTaggerConfig: Codable, Equatable, Sendable {
    /// V, the number of words.
    public var vocabularySize: Int
    /// Number of tags, `<pad>` included.
    public var tagCount: Int
    /// Sentence labels for the joint intent head; 0: no intent head.
    public var intentCount: Int
    /// The width of each word's embedding.
    public var embeddingSize: Int
    /// H, the hidden features of each layer and direction.
    public var hiddenSize: Int
    /// L, the number of stacked layers.
    public var layers: Int
    /// Dropout probability on the embeddings and before the head, in train mode.
    public var dropout: Double
    /// The bidirectional layer's cell: one of `cells`.
    public var cell: CellKind
    /// A linear-chain CRF over the tag scores (trained by its negative log-likelihood, decoded by
    /// Viterbi under IOB2 constraints) instead of a per-token softmax.
    public var crf = false
    /// Words are looked up lowercased (the vocabulary holds lowercased words).
    public var lowercase = false
    /// Character-level word features.
    public var characterFeatures = CharacterFeatures.none
    /// Character ids (`<pad>` and `<unk>` included) of the character vocabulary; 0 without character features.
    public var alphabetSize = 0
    /// Features of a character's embedding.
    public var characterEmbeddingSize = 25
    /// Hidden units per direction of the character BiLSTM, or filters of the character CNN.
    public var characterHiddenSize = 25
    /// Features of the casing embedding (`WordCasing`) concatenated to each word; 0: none.
    public var casingSize = 0
    /// Whether the word embedding is kept fixed (pretrained vectors used as they are).
    public var freezeEmbeddings = false
    /// What the intent head reads (checkpoints before it existed: `.final`).
    public var intentPooling = IntentPooling.final

    /// Features per word that the recurrent layer reads: embedding, character features, casing.
    public var wordFeatureSize: Int {
        let characters = switch characterFeatures {
        case .none: 0
        case .lstm: 2 * characterHiddenSize
        case .cnn: characterHiddenSize
        }
        return embeddingSize + characters + casingSize
    }

    /// A configuration; `validate()` checks it.
    public init(vocabularySize: Int, tagCount: Int, intentCount: Int = 0, embeddingSize: Int = 100, hiddenSize: Int = 128,
                layers: Int = 1, dropout: Double = 0.3, cell: CellKind = .lstm, crf: Bool = false, lowercase: Bool = false) {
        self.vocabularySize = vocabularySize
        self.tagCount = tagCount
        self.intentCount = intentCount
        self.embeddingSize = embeddingSize
        self.hiddenSize = hiddenSize
        self.layers = layers
        self.dropout = dropout
        self.cell = cell
        self.crf = crf
        self.lowercase = lowercase
    }

    /// Checkpoints written before `cell` existed hold LSTM taggers.
    public init(from decoder: Swift.Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        vocabularySize = try c.decode(Int.self, forKey: .vocabularySize)
        tagCount = try c.decode(Int.self, forKey: .tagCount)
        intentCount = try c.decode(Int.self, forKey: .intentCount)
        embeddingSize = try c.decode(Int.self, forKey: .embeddingSize)
        hiddenSize = try c.decode(Int.self, forKey: .hiddenSize)
        layers = try c.decode(Int.self, forKey: .layers)
        dropout = try c.decode(Double.self, forKey: .dropout)
        cell = try c.decodeIfPresent(CellKind.self, forKey: .cell) ?? .lstm   // checkpoints before the cell was chosen: LSTM
        // Checkpoints before issue 20: softmax taggers of words as written.
        crf = try c.decodeIfPresent(Bool.self, forKey: .crf) ?? false
        lowercase = try c.decodeIfPresent(Bool.self, forKey: .lowercase) ?? false
        characterFeatures = try c.decodeIfPresent(CharacterFeatures.self, forKey: .characterFeatures) ?? .none
        alphabetSize = try c.decodeIfPresent(Int.self, forKey: .alphabetSize) ?? 0
        characterEmbeddingSize = try c.decodeIfPresent(Int.self, forKey: .characterEmbeddingSize) ?? 25
        characterHiddenSize = try c.decodeIfPresent(Int.self, forKey: .characterHiddenSize) ?? 25
        casingSize = try c.decodeIfPresent(Int.self, forKey: .casingSize) ?? 0
        freezeEmbeddings = try c.decodeIfPresent(Bool.self, forKey: .freezeEmbeddings) ?? false
        intentPooling = try c.decodeIfPresent(IntentPooling.self, forKey: .intentPooling) ?? .final
    }

    /// Checks sizes before anything is allocated from them (a config may come from a file).
    public func validate() throws {
        for (name, value, low, limit) in [("vocabularySize", vocabularySize, 1, 10_000_000), ("tagCount", tagCount, 2, 100_000),
                                          ("intentCount", intentCount, 0, 100_000), ("embeddingSize", embeddingSize, 1, 65_536),
                                          ("hiddenSize", hiddenSize, 1, 65_536), ("layers", layers, 1, 64),
                                          ("characterEmbeddingSize", characterEmbeddingSize, 1, 4096),
                                          ("characterHiddenSize", characterHiddenSize, 1, 4096), ("casingSize", casingSize, 0, 4096),
                                          ("alphabetSize", alphabetSize, characterFeatures == .none ? 0 : 3, 2_000_000)]
            where value < low || value > limit {
            throw ModelError.badConfig("\(name) must be in \(low)...\(limit), got \(value)")
        }
        guard isDropoutProbability(dropout) else { throw ModelError.badConfig("dropout must be in [0, 1) in single precision, got \(dropout)") }
    }
}

/// Many-to-many aligned labelling: embedding (padding index 0) → dropout → bidirectional LSTM (or GRU, RNN) over
/// the true lengths → dropout → linear to tag scores at every step, then either a per-token softmax or,
/// with `config.crf`, a linear-chain CRF (Lample et al. 2016) under IOB2 transition constraints; with
/// `intentCount > 0`, a joint intent head on the final states of both directions of the last layer
/// (forward at each sentence's last token, backward at its first), alone or beside a pooling of the
/// outputs over the valid steps (`config.intentPooling`). Decoding may subtract `outsideBias` from the
/// `O` tag's score at every step (a bias against `O`, tuned on validation data: `OutsideBias`).
/// Parameter names: `embedding.weight`, `rnn.weight_ih_l0`, `rnn.weight_ih_l0_reverse`, …,
/// `head.weight`, `head.bias`, `crf.start_transitions`, `crf.end_transitions`, `crf.transitions`,
/// `intent_head.weight`, `intent_head.bias`, `intent_attention.weight`, `intent_attention.bias`.
public final class SequenceTagger: Module<Float> {
    /// The configuration the model was built from.
    public let config: SequenceTaggerConfig
    /// The word embedding (`embedding.weight`, `<pad>` = 0).
    public let embedding: Embedding<Float>
    /// The stacked recurrent network (`rnn.…`).
    public let rnn: any RecurrentNetwork<Float>
    /// Dropout on the embeddings and on the recurrent outputs.
    public let dropout: Dropout<Float>
    /// The linear layer to the tag logits at every step (`head.…`).
    public let head: Linear<Float>
    /// The linear layer to the intent logits from the final states (and pooled outputs) (`intent_head.…`); nil without intents.
    public let intentHead: Linear<Float>?
    /// With `config.intentPooling == .attention`: the score of each step's output (`intent_attention.…`, 2H → 1).
    public let intentAttention: Linear<Float>?
    /// With `config.crf`: the CRF over the tag scores.
    public let crf: LinearChainCRF<Float>?
    /// The character-level word encoder (`config.characterFeatures`), registered as `characters`.
    public let characterLSTM: CharacterLSTMEncoder<Float>?
    /// The character CNN when `config.characterFeatures` is `.cnn`, registered as `characters`.
    public let characterCNN: CharacterCNNEncoder<Float>?
    /// With `config.casingSize > 0`: the casing embedding, registered as `casing`.
    public let casing: CasingEmbedding<Float>?
    /// The id of the `O` tag among the tags the model was built with (nil when built without tag names or without an `O`).
    public let outsideTag: Int?
    /// Subtracted from the `O` tag's score at every step before decoding (Viterbi or argmax): a positive
    /// bias makes the tagger name more entities. Not a parameter: 0 while training, then chosen on the
    /// validation split and stored in the checkpoint (`OutsideBias`).
    public var outsideBias: Float = 0

    /// - Parameters:
    ///   - tags: the tag names in id order (`<pad>` first), from which a CRF's IOB2 constraints are built
    ///     (nil: an unconstrained CRF).
    public init(_ config: SequenceTaggerConfig, seed: UInt64, tags: [String]? = nil) {
        self.config = config
        var generator = RandomGenerator(seed: seed)
        embedding = Embedding(vocabularySize: config.vocabularySize, dimension: config.embeddingSize, paddingIndex: 0, generator: &generator)
        let (E, H, L, p) = (config.wordFeatureSize, config.hiddenSize, config.layers, Float(config.dropout))
        rnn = TaskNetwork.make(cell: config.cell, input: E, hidden: H, layers: L, dropout: p, bidirectional: true, generator: &generator)
        rnn.dropoutGenerator = RandomGenerator(seed: seed &+ 1)
        dropout = Dropout(Float(config.dropout), seed: seed &+ 2)
        head = Linear(inputSize: 2 * config.hiddenSize, outputSize: config.tagCount, generator: &generator)
        intentHead = config.intentCount > 0
            ? Linear(inputSize: config.intentPooling.features(hiddenSize: config.hiddenSize), outputSize: config.intentCount, generator: &generator) : nil
        // The word-feature modules draw from their own streams: the other modules start as without them.
        var featureGenerator = RandomGenerator(seed: seed &+ 4)
        switch config.characterFeatures {
        case .none: (characterLSTM, characterCNN) = (nil, nil)
        case .lstm:
            characterLSTM = CharacterLSTMEncoder(alphabetSize: config.alphabetSize, embeddingSize: config.characterEmbeddingSize,
                                                 hiddenSize: config.characterHiddenSize, generator: &featureGenerator)
            characterCNN = nil
        case .cnn:
            characterLSTM = nil
            characterCNN = CharacterCNNEncoder(alphabetSize: config.alphabetSize, embeddingSize: config.characterEmbeddingSize,
                                               filters: config.characterHiddenSize, dropout: Float(config.dropout), generator: &featureGenerator)
        }
        casing = config.casingSize > 0 ? CasingEmbedding(dimension: config.casingSize, generator: &featureGenerator) : nil
        if config.intentCount > 0, config.intentPooling == .attention {
            var attentionGenerator = RandomGenerator(seed: seed &+ 5)   // its own stream, as the word features
            intentAttention = Linear(inputSize: 2 * config.hiddenSize, outputSize: 1, generator: &attentionGenerator)
        } else {
            intentAttention = nil
        }
        outsideTag = tags.flatMap { $0.count == config.tagCount ? $0.firstIndex(of: "O") : nil }
        if config.crf {
            let constraints = tags.flatMap { $0.count == config.tagCount ? TransitionConstraints(scheme: .bio, tags: $0) : nil }
            var crfGenerator = RandomGenerator(seed: seed &+ 3)   // its own stream: the other modules start as without a CRF
            crf = LinearChainCRF(tagCount: config.tagCount, constraints: constraints, generator: &crfGenerator)
        } else {
            crf = nil
        }
        super.init()
        registerModule("embedding", embedding)
        registerModule("rnn", rnn.module)
        registerModule("dropout", dropout)
        registerModule("head", head)
        if let intentHead { registerModule("intent_head", intentHead) }
        if let intentAttention { registerModule("intent_attention", intentAttention) }
        if let crf { registerModule("crf", crf) }
        if let characterLSTM { registerModule("characters", characterLSTM) }
        if let characterCNN { registerModule("characters", characterCNN) }
        if let casing { registerModule("casing", casing) }
        if config.freezeEmbeddings { embedding.isTrainable = false }
    }

    /// Whether the model reads more of a batch than its word ids (characters, casing).
    public var readsSurface: Bool { characterLSTM != nil || characterCNN != nil || casing != nil }

    /// Tag scores (T, B, tags) and intent logits of a batch, from everything the model reads of it.
    public func callAsFunction(_ batch: TaggingBatch) -> (tags: Tensor<Float>, intents: Tensor<Float>?) {
        let (T, B) = (batch.steps, batch.batch)
        var parts = [embedding(batch.words, shape: [T, B])]                  // (T, B, E)
        if characterLSTM != nil || characterCNN != nil {
            precondition(batch.wordIndex.count == T * B, "SequenceTagger: a model with character features needs a batch built with a character vocabulary")
            let characters = CharacterBatch(batch.distinctWordCharacters)
            let distinct = characterLSTM.map { $0(characters) } ?? characterCNN!(characters)   // (U, F)
            let F = distinct.shape[1]
            let withPadding = Tensor.concat([Tensor<Float>(zeros: [1, F]), distinct], axis: 0)   // (1 + U, F), row 0 for padding
            parts.append(withPadding.indexSelect(axis: 0, indices: batch.wordIndex).reshaped([T, B, F]))  // (T, B, F)
        }
        if let casing {
            let kinds = batch.surface.map { $0.isEmpty ? WordCasing.padding : WordCasing(of: $0) }
            parts.append(casing(kinds, shape: [T, B]))                         // (T, B, C)
        }
        return encode(parts.count == 1 ? parts[0] : Tensor.concat(parts, axis: 2), steps: T, batch: B, lengths: batch.lengths)
    }

    /// - Parameters:
    ///   - words: (T, B) word ids, row-major, `<pad>` (0) past each length.
    ///   - lengths: (B) valid steps of each sentence, in 1...T.
    /// - Returns: tag logits (T, B, tags) and, with an intent head, intent logits (B, intents).
    public func callAsFunction(_ words: [Int], steps: Int, batch: Int, lengths: [Int]) -> (tags: Tensor<Float>, intents: Tensor<Float>?) {
        precondition(!readsSurface, "SequenceTagger: a model with character or casing features is called with a TaggingBatch")
        return encode(embedding(words, shape: [steps, batch]), steps: steps, batch: batch, lengths: lengths)
    }

    /// The recurrent layer and heads over word features (T, B, E + …).
    func encode(_ features: Tensor<Float>, steps: Int, batch: Int, lengths: [Int]) -> (tags: Tensor<Float>, intents: Tensor<Float>?) {
        let x = dropout(features)                                             // (T, B, E + …)
        let (h, state) = rnn(x, lengths: lengths)                             // (T, B, 2H), h (L·2, B, H)
        let tags = head(dropout(h))                                           // (T, B, tags)
        guard let intentHead else { return (tags, nil) }
        if config.intentPooling == .votes {
            let words = intentHead(dropout(h)).logSoftmax(axis: 2)           // (T, B, intents)
            let weights = (0..<(steps * batch)).map { i in i / batch < lengths[i % batch] ? 1 / Float(lengths[i % batch]) : 0 }
            return (tags, (words * Tensor(weights, shape: [steps, batch, 1])).sum(axis: 0))   // (B, intents): mean log-probabilities
        }
        let H = config.hiddenSize, top = 2 * (config.layers - 1)
        let last = state.h.slice(axis: 0, top..<(top + 2))                    // (2, B, H): forward, backward
        let final = Tensor.concat([last.slice(axis: 0, 0..<1).reshaped([batch, H]),
                                   last.slice(axis: 0, 1..<2).reshaped([batch, H])], axis: 1) // (B, 2H)
        let sentence: Tensor<Float>
        switch config.intentPooling {
        case .final, .votes:
            sentence = final
        case .max:
            let padding = Self.paddingMask(steps: steps, batch: batch, lengths: lengths)
            let pooled = h.maskedFill(mask: padding, maskShape: [steps, batch, 1], value: -.infinity).max(axis: 0)  // (B, 2H)
            sentence = Tensor.concat([pooled, final], axis: 1)                // (B, 4H)
        case .attention:
            let padding = Self.paddingMask(steps: steps, batch: batch, lengths: lengths)
            let scores = intentAttention!(h).maskedFill(mask: padding, maskShape: [steps, batch, 1], value: -.infinity)  // (T, B, 1)
            let pooled = (h * scores.softmax(axis: 0)).sum(axis: 0)           // (B, 2H)
            sentence = Tensor.concat([pooled, final], axis: 1)                // (B, 4H)
        }
        return (tags, intentHead(dropout(sentence)))                          // (B, intents)
    }

    /// (T, B) row-major: true at the steps past each sentence's length.
    static func paddingMask(steps T: Int, batch B: Int, lengths: [Int]) -> [Bool] {
        (0..<(T * B)).map { i in i / B >= lengths[i % B] }
    }

    /// Mean cross-entropy of the tags (padding ignored), or with a CRF its negative log-likelihood per
    /// scored token, plus, with an intent head, the intents' mean cross-entropy.
    public func loss(_ batch: TaggingBatch) -> Tensor<Float> {
        let terms = lossTerms(batch)
        guard terms.count == 2, let intentLoss = terms[1].loss else { return terms[0].loss! }
        return terms[0].loss! + intentLoss
    }

    /// `loss`'s two means apart, each with the count it is a mean over: the tags' (the scored tags), and
    /// with an intent head the intents' (nil and 0 when the batch has no intent to score). Data-parallel
    /// training weighs each by its own count.
    public func lossTerms(_ batch: TaggingBatch) -> [(loss: Tensor<Float>?, meanOver: Double)] {
        let (tags, intents) = self(batch)
        let tagLoss: Tensor<Float>, scoredTags: Double
        if let crf {
            // A sentence with a tag the model lacks (ignore index, in a validation split) has no gold path: left out.
            let B = batch.batch
            let known = (0..<B).map { b in (0..<batch.lengths[b]).allSatisfy { batch.tags[$0 * B + b] != TaggingBatch.ignoreIndex } }
            if known.allSatisfy({ $0 }) {
                tagLoss = crf.negativeLogLikelihood(tags, tags: batch.tags, lengths: batch.lengths, reduction: .tokenMean)
                scoredTags = Double(batch.lengths.reduce(0, +))
            } else {
                let fallback = 1   // any valid id stands in for the unknown tags of a sentence whose loss is weighted 0
                let gold = batch.tags.map { $0 == TaggingBatch.ignoreIndex ? fallback : $0 }
                let perSentence = crf.negativeLogLikelihood(tags, tags: gold, lengths: batch.lengths, reduction: .none)   // (B)
                scoredTags = Double((0..<B).filter { known[$0] }.map { batch.lengths[$0] }.reduce(0, +))
                let weights = Tensor<Float>(known.map { $0 ? 1 / Float(max(scoredTags, 1)) : 0 }, shape: [B])
                tagLoss = (perSentence * weights).sum()
            }
        } else {
            let flat = tags.reshaped([batch.steps * batch.batch, config.tagCount])
            tagLoss = crossEntropy(flat, targets: batch.tags, ignoreIndex: TaggingBatch.ignoreIndex)
            scoredTags = Double(batch.tags.count { $0 != TaggingBatch.ignoreIndex })
        }
        guard let intents else { return [(tagLoss, scoredTags)] }
        let scoredIntents = batch.intents.count { $0 != TaggingBatch.intentIgnoreIndex }
        guard scoredIntents > 0 else { return [(tagLoss, scoredTags), (nil, 0)] }
        return [(tagLoss, scoredTags), (crossEntropy(intents, targets: batch.intents, ignoreIndex: TaggingBatch.intentIgnoreIndex), Double(scoredIntents))]
    }

    /// Most likely tag ids per sentence (never `<pad>`, id 0) and intent ids (nil without an intent head), in eval mode,
    /// with `outsideBias` subtracted from the `O` tag's scores first. With a CRF, its Viterbi path (under the
    /// constraints it was built with). Without:
    /// - Parameter tags: the tag vocabulary; when given, decoding keeps to valid BIO sequences (Viterbi over the
    ///   per-step log-probabilities, an `I-X` only after `B-X` or `I-X`); when nil, each step takes its argmax.
    public func predict(_ batch: TaggingBatch, constrainedBy tags: Vocabulary? = nil) -> (tags: [[Int]], intents: [Int]?) {
        let (logits, intents) = scores(batch)
        return (decode(logits, lengths: batch.lengths, constrainedBy: tags, outsideBias: outsideBias), intents)
    }

    /// The tag scores (T, B, tags) and intent ids (nil without an intent head) of a batch, in eval mode without a graph:
    /// what `decode` reads, computed once when several biases are tried.
    public func scores(_ batch: TaggingBatch) -> (tags: Tensor<Float>, intents: [Int]?) {
        withoutGrad {
            let wasTraining = isTraining
            eval()
            defer { train(wasTraining) }
            let (logits, intents) = self(batch)
            let B = batch.batch
            return (logits, intents.map { out in (0..<B).map { b in Self.argmax(out.data + b * config.intentCount, from: 0, to: config.intentCount) } })
        }
    }

    /// Tag paths of tag scores (T, B, tags), after subtracting `outsideBias` from the `O` tag's score at every step
    /// (nothing when the model knows no `O` tag); `predict` with `scores` already computed.
    public func decode(_ logits: Tensor<Float>, lengths: [Int], constrainedBy tags: Vocabulary? = nil, outsideBias: Float = 0) -> [[Int]] {
        let shifted = outsideTag.map { Self.shifting(logits, tag: $0, by: -outsideBias) } ?? logits   // (T, B, tags)
        if let crf { return crf.decode(shifted, lengths: lengths) }
        let C = config.tagCount, B = lengths.count
        let allowed = tags.flatMap { Self.bioTransitions($0.tokens) }
        return (0..<B).map { b in
            let rows = (0..<lengths[b]).map { t in UnsafePointer(shifted.data + (t * B + b) * C) }
            if let allowed, let path = Self.viterbi(rows, classes: C, allowed: allowed) { return path }
            return rows.map { Self.argmax($0, from: 1, to: C) }
        }
    }

    /// `scores` (…, C) with `amount` added to class `tag` everywhere; `scores` itself when `amount` is 0.
    static func shifting(_ scores: Tensor<Float>, tag: Int, by amount: Float) -> Tensor<Float> {
        guard amount != 0 else { return scores }
        let C = scores.shape[scores.shape.count - 1]
        var values = scores.scalars
        for i in stride(from: tag, to: values.count, by: C) { values[i] += amount }
        return Tensor(values, shape: scores.shape)
    }

    /// allowed[p][c]: may tag c follow tag p (row C: the sentence start)? nil when no tag is `I-…`.
    /// `<pad>` (id 0) is never allowed; `I-X` only after `B-X` or `I-X`.
    static func bioTransitions(_ names: [String]) -> [[Bool]]? {
        guard names.contains(where: { $0.hasPrefix("I-") }) else { return nil }
        let C = names.count
        func type(_ name: String) -> String { String(name.dropFirst(2)) }
        return (0...C).map { p in
            (0..<C).map { c in
                if c == 0 { return false }
                guard names[c].hasPrefix("I-") else { return true }
                guard p < C, p > 0, names[p].hasPrefix("B-") || names[p].hasPrefix("I-") else { return false }
                return type(names[p]) == type(names[c])
            }
        }
    }

    /// Highest-scoring path of per-step log-softmax scores under `allowed` transitions; nil if none is allowed.
    static func viterbi(_ rows: [UnsafePointer<Float>], classes C: Int, allowed: [[Bool]]) -> [Int]? {
        guard !rows.isEmpty else { return [] }
        func logSoftmax(_ row: UnsafePointer<Float>) -> [Double] {
            var m = -Double.infinity
            for c in 1..<C { m = max(m, Double(row[c])) }
            var sum = 0.0
            for c in 1..<C { sum += Foundation.exp(Double(row[c]) - m) }
            let lse = m + Foundation.log(sum)
            return (0..<C).map { Double(row[$0]) - lse }
        }
        var score = logSoftmax(rows[0]).enumerated().map { c, v in allowed[C][c] ? v : -Double.infinity }
        var back: [[Int]] = []
        for t in 1..<rows.count {
            let lp = logSoftmax(rows[t])
            var next = [Double](repeating: -.infinity, count: C), from = [Int](repeating: 0, count: C)
            for c in 1..<C {
                for p in 1..<C where allowed[p][c] && score[p] > next[c] { next[c] = score[p]; from[c] = p }
                next[c] += lp[c]
            }
            back.append(from)
            score = next
        }
        var best = 1
        for c in 1..<C where score[c] > score[best] { best = c }
        guard score[best] > -.infinity else { return nil }
        var path = [best]
        for from in back.reversed() { path.append(from[path.last!]) }
        return path.reversed()
    }

    static func argmax(_ row: UnsafePointer<Float>, from: Int, to: Int) -> Int {
        var best = from
        for c in from..<to where row[c] > row[best] { best = c }
        return best
    }
}

extension SequenceTagger {
    /// Loads a checkpoint written by `SequenceTaggerTrainer`, validating everything that came from the file; the
    /// model decodes with the checkpoint's bias against `O` (0 when it stores none).
    public static func load(from url: URL) throws -> (model: SequenceTagger, vocabularies: TaggingVocabularies) {
        try load(checkpoint: Checkpoint.load(from: url))
    }

    /// Builds the model from a checkpoint already read, validating everything that came from it;
    /// a config that asks for more parameters than the checkpoint holds is refused before allocation.
    public static func load(checkpoint: Checkpoint) throws -> (model: SequenceTagger, vocabularies: TaggingVocabularies) {
        try checkpoint.require(task: "tag")
        let config = try checkpoint.validatedConfig(SequenceTaggerConfig.self, what: "a sequence-tagger") { try $0.validate() }
        try checkpoint.requireParameters(atLeast: config.minimumParameterCount)
        guard let tokens = checkpoint.vocabulary else { throw ModelError.badConfig("the checkpoint has no vocabulary") }
        let words = try Vocabulary(tokens: tokens)
        guard words.count == config.vocabularySize, words.paddingId == 0, words.unknownId != nil else {
            throw ModelError.badConfig("the word vocabulary (\(words.count) tokens) must start with <pad> and hold <unk>, and the config says \(config.vocabularySize)")
        }
        let tags = try Vocabulary(jsonString: checkpoint.extra["tags"] ?? "")
        guard tags.count == config.tagCount, tags.paddingId == 0 else {
            throw ModelError.badConfig("the tag vocabulary (\(tags.count) tags) must start with <pad>, and the config says \(config.tagCount)")
        }
        var intents: Vocabulary? = nil
        if config.intentCount > 0 {
            let v = try Vocabulary(jsonString: checkpoint.extra["intents"] ?? "")
            guard v.count == config.intentCount else {
                throw ModelError.badConfig("the intent vocabulary has \(v.count) labels but the config says \(config.intentCount)")
            }
            intents = v
        }
        if let bad = checkpoint.nonFiniteTensorNames.first { throw ModelError.nonFiniteParameters(bad) }
        var characters: Vocabulary? = nil
        if config.characterFeatures != .none {
            let v = try Vocabulary(jsonString: checkpoint.extra["characters"] ?? "")
            guard v.count == config.alphabetSize, v.paddingId == 0, v.unknownId != nil else {
                throw ModelError.badConfig("the character vocabulary (\(v.count) characters) must start with <pad> and hold <unk>, and the config says \(config.alphabetSize)")
            }
            characters = v
        }
        let model = SequenceTagger(config, seed: 0, tags: tags.tokens)
        try model.loadParameters(checkpoint.modelTensors)  // last.safetensors also holds optimizer state
        model.outsideBias = try OutsideBias.read(from: checkpoint)
        return (model, TaggingVocabularies(words: words, tags: tags, intents: intents, lowercase: config.lowercase, characters: characters))
    }
}
