import Foundation
import RecurrentIO
import RecurrentModels
import RecurrentNN
import RecurrentTensor

/// A Keras `Sequential` model rebuilt from the library's layers: Keras' forward pass, batch first as Keras.
///
/// Each layer is a child module named after its Keras weight group (`lstm`, `lstm_1`, `bidirectional`, `dense`…),
/// so the parameters are `lstm.weight_ih_l0`, `bidirectional.weight_hh_l0_reverse`, `dense.weight`, in PyTorch's
/// layout (see `KerasWeights`). Recurrent layers are the library's fused `LSTM`, `GRU` (`resetAfter` from Keras'
/// `reset_after`) and `RNN`; a Bidirectional wrapper is one bidirectional layer with Keras' merge mode.
public final class KerasModel: Module<Float> {
    /// The checkpoint task of an imported model.
    public static let task = "keras"
    /// Largest parameter count a config may ask for (checked before anything is allocated).
    public static let maximumParameters = 1 << 28

    /// The layers this model runs, in order.
    public let config: KerasModelConfig
    private let modules: [Module<Float>?]

    /// A model with the layers of `config` (PyTorch's default initial values: load weights with `load(_:)`).
    /// - Throws: `KerasError.incompleteModel` for a config imported without the model's config, `.badConfig` for sizes
    ///   that are not positive or too large, `.incompatibleLayers` when the widths do not chain.
    public init(config: KerasModelConfig) throws(KerasError) {
        guard config.complete else { throw .incompleteModel }
        try Self.validate(config)
        self.config = config
        modules = config.layers.map { Self.module(for: $0) }
        super.init()
        for (spec, module) in zip(config.layers, modules) {
            if let module { registerModule(spec.name, module) }
        }
        eval()
    }

    /// Copies imported weights (names as `namedParameters()`), all of them, with their shapes checked.
    /// - Throws: `KerasError.badConfig` naming the missing, unexpected or misshapen tensors.
    public func load(_ tensors: [String: Tensor<Float>]) throws(KerasError) {
        do { try loadParameters(tensors) } catch {
            throw .badConfig(reason: "the weights do not fit the layers: \(error)")
        }
    }

    /// Reads back a checkpoint written by `KerasImported.checkpoint()` (`recurrent import keras`).
    /// - Throws: `ModelError.wrongTask`, `KerasError`, `CheckpointError`.
    public static func load(checkpoint: Checkpoint) throws -> KerasModel {
        try checkpoint.require(task: task)
        let config: KerasModelConfig
        do { config = try checkpoint.decodeConfig(KerasModelConfig.self) } catch {
            throw KerasError.badConfig(reason: "the checkpoint's config is not a Keras model config (\(error))")
        }
        let model = try KerasModel(config: config)
        try model.load(checkpoint.modelTensors)
        return model
    }

    /// Runs the model on features.
    /// - Parameter input: (B, T, I), Keras' layout; for a model without an Embedding.
    /// - Returns: (B, T, O) when the last recurrent layer returns sequences, else (B, O).
    public func callAsFunction(_ input: Tensor<Float>) -> Tensor<Float> {
        precondition(config.layers.first?.kind != .embedding, "KerasModel: this model starts with an Embedding: call it with ids")
        precondition(input.rank == 3 && input.shape[2] == config.layers[0].inputSize,
                     "KerasModel: input must be (B, T, \(config.layers[0].inputSize)), got \(input.shape)")
        return run(input, from: 0)
    }

    /// Runs a model that starts with an Embedding on token ids.
    /// - Parameters:
    ///   - ids: B·T ids, row-major (B, T), each in 0..<V.
    ///   - batch: B.
    /// - Throws: `KerasError.badInput` when the model has no Embedding first, the count is not a multiple of B, or an id is out of range.
    public func callAsFunction(ids: [Int], batch: Int) throws(KerasError) -> Tensor<Float> {
        guard let first = config.layers.first, first.kind == .embedding, let embedding = modules[0] as? Embedding<Float> else {
            throw .badInput(reason: "the model does not start with an Embedding; call it with a (B, T, I) tensor")
        }
        guard batch > 0, !ids.isEmpty, ids.count % batch == 0 else { throw .badInput(reason: "\(ids.count) ids do not make \(batch) sequences") }
        if let bad = ids.first(where: { $0 < 0 || $0 >= first.inputSize }) {
            throw .badInput(reason: "id \(bad) is outside the vocabulary 0..<\(first.inputSize)")
        }
        return run(embedding(ids, shape: [batch, ids.count / batch]), from: 1)
    }

    func run(_ input: Tensor<Float>, from start: Int) -> Tensor<Float> {
        var x = input
        for index in start..<config.layers.count {
            let spec = config.layers[index]
            switch modules[index] {
            case let layer as RecurrentLayer<Float>:
                x = recurrent(layer, spec, x)
            case let linear as Linear<Float>:
                x = Self.activate(linear(x), spec.activation ?? .linear)
            default:
                break   // Dropout: identity at inference
            }
        }
        return x
    }

