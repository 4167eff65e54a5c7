import ArgumentParser
import Foundation
import Recurrent

extension RecurrentCommand {
    struct Train: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train a model on a data set.",
            subcommands: [CharLM.self, Classify.self, Forecast.self, Tag.self]
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
            Example:
              recurrent train charlm --data Examples/data/tinyshakespeare/input.txt --hidden 256 --layers 2 --minutes 10 --out runs/shakespeare
            """
        )

        @Option(help: "UTF-8 text file to learn from.") var data: String
        @Option(help: "Recurrent cell: lstm, gru or rnn.") var cell = "lstm"
        @Option(help: "Hidden units per layer.") var hidden = 256
        @Option(help: "Stacked recurrent layers.") var layers = 2
        @Option(help: "Character embedding size.") var embedding = 64
        @Option(help: "Dropout between recurrent layers (train mode).") var dropout = 0.0
        @Option(help: "Adam learning rate.") var lr = 2e-3
        @Option(name: .customLong("clip-norm"), help: "Clip the global gradient norm to this value.") var clipNorm = 5.0
        @Option(help: "Training steps (batches).") var steps = 100_000
        @Option(help: "Stop after this many minutes (0: run all steps).") var minutes = 0.0
        @Option(help: "Sequences per batch.") var batch = 32
        @Option(name: .customLong("seq-len"), help: "Characters per sequence (BPTT length).") var seqLen = 64
        @Option(name: .customLong("eval-every"), help: "Evaluate and checkpoint every N steps.") var evalEvery = 200
        @Option(help: "Random seed (same seed, same run).") var seed: UInt64 = 1
        @Option(help: "Run folder.") var out = "runs/charlm"

        func validate() throws {
            guard LanguageModelConfig.cells.contains(cell) else { throw ValidationError("--cell must be one of \(LanguageModelConfig.cells.joined(separator: ", ")), got '\(cell)'") }
            guard hidden > 0, layers > 0, embedding > 0, batch > 0, seqLen > 0, steps > 0, evalEvery > 0 else {
                throw ValidationError("--hidden, --layers, --embedding, --batch, --seq-len, --steps and --eval-every must be positive")
            }
            guard lr > 0, lr.isFinite else { throw ValidationError("--lr must be a positive number, got \(lr)") }
            guard clipNorm > 0 else { throw ValidationError("--clip-norm must be positive, got \(clipNorm)") }
            guard dropout >= 0, dropout < 1 else { throw ValidationError("--dropout must be in [0, 1), got \(dropout)") }
            guard minutes >= 0 else { throw ValidationError("--minutes must not be negative") }
        }

        func run() throws {
            try reportingErrors {
                let corpus = try TextCorpus(path: data, minimumLength: seqLen + 1)
                let config = LanguageModelConfig(vocabularySize: corpus.vocabulary.count, embeddingSize: embedding, hiddenSize: hidden,
                                                 layers: layers, cell: cell, dropout: dropout)
                let model = LanguageModel(config, seed: seed)
                var options = LanguageModelTrainingOptions()
                options.steps = steps; options.minutes = minutes; options.batch = batch; options.seqLen = seqLen
                options.learningRate = lr; options.clipNorm = clipNorm; options.evalEvery = evalEvery; options.seed = seed
                print("charlm: \(corpus.train.count) training and \(corpus.validation.count) validation characters, vocabulary \(corpus.vocabulary.count)")
                print("model: \(cell) \(layers)×\(hidden), \(model.parameterCount) parameters; batch \(batch)×\(seqLen), Adam lr \(lr)")
                let trainer = LanguageModelTrainer(model: model, corpus: corpus, options: options, runFolder: URL(fileURLWithPath: out))
                let final = try trainer.run()
                print(String(format: "validation loss %.4f nats/char (%.4f bits/char); best %.4f. Run folder: %@",
                             final, final / M_LN2, trainer.bestValidationLoss, out))
            }
        }
    }
}
