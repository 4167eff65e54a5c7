import ArgumentParser
import Foundation
import Recurrent

extension ExportFormat: ExpressibleByArgument {}

extension RecurrentCommand {
    /// `recurrent export`: a trained checkpoint as an ONNX model (docs/ONNX.md).
    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Export a trained checkpoint to ONNX (charlm, classify, classify-series, tag, forecast, translate).",
            discussion: """
            A translate checkpoint gives two files beside --out: STEM-encoder.onnx and STEM-decoder-step.onnx.
            Jordan networks have no ONNX operator and are refused. See docs/ONNX.md for the inputs and outputs.
            Example:
              recurrent export --checkpoint runs/demo/best.safetensors --format onnx --out charlm.onnx
            """
        )

        @Option(help: "Checkpoint written by `recurrent train …`.") var checkpoint: String
        @Option(help: "Output format.") var format: ExportFormat = .onnx
        @Option(help: "File to write (a translate checkpoint writes two files named after it).") var out: String

        func run() throws {
            try reportingErrors {
                let folder = URL(fileURLWithPath: out).deletingLastPathComponent()
                var isFolder: ObjCBool = false
                guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isFolder), isFolder.boolValue else {
                    throw ValidationError("--out: the folder \(folder.path) does not exist")
                }
                let models = try ONNXCheckpointExport.models(checkpoint: URL(fileURLWithPath: checkpoint))
                for (suffix, model) in models {
                    let url = ONNXCheckpointExport.fileURL(out: URL(fileURLWithPath: out), suffix: suffix)
                    try model.write(to: url)
                    print("wrote \(url.path) (\(model.graph.node.count) nodes, opset \(ONNXGraphBuilder.opsetVersion))")
                }
            }
        }
    }
}
