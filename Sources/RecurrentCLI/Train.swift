import ArgumentParser
import Foundation
import Recurrent

extension RecurrentCommand {
    struct Train: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train a model on a data set.",
            subcommands: [CharLM.self, Classify.self, ClassifySeries.self, Forecast.self, Tag.self, Translate.self, Generate.self, Adding.self, Copy.self]
        )
    }
}

extension RecurrentCommand.Train {
    /// `recurrent train charlm`: a character-level language model (one-to-many generation).
    struct CharLM: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "charlm",
            abstract: "Train a character-level language model on a text file.",
            discussion: """
            Writes config.json, options.json, vocabulary.json, metrics.csv, best.safetensors and last.safetensors into --out.
            Defaults: 100000 steps (or --epochs, or --minutes), batch 32, lr 0.002, clip-norm 5.
            Example:
              recurrent train charlm --data Examples/data/tinyshakespeare/input.txt --hidden 256 --layers 2 --minutes 10 --out runs/shakespeare
            """
        )

        @Option(help: "UTF-8 text file to learn from.") var data: String
        @Option(help: "Recurrent cell: lstm, gru, rnn (tanh) or jordan.") var cell = CellKind.lstm
        @Option(help: "Hidden units per layer.") var hidden = 256
        @Option(help: "Stacked recurrent layers.") var layers = 2
        @Option(help: "Character embedding size.") var embedding = 64
        @Option(help: "Dropout between recurrent layers (train mode).") var dropout = 0.0
        @Option(name: .customLong("seq-len"), help: "Characters per sequence (BPTT length).") var seqLen = 64
        @Option(name: .customLong("eval-every"), help: "Evaluate and checkpoint every N steps.") var evalEvery = 200
        @OptionGroup var training: TrainingArguments

        func validate() throws {
            guard hidden > 0, layers > 0, embedding > 0, seqLen > 0, (training.steps ?? 1) > 0, evalEvery > 0 else {
                throw ValidationError("--hidden, --layers, --embedding, --seq-len, --steps and --eval-every must be positive")
            }
            guard isDropoutProbability(dropout) else { throw ValidationError("--dropout must be in [0, 1) in single precision, got \(dropout)") }
            guard training.steps == nil || training.epochs == nil else { throw ValidationError("give --steps or --epochs, not both") }
        }

        func run() throws {
            try reportingErrors {
                var defaults = LanguageModelTask.defaultOptions
                defaults.schedule = .steps(100_000, evaluateEvery: evalEvery)
                var options = try training.runOptions("charlm", defaults: defaults, settings: LanguageModelTask.Settings(seqLen: seqLen))
                let saved = try training.savedConfig(LanguageModelConfig.self, task: "charlm") { config in
                    try config.validate()
                    try config.requireResumable(from: training.folder("charlm").last)
                }
                let corpus = try TextCorpus(path: data, minimumLength: options.task.seqLen + 1)
                let config = saved ?? LanguageModelConfig(vocabularySize: corpus.vocabulary.count, embeddingSize: embedding, hiddenSize: hidden,
                                                          layers: layers, cell: cell, dropout: dropout)
                if let epochs = training.epochs, case let .steps(_, every) = options.training.schedule {
                    let steps = max(1, Int((epochs * Double(corpus.train.count) / Double(options.training.batch * options.task.seqLen)).rounded(.up)))
                    options.training.schedule = .steps(steps, evaluateEvery: every)
                }
                try config.validate()
                let (batch, seqLen) = (options.training.batch, options.task.seqLen)
                try MemoryEstimate.requireTraining(parameters: config.minimumParameterCount,
                                                   activations: config.batchActivations(batch: batch, steps: seqLen),
                                                   for: "a \(config.layers)×\(config.hiddenSize) \(config.cell) with batches of \(batch)×\(seqLen)")
                let model = LanguageModel(config, seed: options.training.seed)
                print("charlm: \(corpus.train.count) training and \(corpus.validation.count) validation characters, vocabulary \(corpus.vocabulary.count)")
                print("model: \(config.cell) \(config.layers)×\(config.hiddenSize), \(model.parameterCount) parameters; batch \(batch)×\(seqLen), "
                      + "\(options.training.update.summary) lr \(options.training.learningRate)")
                let task = try LanguageModelTask(model: model, corpus: corpus, settings: options.task, evaluationStreams: batch)
                let (final, trainer) = try training.train(task, options: options.training, resumeArguments: ["charlm", "--data", data])
                let best = trainer.best?.evaluation ?? .nan
                print(String(format: "validation loss %.4f nats/char (%.4f bits/char); best %.4f. Run folder: %@",
                             final, final / M_LN2, best, trainer.folder.url.path))
            }
        }
    }
}
