import RecurrentNN

/// Hyper-parameters of an encoder-decoder; stored in checkpoints as JSON.
public struct Seq2SeqConfig: Codable, Equatable, Sendable {
    /// Number of source tokens, specials included.
    public var sourceVocabularySize: Int
    /// Number of target tokens, specials included.
    public var targetVocabularySize: Int
    /// The width of each token's embedding (source and target).
    public var embeddingSize: Int
    /// Hidden units of the decoder and of each encoder direction (H).
    public var hiddenSize: Int
    /// Stacked layers of the encoder and of the decoder (the encoder's final state of layer k starts the decoder's layer k).
    public var layers: Int
    /// lstm, gru, rnn or jordan.
    public var cell: CellKind
    /// Whether the encoder reads both directions (its two final states are bridged to the decoder's width).
    public var bidirectional: Bool
    /// none, bahdanau, luong-dot, luong-general or luong-concat.
    public var attention: Seq2SeqAttention
    /// Hidden width of the additive scores (Bahdanau, Luong concat).
    public var attentionSize: Int
    /// Dropout probability on embeddings, between layers and before the output, in train mode.
    public var dropout: Double
    /// Luong attention: feed the previous attentional vector to the first decoder cell (absent in older checkpoints: false).
    public var inputFeeding: Bool


    /// A configuration; `attentionSize` 0 means `hiddenSize`. `validate()` checks it.
    public init(sourceVocabularySize: Int, targetVocabularySize: Int, embeddingSize: Int = 64, hiddenSize: Int = 128, layers: Int = 1,
                cell: CellKind = .lstm, bidirectional: Bool = true, attention: Seq2SeqAttention = .bahdanau, attentionSize: Int = 0,
                dropout: Double = 0.1, inputFeeding: Bool = false) {
        self.sourceVocabularySize = sourceVocabularySize
        self.targetVocabularySize = targetVocabularySize
        self.embeddingSize = embeddingSize
        self.hiddenSize = hiddenSize
        self.layers = layers
        self.cell = cell
        self.bidirectional = bidirectional
        self.attention = attention
        self.attentionSize = attentionSize > 0 ? attentionSize : hiddenSize
        self.dropout = dropout
        self.inputFeeding = inputFeeding
    }

    private enum CodingKeys: String, CodingKey {
        case sourceVocabularySize, targetVocabularySize, embeddingSize, hiddenSize, layers, cell, bidirectional, attention, attentionSize,
             dropout, inputFeeding
    }

    public init(from decoder: any Swift.Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(sourceVocabularySize: try c.decode(Int.self, forKey: .sourceVocabularySize),
                  targetVocabularySize: try c.decode(Int.self, forKey: .targetVocabularySize),
                  embeddingSize: try c.decode(Int.self, forKey: .embeddingSize), hiddenSize: try c.decode(Int.self, forKey: .hiddenSize),
                  layers: try c.decode(Int.self, forKey: .layers), cell: try c.decode(CellKind.self, forKey: .cell),
                  bidirectional: try c.decode(Bool.self, forKey: .bidirectional), attention: try c.decode(Seq2SeqAttention.self, forKey: .attention),
                  attentionSize: 0, dropout: try c.decode(Double.self, forKey: .dropout),
                  inputFeeding: try c.decodeIfPresent(Bool.self, forKey: .inputFeeding) ?? false)
        attentionSize = try c.decode(Int.self, forKey: .attentionSize)  // kept as stored (validate() checks it)
    }

    /// The attention kind, nil for none.
    public var attentionKind: AttentionKind? { attention.kind }


    /// Checks every field before anything is allocated from it (a config may come from a file).
    public func validate() throws {
        for (name, value, low, limit) in [("sourceVocabularySize", sourceVocabularySize, 3, 10_000_000),
                                          ("targetVocabularySize", targetVocabularySize, 5, 10_000_000),
                                          ("embeddingSize", embeddingSize, 1, 65_536), ("hiddenSize", hiddenSize, 1, 65_536),
                                          ("layers", layers, 1, 64), ("attentionSize", attentionSize, 1, 65_536)] where value < low || value > limit {
            throw ModelError.badConfig("\(name) must be in \(low)...\(limit), got \(value)")
        }
        guard !inputFeeding || attention.isLuong else {
            throw ModelError.badConfig("input feeding needs Luong attention (luong-dot, luong-general or luong-concat), got '\(attention)'")
        }
        guard isDropoutProbability(dropout) else { throw ModelError.badConfig("dropout must be in [0, 1) in single precision, got \(dropout)") }
    }
}
