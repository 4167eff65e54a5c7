import Foundation
import RecurrentData
import RecurrentModels
import RecurrentNN

extension LanguageModel {
    /// The character language model as an ONNX graph that a runtime steps through, feeding the state back:
    ///
    ///     inputs   ids     int64 (steps, batch)       token ids
    ///              h0      float (layers, batch, H)   the state to start from (zeros at the beginning)
    ///              c0      float (layers, batch, H)   LSTM only
    ///     outputs  logits  float (steps, batch, V)
    ///              h       float (layers, batch, H)   the state after the last step: the next call's h0
    ///              c       float (layers, batch, H)   LSTM only: the next call's c0
    ///
    /// - Parameter vocabulary: stored in the model's metadata as `vocabulary`, a JSON array of the tokens in id order.
    /// - Throws: `ONNXExportError.unsupported` for a Jordan network.
    public func onnxModel(vocabulary: Vocabulary? = nil) throws -> Onnx_ModelProto {
        let builder = ONNXGraphBuilder(name: "charlm")
        let (L, H, V) = (config.layers, config.hiddenSize, config.vocabularySize)
        let ids = builder.input("ids", .int64, ["steps", "batch"])
        let h0 = builder.input("h0", .float, [.fixed(L), "batch", .fixed(H)])
        let c0 = config.cell == .lstm ? builder.input("c0", .float, [.fixed(L), "batch", .fixed(H)]) : nil
        let x = builder.embedding(embedding, ids)                                                  // (T, B, E)
        let r = try builder.recurrent(rnn, x, lengths: nil, h0: h0, c0: c0)                        // (T, B, H)
        builder.output(builder.linear(head, r.output, name: "head"), name: "logits", .float, ["steps", "batch", .fixed(V)])
        builder.output(r.h, name: "h", .float, [.fixed(L), "batch", .fixed(H)])
        if let c = r.c { builder.output(c, name: "c", .float, [.fixed(L), "batch", .fixed(H)]) }
        var metadata = ["task": "charlm", "cell": config.cell.rawValue]
        if let vocabulary { metadata["vocabulary"] = jsonArray(vocabulary.tokens) }
        return builder.model(docString: "Recurrent character language model: logits of the next token and the state to feed back.",
                             metadata: metadata)
    }
}

/// A JSON array of strings (for metadata).
func jsonArray(_ values: [String]) -> String {
    String(decoding: (try? JSONSerialization.data(withJSONObject: values)) ?? Data("[]".utf8), as: UTF8.self)
}
