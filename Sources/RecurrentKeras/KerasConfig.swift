import Foundation

/// One layer as the Keras config describes it, before its weights are read: the options the importer
/// converts, checked against what the library's layers implement.
struct ConfiguredLayer: Equatable {
    /// Its group under `layers/` in the weights file (Keras 3 names them by class in model order: `lstm`, `lstm_1`, …).
    var group: String
    /// The name in the config, for messages.
    var configName: String
    var kind: KerasLayerSpec.Kind
    var units: Int?
    var activation: KerasLayerSpec.Activation?
    var useBias = true
    var resetAfter: Bool?
    var returnSequences = false
    var goBackwards = false
    var merge: KerasLayerSpec.Merge?
}

/// Reads the model config Keras writes (`config.json` in a `.keras` file, or `model.to_json()`): a
/// `Sequential` of the layers the importer converts. Anything else is refused with a message naming it.
enum KerasConfig {
    /// The configs the importer reads are small; a larger one is refused before parsing.
    static let maximumBytes = 16 << 20

    /// - Returns: the layers in model order (InputLayer left out) and the input width the config declares, if any.
    /// - Throws: `KerasError.badConfig`, `.unsupportedModel`, `.unsupportedLayer`, `.unsupportedOption`.
    static func parse(_ data: Data) throws(KerasError) -> (layers: [ConfiguredLayer], inputWidth: Int?) {
        guard data.count <= maximumBytes else { throw .tooLarge(what: "the model config", size: data.count, limit: maximumBytes) }
        let root: Any
        do { root = try JSONSerialization.jsonObject(with: data) } catch {
            throw .badConfig(reason: "not valid JSON (\(error.localizedDescription))")
        }
        guard let top = root as? [String: Any] else { throw .badConfig(reason: "expected a JSON object at the top") }
        let className = try string(top, "class_name", in: "the model")
        guard className == "Sequential" || className == "Functional" else { throw .unsupportedModel(className: className) }
        guard let config = top["config"] as? [String: Any] else { throw .badConfig(reason: "the model has no \"config\" object") }
        guard let items = config["layers"] as? [Any] else { throw .badConfig(reason: "the model's config has no \"layers\" array") }
        if className == "Functional" { try requireChain(config, items) }
        var counters: [String: Int] = [:], layers: [ConfiguredLayer] = [], inputWidth: Int?
        for (index, item) in items.enumerated() {
            guard let layer = item as? [String: Any] else { throw .badConfig(reason: "layer \(index) is not an object") }
            let className = try string(layer, "class_name", in: "layer \(index)")
            guard let options = layer["config"] as? [String: Any] else { throw .badConfig(reason: "layer \(index) has no \"config\" object") }
            let name = (options["name"] as? String) ?? "layer \(index)"
            if className == "InputLayer" {
                let shape = (options["batch_shape"] ?? options["batch_input_shape"]) as? [Any]
                inputWidth = shape?.last as? Int
                continue
            }
            // Keras 3 names each layer's weight group after its class, numbered from the second of a class on.
            let base = snakeCase[className] ?? className.lowercased()
            let count = counters[base, default: 0]
            counters[base] = count + 1
            let group = count == 0 ? base : "\(base)_\(count)"
            layers.append(try configured(className: className, options: options, name: name, group: group))
        }
        guard !layers.isEmpty else { throw .badConfig(reason: "the model has no layers") }
        return (layers, inputWidth)
    }

    /// A Functional model is imported when it is a Sequential in disguise: one input, each layer called once on the
    /// output of the layer listed before it, and the last layer the one output (`keras.Model(inputs, outputs)` over a
    /// chain of layers, as tutorials write it).
    static func requireChain(_ config: [String: Any], _ items: [Any]) throws(KerasError) {
        let notAChain = KerasError.unsupportedModel(className: "Functional (only a single chain of layers, input to output, is imported)")
        var previous: String?
        for item in items {
            guard let layer = item as? [String: Any], let options = layer["config"] as? [String: Any], let name = options["name"] as? String,
                  let nodes = layer["inbound_nodes"] as? [Any] else { throw .badConfig(reason: "a Functional layer lacks a name or inbound_nodes") }
            if let previous {
                guard nodes.count == 1, let node = nodes[0] as? [String: Any], let args = node["args"] as? [Any], args.count == 1,
                      let tensor = args[0] as? [String: Any], let tensorConfig = tensor["config"] as? [String: Any],
                      let history = tensorConfig["keras_history"] as? [Any], history.first as? String == previous else { throw notAChain }
            } else {
                guard layer["class_name"] as? String == "InputLayer", nodes.isEmpty else { throw notAChain }
            }
            previous = name
        }
        func single(_ key: String) -> String? {
            guard let list = config[key] as? [Any] else { return nil }
            let entry = (list.count == 1 ? list[0] as? [Any] : list) ?? list      // [[name, 0, 0]] or [name, 0, 0]
            return entry.first as? String
        }
        guard let first = (items.first as? [String: Any])?["config"] as? [String: Any], single("input_layers") == first["name"] as? String,
              single("output_layers") == previous else { throw notAChain }
    }

