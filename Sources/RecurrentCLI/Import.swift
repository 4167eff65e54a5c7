import ArgumentParser
import Foundation
import Recurrent

extension RecurrentCommand {
    /// `recurrent import`: weights from other frameworks into the library's checkpoints.
    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Convert a model from another framework into a Recurrent checkpoint.",
            subcommands: [ImportKeras.self]
        )
    }

    /// `recurrent import keras`: a Keras 3 `.keras` or `.weights.h5` file → a safetensors checkpoint (task `keras`).
    struct ImportKeras: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "keras",
            abstract: "Convert a Keras 3 model (.keras, or .weights.h5 with its config) into a checkpoint.",
            discussion: """
            Reads Sequential models (and Functional chains) of LSTM, GRU (reset_after true or false), SimpleRNN (tanh, relu), Bidirectional, \
            Embedding, Dense and Dropout layers, converts the gate order and biases, and writes the weights under \
            PyTorch-style names (lstm.weight_ih_l0, bidirectional.weight_hh_l0_reverse, dense.weight, …) with the \
            layers as the checkpoint's config; KerasModel.load(checkpoint:) rebuilds the model. See docs/KERAS.md.

            Example:
              recurrent import keras --in model.keras --out model.safetensors
              recurrent import keras --in model.weights.h5 --keras-config config.json --out model.safetensors
            """
        )

        @Option(name: .customLong("in"), help: "The Keras file: a .keras archive or a .weights.h5 file.") var input: String
        @Option(name: .customLong("keras-config"),
                help: "With a .weights.h5: the model's config (config.json of a .keras, or model.to_json()). Without it the layers are imported in name order with Keras' default options, as weights only.")
        var kerasConfig: String?
        @Option(help: "The checkpoint to write (.safetensors).") var out: String

        func run() throws {
            try reportingErrors {
                let url = URL(fileURLWithPath: input)
                guard FileManager.default.isReadableFile(atPath: input) else { throw ValidationError("--in: cannot read '\(input)'") }
                if let kerasConfig, !FileManager.default.isReadableFile(atPath: kerasConfig) {
                    throw ValidationError("--keras-config: cannot read '\(kerasConfig)'")
                }
                let imported = try KerasImport.read(contentsOf: url, config: kerasConfig.map { URL(fileURLWithPath: $0) })
                try imported.checkpoint().save(to: URL(fileURLWithPath: out))
                for spec in imported.config.layers {
                    print("\(spec.name): \(describe(spec))")
                }
                let count = imported.tensors.values.reduce(0) { $0 + $1.count }
                print("wrote \(out): \(imported.config.layers.count) layers, \(count) parameters"
                      + (imported.kerasVersion.map { " (Keras \($0))" } ?? ""))
                if !imported.config.complete {
                    print("note: no model config was given, so the layers are listed in name order with Keras' default options; "
                          + "the checkpoint holds the weights, and rebuilding the model needs the config (--keras-config)")
                }
            }
        }

        func describe(_ spec: KerasLayerSpec) -> String {
            switch spec.kind {
            case .embedding: return "Embedding \(spec.inputSize) → \(spec.units)"
            case .dropout: return "Dropout (identity at inference)"
            case .dense: return "Dense \(spec.inputSize) → \(spec.units), \(spec.activation?.rawValue ?? "linear")"
            case .lstm, .gru, .simpleRNN:
                var name = spec.kind == .lstm ? "LSTM" : spec.kind == .gru ? "GRU" : "SimpleRNN(\(spec.activation?.rawValue ?? "tanh"))"
                if spec.kind == .gru { name += spec.resetAfter == true ? " reset_after" : " reset_before" }
                if let merge = spec.bidirectional { name = "Bidirectional(\(name), \(merge.rawValue))" }
                return "\(name) \(spec.inputSize) → \(spec.units)" + (spec.returnSequences ? ", sequences" : ", last step")
                    + (spec.goBackwards ? ", backwards" : "")
            }
        }
    }
}
