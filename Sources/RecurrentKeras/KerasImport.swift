import Foundation
import RecurrentIO
import RecurrentNN
import RecurrentTensor

/// A Keras 3 model read from its files: the layers (`config`) and their weights already in the library's
/// layout and names (`tensors`: `lstm.weight_ih_l0`, `bidirectional.bias_hh_l0_reverse`, `dense.weight`, …).
///
///     let imported = try KerasImport.read(contentsOf: URL(fileURLWithPath: "model.keras"))
///     let model = try imported.model()                    // a KerasModel, Keras' forward pass
///     try imported.checkpoint().save(to: URL(fileURLWithPath: "model.safetensors"))
public struct KerasImported {
    /// The layers in model order (or, without a config, in name order with `complete` false).
    public var config: KerasModelConfig
    /// The weights in the library's layout, by parameter name.
    public var tensors: [String: Tensor<Float>]
    /// `keras_version` from a `.keras` file's metadata.json.
    public var kerasVersion: String?

    /// The model the config describes, holding the imported weights.
    /// - Throws: `KerasError.incompleteModel` when the file came without a config.
    public func model() throws(KerasError) -> KerasModel {
        let model = try KerasModel(config: config)
        try model.load(tensors)
        return model
    }

    /// The layers one by one, each holding its weights (also when the file came without a config, when the
    /// order and options of the layers are unknown): an `Embedding`, a `RecurrentLayer` (`LSTM`, `GRU` or `RNN`,
    /// batch first as Keras), or a `Linear` (a Dense layer's activation is in its spec); nil for Dropout.
    public func layers() throws(KerasError) -> [(spec: KerasLayerSpec, module: Module<Float>?)] {
        try config.layers.map { spec throws(KerasError) in
            let module = KerasModel.module(for: spec)
            if let module {
                let prefix = spec.name + "."
                let own = tensors.filter { $0.key.hasPrefix(prefix) }
                try KerasModel.fill(module, with: Dictionary(uniqueKeysWithValues: own.map { (String($0.key.dropFirst(prefix.count)), $0.value) }),
                                    layer: spec.name)
            }
            return (spec, module)
        }
    }

    /// The library's checkpoint of the import: the tensors under their names, the config as `KerasModelConfig`
    /// JSON, `task` "keras" (and `keras_version` when known). `KerasModel.load(checkpoint:)` reads it back.
    public func checkpoint() throws -> Checkpoint {
        var extra = ["task": KerasModel.task]
        if let kerasVersion { extra["keras_version"] = kerasVersion }
        return try Checkpoint(tensors: tensors, encodingConfig: config, extra: extra)
    }
}

/// Reads Keras 3 `.keras` and `.weights.h5` files.
///
/// Supported: `Sequential` models (and `Functional` ones that are one chain of layers) of `LSTM`, `GRU` (`reset_after`
/// true or false), `SimpleRNN` (tanh or relu), `Bidirectional` around one of them (merge_mode concat, sum, mul, ave), `Embedding` (first), `Dense` (linear,
/// relu, tanh, sigmoid, softmax), `Dropout` (identity at inference), with `return_sequences` and `go_backwards`.
/// Anything else (another layer class, `mask_zero`, `return_state`, `stateful`, other activations, a Functional
/// graph other than a chain) is refused with a `KerasError` that names it.
public enum KerasImport {
    /// Reads a `.keras` archive or a `.weights.h5` file, told apart by their first bytes.
    /// - Parameters:
    ///   - url: the file.
    ///   - configURL: with a `.weights.h5`, the model's config (`config.json` of a `.keras`, or `model.to_json()`);
    ///     without it the layers are imported in name order with Keras' default options (`KerasModelConfig.complete`
    ///     false). Ignored for a `.keras` file, which holds its config.
    /// - Throws: `KerasError`; Foundation's error when a file cannot be read.
    public static func read(contentsOf url: URL, config configURL: URL? = nil) throws -> KerasImported {
        let data = try Data(contentsOf: url)
        if data.prefix(4).elementsEqual(KerasArchive.signature) {
            return try read(archive: KerasArchive(contentsOf: url), source: url.lastPathComponent)
        }
        if url.pathExtension == "keras" { throw KerasError.badZip(reason: "no zip signature (PK\\3\\4) at byte 0") }
        return try read(weights: data, config: configURL.map { try Data(contentsOf: $0) }, source: url.lastPathComponent)
    }

    /// Reads the bytes of a `.keras` archive.
    /// - Throws: `KerasError`.
    public static func read(keras data: Data, source: String = ".keras file") throws(KerasError) -> KerasImported {
        try read(archive: KerasArchive(data), source: source)
    }

