import ArgumentParser
import Foundation
import Recurrent

extension RecurrentCommand.Train {
    /// `recurrent train tag`: many-to-many aligned sequence labelling (slot filling with a joint intent head, NER).
    struct Tag: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "tag",
            abstract: "Train a bidirectional LSTM (or GRU, RNN) sequence tagger (slot filling + intent, or NER).",
            discussion: """
            --data is a folder in one of two formats, detected from its contents:
              SNIPS/ATIS: train/, valid/ (or dev/), test/ sub-folders, each with seq.in (tokens), seq.out (BIO tags), label (intent);
                          a joint intent head is trained from the final states of both directions.
              CoNLL:      files named *train*, *dev* (or *valid*) and *test*, one token<TAB>tag per line, blank line between sentences.
            Reports conlleval entity precision/recall/F1 (and intent accuracy) on the validation split after each epoch and on
            the test split with the best model. Writes config.json, options.json, vocabulary.json, metrics.csv, test.json,
            best.safetensors and last.safetensors into --out.
            Example:
              recurrent train tag --data Examples/data/snips --epochs 6 --out runs/snips
              recurrent train tag --data Examples/data/wnut17 --epochs 10 --out runs/wnut17
            """
        )

        @Option(help: "Data folder (SNIPS folder format or CoNLL files).") var data: String
        @Option(help: "Recurrent cell of the bidirectional layer: lstm, gru, rnn (tanh) or jordan.") var cell = "lstm"
        @Option(help: "Hidden units per direction.") var hidden = 128
        @Option(help: "Stacked bidirectional layers.") var layers = 1
        @Option(help: "Word embedding size.") var embedding = 100
        @Option(help: "Dropout on embeddings, between layers and before the heads (train mode).") var dropout = 0.3
        @Option(name: .customLong("word-dropout"), help: "Probability of replacing a training word seen once with <unk>.") var wordDropout = 0.25
        @Option(name: .customLong("min-count"), help: "Words seen fewer times in training become <unk>.") var minCount = 1
        @Option(help: "Learning rate.") var lr = 2e-3
        @Option(name: .customLong("clip-norm"), help: "Clip the global gradient norm to this value (0: off).") var clipNorm = 5.0
        @Option(help: "Passes over the training split (default 8).") var epochs: Int?
        @Option(help: "Stop after this many batches in all (0: no limit).") var steps: Int?
        @Option(help: "Sentences per batch.") var batch = 32
        @Option(help: "Random seed (same seed, same run).") var seed: UInt64 = 1
        @Option(help: "Run folder.") var out = "runs/tag"
        @Flag(help: "Continue the run in --out after its last completed epoch, with its saved options (--epochs and --steps may change); gives the numbers an uninterrupted run gives.")
        var resume = false
        @OptionGroup var update: UpdateRuleOptions
        @OptionGroup var configFile: ConfigFileOption

        func validate() throws {
            guard SequenceTaggerConfig.cells.contains(cell) else { throw ValidationError("--cell must be one of \(SequenceTaggerConfig.cells.joined(separator: ", ")), got '\(cell)'") }
            guard hidden > 0, layers > 0, embedding > 0, batch > 0, (epochs ?? 1) > 0, minCount > 0 else {
                throw ValidationError("--hidden, --layers, --embedding, --batch, --epochs and --min-count must be positive")
            }
            guard lr > 0, lr.isFinite else { throw ValidationError("--lr must be a positive number, got \(lr)") }
            guard clipNorm >= 0, clipNorm.isFinite else { throw ValidationError("--clip-norm must not be negative, got \(clipNorm)") }
            guard isDropoutProbability(dropout) else { throw ValidationError("--dropout must be in [0, 1) in single precision, got \(dropout)") }
            guard (steps ?? 0) >= 0 else { throw ValidationError("--steps must not be negative") }
            guard wordDropout >= 0, wordDropout < 1 else { throw ValidationError("--word-dropout must be in [0, 1), got \(wordDropout)") }
        }

        func run() throws {
            try reportingErrors {
                let folder = URL(fileURLWithPath: out)
                var options = SequenceTaggerTrainingOptions()
                var config: SequenceTaggerConfig
                if resume {
                    // The saved options and config, so the continued run is the same run.
                    options = try readOptions(SequenceTaggerTrainingOptions(), folder.appendingPathComponent("options.json"))
                    try options.validate()
                    config = try readJSON(SequenceTaggerConfig.self, folder.appendingPathComponent("config.json"))
                } else {
                    try configFile.echo(into: folder)
                    options.batch = batch; options.learningRate = lr; options.update = update.rule; options.clipNorm = clipNorm
                    options.minCount = minCount; options.wordDropout = wordDropout; options.seed = seed
                    config = SequenceTaggerConfig(vocabularySize: 0, tagCount: 0, intentCount: 0, embeddingSize: embedding,
                                                  hiddenSize: hidden, layers: layers, dropout: dropout, cell: cell)
                }
                if let epochs { options.epochs = epochs }
                if let steps { options.maxSteps = steps }
                let dataset = try TaggingDataset.load(folder: data)
                let vocabularies = try TaggingVocabularies(training: dataset.train, minCount: options.minCount)
                if !resume {
                    config.vocabularySize = vocabularies.words.count
                    config.tagCount = vocabularies.tags.count
                    config.intentCount = vocabularies.intents?.count ?? 0
                }
                try config.validate()
                try MemoryEstimate.requireTraining(parameters: config.minimumParameterCount, for: "a \(config.layers)×\(config.hiddenSize) \(config.cell)")
                let model = SequenceTagger(config, seed: options.seed)
                print("tag (\(dataset.format.rawValue)): \(dataset.train.count) training, \(dataset.validation.count) validation, \(dataset.test.count) test sentences; "
                      + "\(vocabularies.words.count) words, \(vocabularies.tags.count - 1) tags" + (vocabularies.intents.map { ", \($0.count) intents" } ?? ""))
                print("model: bidirectional \(config.cell.uppercased()) \(config.layers)×\(config.hiddenSize), embedding \(config.embeddingSize), \(model.parameterCount) parameters; "
                      + "batch \(options.batch), \(options.update.summary) lr \(options.learningRate), \(options.epochs) epochs")
                let trainer = SequenceTaggerTrainer(model: model, data: dataset, vocabularies: vocabularies, options: options, runFolder: folder)
                let start = Date()
                let test = try withStopHandling(task: "tag", data: data, out: out) { stop in
                    trainer.stopRequested = stop
                    trainer.onNonFinite = update.nonFinitePolicy
                    return try trainer.run(resume: resume)
                }
                if let last = trainer.history.last { print("validation (last epoch): \(last.validation.summary)") }
                print("test (best model): \(test.summary)")
                print(String(format: "%.0f s. Run folder: %@", Date().timeIntervalSince(start), out))
            }
        }
    }
}
