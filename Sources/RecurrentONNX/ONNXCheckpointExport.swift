import Foundation
import RecurrentIO
import RecurrentModels

/// The formats `recurrent export` writes.
public enum ExportFormat: String, Codable, CaseIterable, Sendable, CustomStringConvertible {
    /// ONNX (opset 17), docs/ONNX.md.
    case onnx
    public var description: String { rawValue }
}

/// Exports a task checkpoint (`recurrent train …`'s best.safetensors) to ONNX files.
public enum ONNXCheckpointExport {
    /// The ONNX models of the checkpoint at `url`, each with the file name suffix it is written under: one model
    /// (suffix "") for charlm, classify, classify-series, tag and forecast; two for translate, the encoder
    /// ("-encoder") and one decoder step ("-decoder-step").
    /// - Throws: the checkpoint's loading errors (`ModelError`, …), `ONNXExportError` for a model with no ONNX
    ///   form (Jordan cells), and `ONNXExportError.unsupported` for a task with no ONNX export.
    public static func models(checkpoint url: URL) throws -> [(suffix: String, model: Onnx_ModelProto)] {
        let checkpoint = try Checkpoint.load(from: url)
        let task = checkpoint.extra["task"] ?? "unknown"
        switch task {
        case "charlm":
            let (model, vocabulary) = try LanguageModel.load(checkpoint: checkpoint)
            return [("", try model.onnxModel(vocabulary: vocabulary))]
        case SequenceClassifier.task:
            let (model, vocabulary, _) = try SequenceClassifier.load(checkpoint: checkpoint)
            return [("", try model.onnxModel(vocabulary: vocabulary))]
        case SequenceClassifier.seriesTask:
            return [("", try SequenceClassifier.loadSeries(from: url).model.onnxModel())]
        case "tag":
            let (model, vocabularies) = try SequenceTagger.load(checkpoint: checkpoint)
            return [("", try model.onnxModel(vocabularies: vocabularies))]
        case "forecast":
            return [("", try Forecaster.load(checkpoint: checkpoint).onnxModel())]
        case "translate":
            let (model, vocabularies, _) = try Seq2Seq<Float>.load(checkpoint: checkpoint)
            return [("-encoder", try model.onnxEncoder(vocabularies: vocabularies)),
                    ("-decoder-step", try model.onnxDecoderStep(vocabularies: vocabularies))]
        default:
            throw ONNXExportError.unsupported("checkpoints of task '\(task)' (exported: charlm, classify, classify-series, tag, forecast, translate)")
        }
    }

    /// Where `models` are written for `--out path`: the path itself for one model, `stem-encoder.onnx` and
    /// `stem-decoder-step.onnx` beside it for two.
    public static func fileURL(out: URL, suffix: String) -> URL {
        guard !suffix.isEmpty else { return out }
        let stem = out.pathExtension == "onnx" ? out.deletingPathExtension() : out
        return stem.deletingLastPathComponent().appendingPathComponent(stem.lastPathComponent + suffix + ".onnx")
    }
}
