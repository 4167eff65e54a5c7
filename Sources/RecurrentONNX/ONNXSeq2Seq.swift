import Foundation
import RecurrentData
import RecurrentModels
import RecurrentNN

extension Seq2Seq where Scalar == Float {
    /// The encoder as an ONNX graph: the attention keys and the decoder's initial state.
    ///
    ///     inputs   source_ids      int64 (source_steps, batch)   <pad> = 0 past each length
    ///              source_lengths  int64 (batch)                 in 1...source_steps
    ///     outputs  keys            float (batch, source_steps, H)
    ///              h               float (layers, batch, H)      the decoder's initial state (bridged when bidirectional)
    ///              c               float (layers, batch, H)      LSTM only
    ///
    /// - Throws: `ONNXExportError.unsupported` for a Jordan network.
    public func onnxEncoder(vocabularies: Seq2SeqVocabularies? = nil) throws -> Onnx_ModelProto {
        let builder = ONNXGraphBuilder(name: "translate_encoder")
        let (L, H) = (config.layers, config.hiddenSize)
        let ids = builder.input("source_ids", .int64, ["source_steps", "batch"])
        let lengths = builder.input("source_lengths", .int64, ["batch"])
        let r = try builder.recurrent(encoder.rnn, builder.embedding(encoder.embedding, ids), lengths: lengths, h0: nil, c0: nil)  // (S, B, H)
        builder.output(builder.transpose(r.output, [1, 0, 2]), name: "keys", .float, ["batch", "source_steps", .fixed(H)])
        func decoderState(_ final: ONNXValue, _ bridge: Linear<Float>?, squash: Bool, name: String) -> ONNXValue {     // (L, B, H)
            guard let bridge else { return final }
            let layers = (0..<L).map { l in
                let both = builder.slice(final, axis: 0, (2 * l)..<(2 * l + 2))                                       // (2, B, H)
                let joined = builder.reshape(builder.transpose(both, [1, 0, 2]), [0, -1])                              // (B, 2H)
                let y = builder.linear(bridge, joined, name: name)
                return builder.unsqueeze(squash ? builder.tanh(y) : y, axes: [0])                                      // (1, B, H)
            }
            return builder.concat(layers, axis: 0)
        }
        builder.output(decoderState(r.h, encoder.bridge, squash: true, name: "bridge"), name: "h", .float, [.fixed(L), "batch", .fixed(H)])
        if let c = r.c {
            builder.output(decoderState(c, encoder.bridgeC, squash: false, name: "bridge_c"), name: "c", .float, [.fixed(L), "batch", .fixed(H)])
        }
        return builder.model(docString: "Recurrent encoder–decoder, the encoder: attention keys and the decoder's initial state.",
                             metadata: metadata(vocabularies, part: "encoder"))
    }

    /// One decoder step as an ONNX graph, run once per output token from the encoder's outputs (`<s>` = 2 first,
    /// until `</s>` = 3):
    ///
    ///     inputs   tokens          int64 (batch)                  the previous token of each row
    ///              h               float (layers, batch, H)       the state (the encoder's h at the first step)
    ///              c               float (layers, batch, H)       LSTM only
    ///              keys            float (batch, source_steps, H) with attention: the encoder's keys
    ///              source_lengths  int64 (batch)                  with attention
    ///              attentional     float (batch, H)               Luong input feeding: the previous step's (zeros first)
    ///     outputs  logits          float (batch, V)
    ///              next_h, next_c  the state after the step
    ///              next_attentional  with input feeding
    ///              weights         float (batch, source_steps)    with attention
    ///
    /// - Throws: `ONNXExportError.unsupported` for Jordan cells.
    public func onnxDecoderStep(vocabularies: Seq2SeqVocabularies? = nil) throws -> Onnx_ModelProto {
        let builder = ONNXGraphBuilder(name: "translate_decoder_step")
        let (L, H) = (config.layers, config.hiddenSize)
        let tokens = builder.input("tokens", .int64, ["batch"])
        let h = builder.input("h", .float, [.fixed(L), "batch", .fixed(H)])
        let c = config.cell == .lstm ? builder.input("c", .float, [.fixed(L), "batch", .fixed(H)]) : nil
        var memory: (keys: ONNXValue, lengths: ONNXValue)?
        if decoder.attention != nil {
            memory = (builder.input("keys", .float, ["batch", "source_steps", .fixed(H)]), builder.input("source_lengths", .int64, ["batch"]))
        }
        let attentional = decoder.inputFeeding ? builder.input("attentional", .float, ["batch", .fixed(H)]) : nil
        func layer(_ state: ONNXValue, _ l: Int) -> ONNXValue { builder.squeeze(builder.slice(state, axis: 0, l..<(l + 1)), axes: [0]) }  // (B, H)

        var x = builder.embedding(decoder.embedding, tokens)                                                           // (B, E)
        var context: ONNXValue?, weights: ONNXValue?
        if let attention = decoder.attention, attention.kind.queriesPreviousState, let memory {
            (context, weights) = builder.attention(attention, query: layer(h, L - 1), keys: memory.keys, lengths: memory.lengths)
            x = builder.concat([x, context!], axis: 1)                                                                 // (B, E + H)
        } else if let attentional {
            x = builder.concat([x, attentional], axis: 1)                                                              // (B, E + H)
        }
        var nextH: [ONNXValue] = [], nextC: [ONNXValue] = []
        for (l, cell) in decoder.cells.enumerated() {
            let next = try builder.cell(cell, x, h: layer(h, l), c: c.map { layer($0, l) }, name: "cell_l\(l)")
            nextH.append(builder.unsqueeze(next.h, axes: [0]))
            if let nc = next.c { nextC.append(builder.unsqueeze(nc, axes: [0])) }
            x = next.h                                                                                                 // (B, H)
        }
        if let attention = decoder.attention, !attention.kind.queriesPreviousState, let memory {
            (context, weights) = builder.attention(attention, query: x, keys: memory.keys, lengths: memory.lengths)
        }
        if let combine = decoder.combine, let context {
            x = builder.tanh(builder.linear(combine, builder.concat([x, context], axis: 1), name: "combine"))         // (B, H)
        }
        builder.output(builder.linear(decoder.output, x, name: "output"), name: "logits", .float, ["batch", .fixed(config.targetVocabularySize)])
        builder.output(builder.concat(nextH, axis: 0), name: "next_h", .float, [.fixed(L), "batch", .fixed(H)])
        if !nextC.isEmpty { builder.output(builder.concat(nextC, axis: 0), name: "next_c", .float, [.fixed(L), "batch", .fixed(H)]) }
        if decoder.inputFeeding { builder.output(x, name: "next_attentional", .float, ["batch", .fixed(H)]) }
        if let weights { builder.output(weights, name: "weights", .float, ["batch", "source_steps"]) }
        return builder.model(docString: "Recurrent encoder–decoder, one decoder step: next-token logits and the next state.",
                             metadata: metadata(vocabularies, part: "decoder-step"))
    }

    func metadata(_ vocabularies: Seq2SeqVocabularies?, part: String) -> [String: String] {
        var metadata = ["task": "translate", "part": part, "cell": config.cell.rawValue, "attention": config.attention.rawValue,
                        "bos": "\(bos)", "eos": "\(eos)"]
        if let vocabularies {
            metadata["source_vocabulary"] = jsonArray(vocabularies.source.tokens)
            metadata["target_vocabulary"] = jsonArray(vocabularies.target.tokens)
        }
        return metadata
    }
}
