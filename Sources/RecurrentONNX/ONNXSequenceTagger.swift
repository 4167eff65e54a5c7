import Foundation
import RecurrentData
import RecurrentModels
import RecurrentNN

extension SequenceTagger {
    /// The tagger as an ONNX graph (the per-step tag logits; BIO-constrained Viterbi decoding stays with the caller):
    ///
    ///     inputs   ids            int64 (steps, batch)      word ids, <pad> = 0 past each length
    ///              lengths        int64 (batch)             valid words of each sentence, in 1...steps
    ///     outputs  tag_logits     float (steps, batch, tags)
    ///              intent_logits  float (batch, intents)    only with an intent head
    ///
    /// - Parameter vocabularies: stored in the metadata as `words`, `tags` and `intents` (JSON arrays).
    /// - Throws: `ONNXExportError.unsupported` for a Jordan network, and for a tagger with character or casing
    ///   features (the graph reads word ids only), and for an intent head that pools the outputs (`IntentPooling.max`,
    ///   `.attention`). The bias against `O` (`outsideBias`) is the caller's to subtract, as decoding is.
    public func onnxModel(vocabularies: TaggingVocabularies? = nil) throws -> Onnx_ModelProto {
        guard !readsSurface else {
            throw ONNXExportError.unsupported("a tagger with character or casing word features (the graph reads word ids only; "
                                              + "train with --char-features none --casing 0 to export)")
        }
        guard intentHead == nil || config.intentPooling == .final else {
            throw ONNXExportError.unsupported("a tagger whose intent head pools the outputs (--intent-pooling \(config.intentPooling.rawValue)); "
                                              + "train with --intent-pooling final to export")
        }
        let builder = ONNXGraphBuilder(name: "tag")
        let ids = builder.input("ids", .int64, ["steps", "batch"])
        let lengths = builder.input("lengths", .int64, ["batch"])
        let r = try builder.recurrent(rnn, builder.embedding(embedding, ids), lengths: lengths, h0: nil, c0: nil)  // (T, B, 2H)
        builder.output(builder.linear(head, r.output, name: "head"), name: "tag_logits", .float, ["steps", "batch", .fixed(config.tagCount)])
        if let intentHead {
            let top = 2 * (config.layers - 1)
            let last = builder.slice(r.h, axis: 0, top..<(top + 2))                                  // (2, B, H): forward, backward
            let sentence = builder.reshape(builder.transpose(last, [1, 0, 2]), [0, -1])                // (B, 2H)
            builder.output(builder.linear(intentHead, sentence, name: "intent_head"), name: "intent_logits", .float,
                           ["batch", .fixed(config.intentCount)])
        }
        var metadata = ["task": "tag", "cell": config.cell.rawValue]
        if let vocabularies {
            metadata["words"] = jsonArray(vocabularies.words.tokens)
            metadata["tags"] = jsonArray(vocabularies.tags.tokens)
            if let intents = vocabularies.intents { metadata["intents"] = jsonArray(intents.tokens) }
        }
        return builder.model(docString: "Recurrent sequence tagger: tag logits at every step (and intent logits).", metadata: metadata)
    }
}
