import ArgumentParser
import Foundation
import Recurrent

extension RecurrentCommand.Eval {
    /// `recurrent eval translate`: corpus BLEU and exact match of a translation checkpoint on its test split.
    struct Translate: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "translate",
            abstract: "Corpus BLEU (4-gram, brevity penalty, as sacrebleu) and exact match of a sequence-to-sequence model on the test split.",
            discussion: """
            The test split is the one `recurrent train translate` held out: the same --data with the split seed and filters stored in the
            checkpoint give the same pairs (a synthetic-task checkpoint regenerates its own). Every translation of a test source is a reference.
            Example:
              recurrent eval translate --checkpoint runs/fra/best.safetensors --data Examples/data/tatoeba-eng-fra/eng-fra.txt --beam 5
            """
        )

        @Option(help: "Checkpoint written by `recurrent train translate`.") var checkpoint: String
        @Option(help: "The pairs the model was trained on (not needed for a synthetic task).") var data: String?
        @Flag(help: "Score every pair of --data instead of the test split.") var all = false
        @Option(help: "The held-out split to score: test or validation (for choosing decoding options).") var split = "test"
        @Option(help: "Beam width (1: greedy).") var beam = 1
        @Option(name: .customLong("length-penalty"), help: "GNMT length penalty α for beam search (0: none).") var lengthPenalty = 0.0
        @Option(name: .customLong("max-length"), help: "Longest output in tokens (0: twice the longest reference plus 5).") var maxLength = 0

        func validate() throws {
            guard ["test", "validation"].contains(split) else { throw ValidationError("--split must be test or validation, got '\(split)'") }
            guard beam > 0, maxLength >= 0 else { throw ValidationError("--beam must be positive and --max-length not negative") }
            guard lengthPenalty >= 0, lengthPenalty.isFinite else { throw ValidationError("--length-penalty must not be negative") }
        }

        func run() throws {
            try reportingErrors {
                let (model, vocabularies, extra) = try Seq2Seq<Float>.load(from: URL(fileURLWithPath: checkpoint))
                let source = try TranslationData(description: extra, data: data)
                if let recorded = source.recordedPairs, recorded != source.all.count {
                    FileHandle.standardError.write(Data("warning: the model was trained on \(recorded) pairs, --data has \(source.all.count); its test split is not the one held out in training\n".utf8))
                }
                let pairs = all ? source.all : (split == "test" ? source.corpus.test : source.corpus.validation)
                guard !pairs.isEmpty else { throw ValidationError("no pairs to score") }
                let limit = maxLength > 0 ? maxLength : 2 * (pairs.map(\.target.count).max() ?? 10) + 5
                let start = Date()
                let scores = TranslationEvaluation.evaluate(model, pairs, vocabularies: vocabularies, beam: beam, lengthPenalty: lengthPenalty, maxLength: limit)
                let decoding = beam > 1 ? "beam \(beam)" + (lengthPenalty > 0 ? ", length penalty \(lengthPenalty)" : "") : "greedy"
                print("\(all ? "all" : split) (\(decoding)): \(scores.summary)")
                print("  \(scores.bleu)")
                print(String(format: "%.1f s", Date().timeIntervalSince(start)))
            }
        }
    }
}