    static func read(archive: KerasArchive, source: String) throws(KerasError) -> KerasImported {
        var imported = try read(weights: archive.weights, config: archive.config, source: "model.weights.h5 in \(source)")
        imported.kerasVersion = archive.kerasVersion
        return imported
    }

    /// Reads the bytes of a `.weights.h5` file, with the model's config JSON when there is one.
    /// - Throws: `KerasError`.
    public static func read(weights data: Data, config: Data?, source: String = ".weights.h5 file") throws(KerasError) -> KerasImported {
        // The config first: a refusal for an unsupported layer should not wait for HDF5.
        let configured = try config.map { data throws(KerasError) in try KerasConfig.parse(data) }
        let file = try HDF5File(bytes: data, source: source)
        guard file.hasGroup("layers") else { throw .missingGroup(path: "layers") }
        var specs: [KerasLayerSpec] = [], tensors: [String: Tensor<Float>] = [:]
        if let configured {
            var width: Int?
            for layer in configured.layers {
                let (spec, own) = try KerasWeights.read(layer, inputSize: width, from: file)
                if specs.isEmpty, spec.kind != .embedding, let declared = configured.inputWidth, declared != spec.inputSize {
                    throw .incompatibleLayers(reason: "the input has \(declared) features but layer '\(layer.configName)' takes \(spec.inputSize)")
                }
                if spec.isRecurrent, let previous = specs.last(where: { $0.kind != .dropout }), previous.isRecurrent, !previous.returnSequences {
                    throw .incompatibleLayers(reason: "layer '\(layer.configName)' is recurrent but '\(previous.name)' returns its last step only")
                }
                specs.append(spec)
                tensors.merge(own) { a, _ in a }
                width = spec.outputSize
            }
            return KerasImported(config: KerasModelConfig(layers: specs, complete: true), tensors: tensors)
        }
        for group in try file.members(of: "layers") {
            guard let layer = try inferred(group, from: file) else { continue }
            let (spec, own) = try KerasWeights.read(layer, inputSize: nil, from: file)
            specs.append(spec)
            tensors.merge(own) { a, _ in a }
        }
        guard !specs.isEmpty else { throw .missingGroup(path: "layers/<a layer with weights>") }
        return KerasImported(config: KerasModelConfig(layers: specs, complete: false), tensors: tensors)
    }

    /// A layer of a weights file read without a config, from its group name and the shapes of its weights, with
    /// Keras' default options; nil for a group without weights (InputLayer, Dropout).
    static func inferred(_ group: String, from file: HDF5File) throws(KerasError) -> ConfiguredLayer? {
        var base = Substring(group)
        if let underscore = base.lastIndex(of: "_"), base[base.index(after: underscore)...].allSatisfy(\.isNumber),
           base.index(after: underscore) < base.endIndex {
            base = base[..<underscore]
        }
        switch base {
        case "embedding": return ConfiguredLayer(group: group, configName: group, kind: .embedding)
        case "dense": return ConfiguredLayer(group: group, configName: group, kind: .dense, activation: .linear)
        case "lstm", "gru", "simple_rnn", "bidirectional":
            let folder = base == "bidirectional" ? "/forward_layer" : ""
            let prefix = "layers/\(group)\(folder)/cell/vars/"
            let kernel = try file.floats(at: prefix + "1")
            guard kernel.shape.count == 2, kernel.shape[0] > 0, kernel.shape[1] % kernel.shape[0] == 0 else {
                throw .wrongShape(path: prefix + "1", expected: [kernel.shape.first ?? 1, kernel.shape.first ?? 1], found: kernel.shape)
            }
            let kind: KerasLayerSpec.Kind
            switch kernel.shape[1] / kernel.shape[0] {
            case 4: kind = .lstm
            case 3: kind = .gru
            case 1: kind = .simpleRNN
            default: throw .wrongShape(path: prefix + "1", expected: [kernel.shape[0], kernel.shape[0]], found: kernel.shape)
            }
            let vars = try file.members(of: String(prefix.dropLast()))
            var layer = ConfiguredLayer(group: group, configName: group, kind: kind, activation: kind == .simpleRNN ? .tanh : nil,
                                        useBias: vars.contains("2"))
            if kind == .gru { layer.resetAfter = layer.useBias ? (try file.floats(at: prefix + "2")).shape.count == 2 : true }
            if base == "bidirectional" { layer.merge = .concat }
            return layer
        default:
            if file.hasGroup("layers/\(group)/vars"), !(try file.members(of: "layers/\(group)/vars")).isEmpty {
                throw .unsupportedLayer(name: group, className: String(base))
            }
            return nil
        }
    }
}
