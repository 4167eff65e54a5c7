import ArgumentParser
import Foundation
import Recurrent

extension RecurrentCommand.Eval {
    /// `recurrent eval tag`: conlleval entity scores (and intent accuracy) of a tagger checkpoint.
    struct Tag: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "tag",
            abstract: "Entity precision, recall and F1 (as conlleval computes them) and intent accuracy of a tagger on a split.",
            discussion: """
            Example:
              recurrent eval tag --checkpoint runs/snips/best.safetensors --data Examples/data/snips
            """
        )

        @Option(help: "Checkpoint written by `recurrent train tag`.") var checkpoint: String
        @Option(help: "Data folder (SNIPS folder format or CoNLL files), as for training.") var data: String
        @Option(help: "Split to score: test, validation or train.") var split = "test"

        func validate() throws {
            guard ["test", "validation", "train"].contains(split) else { throw ValidationError("--split must be test, validation or train, got '\(split)'") }
        }

        func run() throws {
            try reportingErrors {
                let (model, vocabularies) = try SequenceTagger.load(from: URL(fileURLWithPath: checkpoint))
                let dataset = try TaggingDataset.load(folder: data)
                let sentences = split == "test" ? dataset.test : split == "validation" ? dataset.validation : dataset.train
                guard !sentences.isEmpty else { throw ValidationError("the \(split) split of \(data) has no sentences") }
                let unknownTags = Set(sentences.flatMap(\.tags)).filter { vocabularies.tags.tokens.firstIndex(of: $0) == nil }.sorted()
                if !unknownTags.isEmpty {
                    FileHandle.standardError.write(Data("warning: tags the model was not trained on (never predicted): \(unknownTags.prefix(10).joined(separator: ", "))\n".utf8))
                }
                let evaluation = TaggingEvaluation.evaluate(model, sentences, vocabularies: vocabularies)
                print("\(split) (\(sentences.count) sentences): \(evaluation.summary)")
                let types = evaluation.chunks.byType.keys.filter { !$0.isEmpty }.sorted()
                for type in types {
                    let c = evaluation.chunks.byType[type]!
                    print(String(format: "  %-28@ F1 %.4f  (%d correct of %d guessed, %d gold)", type, evaluation.chunks.f1(type: type), c.correct, c.guessed, c.gold))
                }
            }
        }
    }
}
