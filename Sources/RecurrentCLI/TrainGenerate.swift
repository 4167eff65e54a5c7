import ArgumentParser
import Foundation
import Recurrent

extension RecurrentCommand.Train {
    /// `recurrent train generate`: one-to-many generation conditioned on a class label.
    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "generate",
            abstract: "Train a decoder that writes sentences of a given class (label-conditioned generation).",
            discussion: """
            --data is one sentence<TAB>label file or a folder of *_labelled.txt files (the UCI sentiment sentences), split 80/10/10
            by --split-seed. The label's one-hot vector sets the decoder's initial state; the best epoch (lowest validation loss)
            is kept. Writes config.json, options.json, vocabulary.json, metrics.csv, best.safetensors, last.safetensors and
            test.json (test loss, perplexity, a greedy sentence per label) into --out. Defaults: 20 epochs, batch 32, lr 0.003.
            Example:
              recurrent train generate --data Examples/data/sentiment --epochs 10 --out runs/generate
              recurrent sample --checkpoint runs/generate/best.safetensors --label 1 --count 3
            """
        )

        @Option(help: "A sentence<TAB>label file, or a folder of *_labelled.txt files.") var data: String
        @Option(help: "Number of classes (labels are 0..<classes).") var classes = 2
        @Option(help: "Decoder cell: lstm, gru or rnn.") var cell = CellKind.lstm
        @Option(help: "Hidden units per layer.") var hidden = 128
        @Option(help: "Stacked decoder layers.") var layers = 1
        @Option(help: "Word embedding size.") var embedding = 64
        @Option(name: .customLong("min-count"), help: "Words seen fewer times in training become <unk>.") var minCount = 2
        @Option(name: .customLong("split-seed"), help: "Seed of the train/validation/test split.") var splitSeed: UInt64 = 1
        @OptionGroup var training: TrainingArguments

        func run() throws {
            try reportingErrors {
                let options = try training.runOptions("generate", defaults: GenerationTask.defaultOptions,
                                                      settings: GenerationTask.Settings(splitSeed: splitSeed, minCount: minCount))
                let saved = try training.savedConfig(ConditionedGeneratorConfig.self, task: "generate") { try $0.validate() }
                let sentences = try ClassificationTSV.load(path: data, classes: saved?.classes ?? classes)
                let (words, splits) = try GenerationTask.data(sentences, settings: options.task)
                let config = saved ?? ConditionedGeneratorConfig(classes: classes, vocabularySize: words.count, embeddingSize: embedding,
                                                                 hiddenSize: hidden, layers: layers, cell: cell)
                do { try config.validate() } catch { throw ValidationError("\(error)") }
                let model = ConditionedGenerator<Float>(config, seed: options.training.seed)
                print("generate: \(splits.train.count) training, \(splits.validation.count) validation, \(splits.test.count) test sentences; "
                      + "\(words.count) words, \(config.classes) labels")
                print("model: \(config.cell) decoder \(config.layers)×\(config.hiddenSize), \(model.parameterCount) parameters; \(describe(options.training))")
                let task = try GenerationTask(model: model, config: config, sentences: splits, words: words, settings: options.task)
                let (report, trainer) = try training.train(task, options: options.training, resumeArguments: ["generate", "--data", data])
                print(String(format: "best epoch %d; test loss %.4f (perplexity %.1f). Run folder: %@", report.epoch, report.testLoss, report.perplexity,
                             trainer.folder.url.path))
                for (label, sentence) in report.greedy.enumerated() { print("  label \(label): \(sentence)") }
            }
        }
    }
}
