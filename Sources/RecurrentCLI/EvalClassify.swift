import ArgumentParser
import Foundation
import Recurrent

extension RecurrentCommand.Eval {
    /// `recurrent eval classify`: accuracy and F1 of a classifier checkpoint on the test split.
    struct Classify: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "classify",
            abstract: "Accuracy and F1 of a sentence classifier on the test split (or on a whole file with --all).",
            discussion: """
            The test split is the one `recurrent train classify` held out: the same data and the split seed stored in the checkpoint give the same sentences.

            Example:
              recurrent eval classify --checkpoint runs/sentiment/best.safetensors --data Examples/data/sentiment
            """
        )

        @Option(help: "Checkpoint written by `recurrent train classify`.") var checkpoint: String
        @Option(help: "The data the model was trained on: a sentence<TAB>label file or a folder of *_labelled.txt files.") var data: String
        @Flag(help: "Score every sentence of --data instead of the test split (for data the model never saw).") var all = false

        func run() throws {
            try reportingErrors {
                let (model, vocabulary, extra) = try SequenceClassifier.load(from: URL(fileURLWithPath: checkpoint))
                let sentences = try ClassificationTSV.load(path: data, classes: model.config.classes)
                let scored: EncodedSentences
                if all {
                    scored = try EncodedSentences(sentences, vocabulary: vocabulary)
                } else {
                    guard let seedText = extra["split_seed"], let splitSeed = UInt64(seedText) else {
                        throw ValidationError("the checkpoint records no split seed; use --all to score every sentence of --data")
                    }
                    if let recorded = extra["sentences"].flatMap({ Int($0) }), recorded != sentences.count {
                        FileHandle.standardError.write(Data("warning: the model was trained on \(recorded) sentences, --data has \(sentences.count); its test split is not the one held out in training\n".utf8))
                    }
                    scored = try SentenceClassificationData(sentences, classes: model.config.classes, splitSeed: splitSeed, vocabulary: vocabulary).test
                }
                guard scored.count > 0 else { throw ValidationError("no sentences to score (the test split of --data is empty)") }
                let metrics = model.evaluate(on: scored)
                print("\(all ? "all" : "test"): \(metrics.summary)")
                print("confusion (rows: label, columns: prediction): \(metrics.confusion)")
            }
        }
    }
}
