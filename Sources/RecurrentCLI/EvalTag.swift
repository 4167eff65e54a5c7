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
            The data's tags are read in any chunk encoding (IOB1, IOB2, BIOES, BILOU, plain) and converted to IOB2, as in training.
            Refuses (non-zero exit) data whose tags the model was not trained on, data with intents for a model without an intent
            head (or the reverse), and data most of whose intents are not the model's. A multi-intent label a#b counts a guess of
            a#b, a or b as right; utterances whose intents were never seen in training are counted wrong and reported.
            Several --checkpoint options score an ensemble (runs with different seeds on the same data): the members' tag
            scores are averaged, each read with its own vocabulary and bias against O, and decoded with the mean of their CRF
            transitions; intents by the mean of their log-probabilities.
            Examples:
              recurrent eval tag --checkpoint runs/snips/best.safetensors --data Examples/data/snips
              recurrent eval tag --checkpoint runs/wnut17-{1,2,3}/best.safetensors --data Examples/data/wnut17
            """
        )

        @Option(parsing: .upToNextOption, help: "Checkpoint written by `recurrent train tag`; several (--checkpoint a b, or the option repeated) score them as an ensemble.")
        var checkpoint: [String] = []
        @Option(name: .customLong("o-bias"), help: "Bias subtracted from the O tag's score before decoding (default: the checkpoint's, 0 if it has none).")
        var outsideBias: Double?
        @Option(help: "Data folder (SNIPS folder format or CoNLL files), as for training.") var data: String
        @Option(help: "Split to score: test, validation or train.") var split = "test"
        @Flag(name: .customLong("tune-o-bias"), help: "Choose the bias against O on the data's validation split first, as `train tag` does (for checkpoints trained without it); the checkpoint is not changed.")
        var tuneOutsideBias = false
        @Option(name: .customLong("train-on-dev"), help: "The share of the validation split the model trained on (train tag --train-on-dev; default: the options.json beside the checkpoint, else 0): --split validation and --tune-o-bias use only the rest.")
        var trainOnDev: Double?

        func validate() throws {
            guard !checkpoint.isEmpty else { throw ValidationError("Missing expected argument '--checkpoint <checkpoint>'") }
            guard !(tuneOutsideBias && checkpoint.count > 1) else { throw ValidationError("--tune-o-bias takes one checkpoint, not an ensemble of \(checkpoint.count)") }
            try validateOutsideBias(outsideBias)
            guard !(tuneOutsideBias && outsideBias != nil) else { throw ValidationError("--tune-o-bias and --o-bias exclude each other") }
            if let trainOnDev, !(trainOnDev >= 0 && trainOnDev < 1) { throw ValidationError("--train-on-dev must be in [0, 1), got \(trainOnDev)") }
            guard ["test", "validation", "train"].contains(split) else { throw ValidationError("--split must be test, validation or train, got '\(split)'") }
        }

        func run() throws {
            try reportingErrors {
                let members = try checkpoint.map { try SequenceTagger.load(from: URL(fileURLWithPath: $0)) }
                let (model, vocabularies) = members[0]
                if let outsideBias { model.outsideBias = try OutsideBias.validated(outsideBias) }
                let fraction = try trainOnDev ?? Self.savedTrainOnDev(besides: checkpoint)
                let dataset = try TaggingDataset.load(folder: data).movingValidationIntoTraining(fraction: fraction)
                if fraction > 0 { print("validation: the \(dataset.validation.count) sentences the model did not train on (--train-on-dev \(fraction))") }
                let sentences = split == "test" ? dataset.test : split == "validation" ? dataset.validation : dataset.train
                guard !sentences.isEmpty else { throw ValidationError("the \(split) split of \(data) has no sentences") }
                if let mismatch = vocabularies.mismatch(sentences) {
                    throw ValidationError("cannot score \(checkpoint.joined(separator: ", ")) on the \(split) split of \(data): \(mismatch)")
                }
                let unknownTags = vocabularies.unknownTags(sentences)
                if !unknownTags.isEmpty {
                    FileHandle.standardError.write(Data("warning: \(unknownTags.count) tag\(unknownTags.count == 1 ? "" : "s") the model was not trained on (never predicted, their chunks count as missed): \(unknownTags.prefix(10).joined(separator: ", "))\n".utf8))
                }
                if tuneOutsideBias {
                    guard !dataset.validation.isEmpty else { throw ValidationError("--tune-o-bias: \(data) has no validation split") }
                    if let mismatch = vocabularies.mismatch(dataset.validation) {
                        throw ValidationError("cannot tune on the validation split of \(data): \(mismatch)")
                    }
                    let search = OutsideBias.tune(model, dataset.validation, vocabularies: vocabularies)
                    model.outsideBias = search.bias
                    print("bias against O on validation: " + search.scores.map { String(format: "%g → %.4f", $0.bias, $0.f1) }.joined(separator: ", "))
                    print(String(format: "chosen: %g", search.bias))
                }
                let evaluation: TaggingEvaluation, biasNote: String
                if members.count > 1 {
                    let ensemble = try TaggerEnsemble(members)
                    ensemble.outsideBias = try outsideBias.map(OutsideBias.validated)
                    evaluation = TaggingEvaluation.evaluate(ensemble, sentences)
                    biasNote = ", an ensemble of \(members.count) taggers" + (ensemble.outsideBias.map { String(format: ", bias against O %g", $0) }
                        ?? ", biases against O " + members.map { String(format: "%g", $0.model.outsideBias) }.joined(separator: "/"))
                } else {
                    evaluation = TaggingEvaluation.evaluate(model, sentences, vocabularies: vocabularies)
                    biasNote = model.outsideBias == 0 ? "" : String(format: ", bias against O %g", model.outsideBias)
                }
                print("\(dataset.name) \(split) (\(sentences.count) sentences, \(dataset.encoding.rawValue.uppercased()) tags\(biasNote)): \(evaluation.summary)")
                let types = evaluation.chunks.byType.keys.filter { !$0.isEmpty }.sorted()
                for type in types {
                    let c = evaluation.chunks.byType[type]!
                    print(String(format: "  %-28@ F1 %.4f  (%d correct of %d guessed, %d gold)", type, evaluation.chunks.f1(type: type), c.correct, c.guessed, c.gold))
                }
            }
        }

        /// The `--train-on-dev` share saved beside every checkpoint (`savedTrainOnDev(besides:)` of each), which must agree:
        /// an ensemble's members are scored on the same validation sentences.
        static func savedTrainOnDev(besides checkpoints: [String]) throws -> Double {
            let shares = checkpoints.map { savedTrainOnDev(besides: $0) }
            guard Set(shares).count == 1 else {
                throw ValidationError("the checkpoints were trained on different shares of the validation split (--train-on-dev "
                                      + shares.map { "\($0)" }.joined(separator: ", ") + "): pass --train-on-dev to choose one")
            }
            return shares[0]
        }

        /// The `--train-on-dev` share saved in the run folder's options.json beside `checkpoint`; 0 when there is none or
        /// it cannot be read (a checkpoint copied elsewhere: pass --train-on-dev).
        static func savedTrainOnDev(besides checkpoint: String) -> Double {
            let url = URL(fileURLWithPath: checkpoint).deletingLastPathComponent().appendingPathComponent("options.json")
            guard let data = FileManager.default.contents(atPath: url.path),
                  let options = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let fraction = (options["task"] as? [String: Any])?["validationIntoTraining"] as? Double,
                  fraction >= 0, fraction < 1 else { return 0 }
            return fraction
        }
    }
}
