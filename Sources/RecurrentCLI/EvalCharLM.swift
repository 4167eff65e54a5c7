import ArgumentParser
import Foundation
import Recurrent

extension RecurrentCommand.Eval {
    /// `recurrent eval charlm`: loss and bits per character of a language-model checkpoint.
    struct CharLM: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "charlm",
            abstract: "Loss (nats/char) and bits per character of a character language model on the validation split (or a whole file with --all).",
            discussion: """
            The validation split is the last 10 % of the text, as `recurrent train charlm` holds it out. Characters the model never saw are an error.

            Example:
              recurrent eval charlm --checkpoint runs/demo/best.safetensors --data Examples/data/tinyshakespeare/input.txt
              recurrent eval charlm --checkpoint runs/demo/best.safetensors --data Examples/data/tinyshakespeare/input.txt --precision int8
            """
        )

        @Option(help: "Checkpoint written by `recurrent train charlm`.") var checkpoint: String
        @Option(help: "The text the model was trained on (or any text with --all).") var data: String
        @Flag(help: "Score the whole of --data instead of its validation split (for text the model never saw).") var all = false
        @Option(name: .customLong("seq-len"), help: "Characters per chunk (the state is carried across chunks).") var seqLen = 64
        @Option(help: "Parallel streams the text is cut into.") var streams = 32
        @Option(help: "Arithmetic of the recurrent layers' and the head's products: fp32 (the trained weights), bf16 or int8 (quantized at load).")
        var precision: Precision = .fp32

        func validate() throws {
            guard seqLen > 0, seqLen <= 100_000, streams > 0, streams <= 100_000 else { throw ValidationError("--seq-len and --streams must be in 1...100000") }
        }

        func run() throws {
            try reportingErrors {
                let (model, vocabulary) = try LanguageModel.load(from: URL(fileURLWithPath: checkpoint))
                let ids: [Int]
                if all {
                    ids = try vocabulary.encode(characters: try readTextFile(data))
                } else {
                    ids = try TextCorpus(path: data, vocabulary: vocabulary).validation
                }
                guard ids.count > seqLen else {
                    throw ValidationError("\(all ? data : "the validation split of \(data)") has \(ids.count) characters; --seq-len \(seqLen) needs at least \(seqLen + 1)")
                }
                let loss: Double
                if precision == .fp32 {
                    loss = model.meanLoss(on: ids, seqLen: seqLen, streams: streams)
                } else {
                    loss = try model.quantized(precision).meanLoss(on: ids, seqLen: seqLen, streams: streams)
                }
                print(String(format: "%@: %d characters, %@, loss %.4f nats/char, %.4f bits/char, perplexity %.3f",
                             all ? "all" : "validation", ids.count, precision.rawValue, loss, loss / M_LN2, exp(loss)))
            }
        }
    }
}