    /// Keras' `to_snake_case` of the classes converted.
    static let snakeCase = ["LSTM": "lstm", "GRU": "gru", "SimpleRNN": "simple_rnn", "Bidirectional": "bidirectional",
                            "Embedding": "embedding", "Dense": "dense", "Dropout": "dropout"]

    static func configured(className: String, options: [String: Any], name: String, group: String) throws(KerasError) -> ConfiguredLayer {
        switch className {
        case "LSTM", "GRU", "SimpleRNN":
            return try recurrent(className: className, options: options, name: name, group: group)
        case "Bidirectional":
            let merge: KerasLayerSpec.Merge
            switch options["merge_mode"] {
            case let mode as String:
                guard let m = KerasLayerSpec.Merge(rawValue: mode) else {
                    throw .unsupportedOption(layer: name, option: "merge_mode", value: mode)
                }
                merge = m
            default:
                throw .unsupportedOption(layer: name, option: "merge_mode", value: "None")
            }
            guard let inner = options["layer"] as? [String: Any], let innerOptions = inner["config"] as? [String: Any] else {
                throw .badConfig(reason: "Bidirectional layer '\(name)' has no \"layer\" object with a \"config\"")
            }
            let innerClass = try string(inner, "class_name", in: "the layer wrapped by '\(name)'")
            guard ["LSTM", "GRU", "SimpleRNN"].contains(innerClass) else { throw .unsupportedLayer(name: name, className: "Bidirectional(\(innerClass))") }
            var forward = try recurrent(className: innerClass, options: innerOptions, name: name, group: group)
            guard !forward.goBackwards else { throw .unsupportedOption(layer: name, option: "layer.go_backwards", value: "True") }
            if let backward = options["backward_layer"] as? [String: Any] {
                let backwardClass = try string(backward, "class_name", in: "the backward layer of '\(name)'")
                guard backwardClass == innerClass, let backwardOptions = backward["config"] as? [String: Any] else {
                    throw .unsupportedOption(layer: name, option: "backward_layer", value: backwardClass)
                }
                var other = try recurrent(className: backwardClass, options: backwardOptions, name: name, group: group)
                guard other.goBackwards else { throw .unsupportedOption(layer: name, option: "backward_layer.go_backwards", value: "False") }
                other.goBackwards = false
                guard other == forward else {
                    throw .unsupportedOption(layer: name, option: "backward_layer", value: "a layer unlike the forward one")
                }
            }
            forward.merge = merge
            return forward
        case "Embedding":
            if let mask = options["mask_zero"] as? Bool, mask {
                throw .unsupportedOption(layer: name, option: "mask_zero", value: "True")
            }
            return ConfiguredLayer(group: group, configName: name, kind: .embedding, units: options["output_dim"] as? Int)
        case "Dense":
            let activation = try activationOption(options, layer: name, default: "linear")
            return ConfiguredLayer(group: group, configName: name, kind: .dense, units: options["units"] as? Int, activation: activation,
                                   useBias: options["use_bias"] as? Bool ?? true)
        case "Dropout":
            return ConfiguredLayer(group: group, configName: name, kind: .dropout)
        default:
            throw .unsupportedLayer(name: name, className: className)
        }
    }

    static func recurrent(className: String, options: [String: Any], name: String, group: String) throws(KerasError) -> ConfiguredLayer {
        let kind: KerasLayerSpec.Kind = className == "LSTM" ? .lstm : className == "GRU" ? .gru : .simpleRNN
        let activation = try activationOption(options, layer: name, default: "tanh")
        switch (kind, activation) {
        case (.simpleRNN, .tanh), (.simpleRNN, .relu), (.lstm, .tanh), (.gru, .tanh): break
        default: throw .unsupportedOption(layer: name, option: "activation", value: activation.rawValue)
        }
        if kind != .simpleRNN {
            let gate = options["recurrent_activation"] as? String ?? "sigmoid"
            guard gate == "sigmoid" else { throw .unsupportedOption(layer: name, option: "recurrent_activation", value: gate) }
        }
        for flag in ["return_state", "stateful"] where options[flag] as? Bool == true {
            throw .unsupportedOption(layer: name, option: flag, value: "True")
        }
        var layer = ConfiguredLayer(group: group, configName: name, kind: kind, units: options["units"] as? Int,
                                    activation: kind == .simpleRNN ? activation : nil, useBias: options["use_bias"] as? Bool ?? true,
                                    returnSequences: options["return_sequences"] as? Bool ?? false,
                                    goBackwards: options["go_backwards"] as? Bool ?? false)
        if kind == .gru { layer.resetAfter = options["reset_after"] as? Bool ?? true }
        return layer
    }

    static func activationOption(_ options: [String: Any], layer: String, default fallback: String) throws(KerasError) -> KerasLayerSpec.Activation {
        guard let value = options["activation"] else { return KerasLayerSpec.Activation(rawValue: fallback)! }
        guard let text = value as? String else { throw .unsupportedOption(layer: layer, option: "activation", value: "a serialized object") }
        guard let activation = KerasLayerSpec.Activation(rawValue: text) else { throw .unsupportedOption(layer: layer, option: "activation", value: text) }
        return activation
    }

    static func string(_ object: [String: Any], _ key: String, in what: String) throws(KerasError) -> String {
        guard let value = object[key] as? String else { throw .badConfig(reason: "\(what) has no \"\(key)\" string") }
        return value
    }
}
