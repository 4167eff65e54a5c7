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
            best.safetensors and last.safetensors into --out. Defaults: 8 epochs, batch 32, lr 0.002, clip-norm 5.
            Example:
              recurrent train tag --data Examples/data/snips --epochs 6 --out runs/snips
              recurrent train tag --data Examples/data/wnut17 --epochs 10 --out runs/wnut17
            """
        )

        @Option(help: "Data folder (SNIPS folder format or CoNLL files).") var data: String
        @Option(help: "Recurrent cell of the bidirectional layer: lstm, gru, rnn (tanh) or jordan.") var cell = CellKind.lstm
        @Option(help: "Hidden units per direction.") var hidden = 128
        @Option(help: "Stacked bidirectional layers.") var layers = 1
        @Option(help: "Word embedding size.") var embedding = 100
        @Option(help: "Dropout on embeddings, between layers and before the heads (train mode).") var dropout = 0.3
        @Option(name: .customLong("word-dropout"), help: "Probability of replacing a training word seen once with <unk>.") var wordDropout = 0.25
        @Option(name: .customLong("min-count"), help: "Words seen fewer times in training become <unk>.") var minCount = 1
        @OptionGroup var training: TrainingArguments

        func validate() throws {
            guard hidden > 0, layers > 0, embedding > 0, minCount > 0 else {
                throw ValidationError("--hidden, --layers, --embedding, --batch, --epochs and --min-count must be positive")
            }
            guard isDropoutProbability(dropout) else { throw ValidationError("--dropout must be in [0, 1) in single precision, got \(dropout)") }
            guard wordDropout >= 0, wordDropout < 1 else { throw ValidationError("--word-dropout must be in [0, 1), got \(wordDropout)") }
        }

        func run() throws {
            try reportingErrors {
                let options = try training.runOptions("tag", defaults: TaggingTask.defaultOptions,
                                                      settings: TaggingTask.Settings(minCount: minCount, wordDropout: wordDropout))
                let saved = try training.savedConfig(SequenceTaggerConfig.self, task: "tag") { _ in }
                let dataset = try TaggingDataset.load(folder: data)
                let vocabularies = try TaggingVocabularies(training: dataset.train, minCount: options.task.minCount)
                let config = saved ?? SequenceTaggerConfig(vocabularySize: vocabularies.words.count, tagCount: vocabularies.tags.count,
                                                           intentCount: vocabularies.intents?.count ?? 0, embeddingSize: embedding,
                                                           hiddenSize: hidden, layers: layers, dropout: dropout, cell: cell)
                try config.validate()
                try MemoryEstimate.requireTraining(parameters: config.minimumParameterCount, for: "a \(config.layers)×\(config.hiddenSize) \(config.cell)")
                let model = SequenceTagger(config, seed: options.training.seed)
                print("tag (\(dataset.format.rawValue)): \(dataset.train.count) training, \(dataset.validation.count) validation, \(dataset.test.count) test sentences; "
                      + "\(vocabularies.words.count) words, \(vocabularies.tags.count - 1) tags" + (vocabularies.intents.map { ", \($0.count) intents" } ?? ""))
                print("model: bidirectional \(config.cell.rawValue.uppercased()) \(config.layers)×\(config.hiddenSize), embedding \(config.embeddingSize), "
                      + "\(model.parameterCount) parameters; \(describe(options.training))")
                let task = try TaggingTask(model: model, data: dataset, vocabularies: vocabularies, settings: options.task,
                                           evaluationBatch: max(options.training.batch, 64))
                let start = Date()
                let (test, trainer) = try training.train(task, options: options.training, resumeArguments: ["tag", "--data", data])
                if let last = trainer.history.last { print("validation (last epoch): \(last.evaluation.summary)") }
                print("test (best model): \(test.summary)")
                print(String(format: "%.0f s. Run folder: %@", Date().timeIntervalSince(start), trainer.folder.url.path))
            }
        }
    }
}
