import Foundation
import RecurrentIO

// A config read from a checkpoint says how big a model to build, and building allocates it. Each
// field is range-checked by `validate()`, but the product of in-range fields can still ask for
// terabytes (65 536 hidden units × 64 layers). The tensors of the checkpoint, on the other hand, were
// already read and checked against the file's size, so they bound what a genuine config can ask
// for: a config needing more parameters than the file holds values is refused before the model is built.

extension Checkpoint {
    /// Values held by the model's tensors (optimizer state, which `last.safetensors` also carries, excluded).
    var parameterValueCount: Int {
        tensors.reduce(0) { total, entry in
            entry.key.hasPrefix(Checkpoint.optimizerPrefix) ? total : total + entry.value.count
        }
    }

    /// Throws unless the tensors hold at least `lowerBound` values (the smallest model the config allows).
    func requireParameters(atLeast lowerBound: Int) throws {
        let held = parameterValueCount
        guard lowerBound <= held else {
            throw ModelError.badConfig("the config describes a model of at least \(lowerBound) parameters but the checkpoint holds \(held) values; refusing to allocate it")
        }
    }
}

/// Weights of one direction of one recurrent layer's hidden-to-hidden matrix: G·H·H.
private func recurrentWeights(cell: CellKind, hidden: Int) -> Int {
    let gates = switch cell {
    case .lstm: 4
    case .gru: 3
    case .rnn, .jordan: 1
    }
    return gates * hidden * hidden
}

// Lower bounds: the largest matrices each model certainly has. Fields are validated first, so
// every product fits in an Int (at most 10⁷ · 65 536 · 2 or 64 · 2 · 4 · 65 536²).

extension LanguageModelConfig {
    /// Embedding V·E, recurrent L·G·H², head H·V.
    public var minimumParameterCount: Int {
        vocabularySize * embeddingSize + layers * recurrentWeights(cell: cell, hidden: hiddenSize) + hiddenSize * vocabularySize
    }
}

extension SequenceClassifierConfig {
    /// Embedding V·E (token input), recurrent L·D·G·H², head D·H·classes.
    public var minimumParameterCount: Int {
        let directions = bidirectional ? 2 : 1
        return (inputFeatures == nil ? vocabularySize * embeddingSize : 0) + layers * directions * recurrentWeights(cell: cell, hidden: hiddenSize)
            + directions * hiddenSize * classes
    }
}

extension SequenceTaggerConfig {
    /// Embedding V·E, bidirectional recurrent L·2·G·H², heads 2H·tags + (2H or 4H)·intents.
    public var minimumParameterCount: Int {
        vocabularySize * embeddingSize + layers * 2 * recurrentWeights(cell: cell, hidden: hiddenSize)
            + 2 * hiddenSize * tagCount + intentPooling.features(hiddenSize: hiddenSize) * intentCount + (crf ? tagCount * (tagCount + 2) : 0)
            + (characterFeatures == .none ? 0 : alphabetSize * characterEmbeddingSize)
    }
}

extension LanguageModelConfig {
    /// Activations one training batch of `batch` × `steps` characters certainly holds, each with its gradient
    /// (`MemoryEstimate.trainingBytes` counts two values per activation): per step and sequence, each layer's
    /// G gate blocks, its state and its output ((G + 2)·H; Jordan's h and y count as two gates), the embedding
    /// and the logits. The layers keep more (the input projection, c and tanh c for the LSTM), so this is a
    /// lower bound. (In Double: `batch` and `steps` come from options whose product may not fit an Int.)
    public func batchActivations(batch: Int, steps: Int) -> Double {
        let gates = switch cell {
        case .lstm: 4
        case .gru: 3
        case .jordan: 2
        case .rnn: 1
        }
        return Double(steps) * Double(batch) * Double(layers * (gates + 2) * hiddenSize + embeddingSize + vocabularySize)
    }
}

extension MemoryTaskConfig {
    /// Recurrent L·G·H².
    public var minimumParameterCount: Int { layers * recurrentWeights(cell: cell, hidden: hiddenSize) }
}

extension ForecasterConfig {
    /// Recurrent L·G·H² (a Jordan layer feeds back an H-wide output: H² too), head H.
    public var minimumParameterCount: Int {
        (forecastStrategy == .encoderDecoder ? 2 : 1) * layers * recurrentWeights(cell: cell, hidden: hiddenSize) + hiddenSize
    }
}

extension Seq2SeqConfig {
    /// Embeddings (Vs + Vt)·E, encoder L·D·G·H², decoder L·G·H², output H·Vt.
    public var minimumParameterCount: Int {
        let directions = bidirectional ? 2 : 1
        return (sourceVocabularySize + targetVocabularySize) * embeddingSize + (directions + 1) * layers * recurrentWeights(cell: cell, hidden: hiddenSize)
            + hiddenSize * targetVocabularySize
    }

    /// For `--resume`: see `LanguageModelConfig.requireResumable(from:)`.
    public func requireResumable(from lastCheckpoint: URL) throws {
        try requireHeldParameters(minimumParameterCount, in: lastCheckpoint)
    }
}

extension LanguageModelConfig {
    /// For `--resume`: checks, reading only the header of the run's `last.safetensors`, that the
    /// checkpoint is there and holds enough values for this config (read from the run folder's
    /// config.json), before a model of that size is built.
    /// - Throws: `TrainingError.cannotResume`, `SafetensorsError`, `ModelError.badConfig`.
    public func requireResumable(from lastCheckpoint: URL) throws {
        try requireHeldParameters(minimumParameterCount, in: lastCheckpoint)
    }
}

/// Throws unless `lastCheckpoint` exists and its tensors (read from the header only, optimizer state
/// excluded) hold at least `minimum` values.
private func requireHeldParameters(_ minimum: Int, in lastCheckpoint: URL) throws {
    guard FileManager.default.fileExists(atPath: lastCheckpoint.path) else {
        throw TrainingError.cannotResume("\(lastCheckpoint.path) does not exist; start a new run instead")
    }
    let header = try Safetensors.readHeader(from: lastCheckpoint)
    let held = header.tensors.reduce(0) { total, info in
        info.name.hasPrefix(Checkpoint.optimizerPrefix) ? total : total + info.elementCount
    }
    guard minimum <= held else {
        throw ModelError.badConfig("config.json describes a model of at least \(minimum) parameters but \(lastCheckpoint.lastPathComponent) holds \(held) values; refusing to allocate it")
    }
}