    /// Keras' RNN over (B, T, I): `go_backwards` reads the steps from the end and returns them in that order;
    /// without `return_sequences` the output is the last step's state (for Bidirectional, both directions' final
    /// states merged: the backward direction's is the one after reading the whole sequence backwards).
    func recurrent(_ layer: RecurrentLayer<Float>, _ spec: KerasLayerSpec, _ input: Tensor<Float>) -> Tensor<Float> {
        let (B, T) = (input.shape[0], input.shape[1])
        let x = spec.goBackwards ? input.indexSelect(axis: 1, indices: Array((0..<T).reversed())) : input
        let (output, state) = layer.run(x, state: nil, lengths: nil)
        if spec.returnSequences { return output }
        let h = state.h                                            // (D, B, H)
        let H = spec.units
        guard let merge = spec.bidirectional else { return h.reshaped([B, H]) }
        let forward = h.slice(axis: 0, 0..<1).reshaped([B, H]), backward = h.slice(axis: 0, 1..<2).reshaped([B, H])
        switch merge {
        case .concat: return Tensor.concat([forward, backward], axis: 1)
        case .sum: return forward + backward
        case .ave: return (forward + backward) * Float(0.5)
        case .mul: return forward * backward
        }
    }

    static func activate(_ x: Tensor<Float>, _ activation: KerasLayerSpec.Activation) -> Tensor<Float> {
        switch activation {
        case .linear: x
        case .tanh: x.tanh()
        case .relu: x.relu()
        case .sigmoid: x.sigmoid()
        case .softmax: x.softmax(axis: -1)
        }
    }

    /// The library module of one layer (nil for Dropout), with default initial values.
    static func module(for spec: KerasLayerSpec) -> Module<Float>? {
        let merge: BidirectionalMerge = switch spec.bidirectional {
        case .sum?: .sum
        case .ave?: .mean
        case .mul?: .multiply
        case .concat?, nil: .concat
        }
        let bidirectional = spec.bidirectional != nil
        switch spec.kind {
        case .dropout: return nil
        case .embedding: return Embedding<Float>(vocabularySize: spec.inputSize, dimension: spec.units)
        case .dense: return Linear<Float>(inputSize: spec.inputSize, outputSize: spec.units, bias: spec.useBias)
        case .lstm:
            return LSTM<Float>(inputSize: spec.inputSize, hiddenSize: spec.units, bias: spec.useBias, batchFirst: true,
                               bidirectional: bidirectional, merge: merge)
        case .gru:
            return GRU<Float>(inputSize: spec.inputSize, hiddenSize: spec.units, bias: spec.useBias, batchFirst: true,
                              bidirectional: bidirectional, merge: merge, resetAfter: spec.resetAfter ?? true)
        case .simpleRNN:
            return RNN<Float>(inputSize: spec.inputSize, hiddenSize: spec.units, nonlinearity: spec.activation == .relu ? .relu : .tanh,
                              bias: spec.useBias, batchFirst: true, bidirectional: bidirectional, merge: merge)
        }
    }

    /// Loads one layer's own tensors (names without the layer prefix).
    static func fill(_ module: Module<Float>, with tensors: [String: Tensor<Float>], layer: String) throws(KerasError) {
        do { try module.loadParameters(tensors) } catch {
            throw .badConfig(reason: "the weights of layer '\(layer)' do not fit it: \(error)")
        }
    }

    /// Checks what would otherwise trap or allocate without bound when the layers are built: positive, bounded
    /// sizes, options that belong to the kind, unique names, and widths that chain.
    static func validate(_ config: KerasModelConfig) throws(KerasError) {
        guard !config.layers.isEmpty else { throw .badConfig(reason: "no layers") }
        var names = Set<String>(), parameters = 0, width: Int?, sequence = true
        for (index, spec) in config.layers.enumerated() {
            let what = "layer \(index) ('\(spec.name)')"
            guard !spec.name.isEmpty, !spec.name.contains("."), names.insert(spec.name).inserted else {
                throw .badConfig(reason: "\(what): names must be unique, non-empty and without dots")
            }
            guard spec.inputSize > 0, spec.units > 0, spec.inputSize <= maximumParameters, spec.units <= maximumParameters else {
                throw .badConfig(reason: "\(what): sizes must be positive and at most \(maximumParameters), got input \(spec.inputSize), units \(spec.units)")
            }
            let (weights, overflow) = spec.inputSize.multipliedReportingOverflow(by: spec.units * spec.gateCount * 2)
            parameters += overflow ? maximumParameters + 1 : weights + spec.units * spec.units * spec.gateCount * 2
            guard parameters <= maximumParameters else { throw .badConfig(reason: "\(what): more than \(maximumParameters) parameters") }
            switch spec.kind {
            case .embedding:
                guard index == 0 else { throw .incompatibleLayers(reason: "\(what): an Embedding must be the first layer") }
            case .dropout:
                guard spec.units == spec.inputSize else { throw .badConfig(reason: "\(what): a Dropout keeps the width") }
            case .lstm, .gru, .simpleRNN:
                guard sequence else { throw .incompatibleLayers(reason: "\(what) is recurrent but the layer before returns its last step only") }
                guard spec.kind != .simpleRNN || spec.activation == .tanh || spec.activation == .relu else {
                    throw .badConfig(reason: "\(what): a SimpleRNN's activation is tanh or relu")
                }
                guard (spec.kind == .gru) == (spec.resetAfter != nil) else { throw .badConfig(reason: "\(what): reset_after belongs to GRU only") }
                guard spec.bidirectional == nil || !spec.goBackwards else { throw .badConfig(reason: "\(what): go_backwards inside Bidirectional") }
                sequence = spec.returnSequences
            case .dense:
                break
            }
            if let width, width != spec.inputSize {
                throw .incompatibleLayers(reason: "\(what) takes \(spec.inputSize) features but the layer before gives \(width)")
            }
            width = spec.outputSize
        }
    }
}
