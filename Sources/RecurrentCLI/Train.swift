import ArgumentParser
import Foundation
import Recurrent

extension RecurrentCommand {
    struct Train: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train a model on a data set.",
            subcommands: [CharLM.self, Classify.self, Forecast.self, Tag.self, Translate.self, Adding.self, Copy.self]
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
        @Option(help: "Recurrent cell: lstm, gru, rnn (tanh) or jordan.") var cell = "lstm"
        @Option(help: "Hidden units per layer.") var hidden = 256
        @Option(help: "Stacked recurrent layers.") var layers = 2
        @Option(help: "Character embedding size.") var embedding = 64
        @Option(help: "Dropout between recurrent layers (train mode).") var dropout = 0.0
        @Option(help: "Learning rate.") var lr = 2e-3
        @Option(name: .customLong("clip-norm"), help: "Clip the global gradient norm to this value (0: off).") var clipNorm = 5.0
        @Option(help: "Training steps (batches); default 100000.") var steps: Int?
        @Option(help: "Instead of --steps: passes over the training characters (steps = epochs × characters / (batch × seq-len)).") var epochs: Double?
        @Option(help: "Stop after this many minutes (0: run all steps; with --resume, minutes from now).") var minutes: Double?
        @Option(help: "Sequences per batch.") var batch = 32
        @Option(name: .customLong("seq-len"), help: "Characters per sequence (BPTT length).") var seqLen = 64
        @Option(name: .customLong("eval-every"), help: "Evaluate and checkpoint every N steps.") var evalEvery = 200
        @Option(help: "Random seed (same seed, same run).") var seed: UInt64 = 1
        @Option(help: "Run folder.") var out = "runs/charlm"
        @Flag(help: "Continue the run in --out from its last checkpoint, with its saved options (--steps and --minutes may change); gives the numbers an uninterrupted run gives.")
        var resume = false
        @OptionGroup var update: UpdateRuleOptions
        @OptionGroup var configFile: ConfigFileOption

        func validate() throws {
            guard LanguageModelConfig.cells.contains(cell) else { throw ValidationError("--cell must be one of \(LanguageModelConfig.cells.joined(separator: ", ")), got '\(cell)'") }
            guard hidden > 0, layers > 0, embedding > 0, batch > 0, seqLen > 0, (steps ?? 1) > 0, evalEvery > 0 else {
                throw ValidationError("--hidden, --layers, --embedding, --batch, --seq-len, --steps and --eval-every must be positive")
            }
            guard lr > 0, lr.isFinite else { throw ValidationError("--lr must be a positive number, got \(lr)") }
            guard clipNorm >= 0, clipNorm.isFinite else { throw ValidationError("--clip-norm must not be negative, got \(clipNorm)") }
            guard isDropoutProbability(dropout) else { throw ValidationError("--dropout must be in [0, 1) in single precision, got \(dropout)") }
            guard (minutes ?? 0) >= 0 else { throw ValidationError("--minutes must not be negative") }
            guard (epochs ?? 1) > 0, (epochs ?? 1) <= 1e6 else { throw ValidationError("--epochs must be in (0, 1000000]") }
            guard steps == nil || epochs == nil else { throw ValidationError("give --steps or --epochs, not both") }
        }

        func run() throws {
            try reportingErrors {
                let folder = URL(fileURLWithPath: out)
                var options = LanguageModelTrainingOptions()
                var config: LanguageModelConfig
                let corpus: TextCorpus
                if resume {
                    // The saved options and config, so the continued run is the same run.
                    options = try readOptions(LanguageModelTrainingOptions(), folder.appendingPathComponent("options.json"))
                    config = try readJSON(LanguageModelConfig.self, folder.appendingPathComponent("config.json"))
                    try config.validate()
                    try config.requireResumable(from: folder.appendingPathComponent("last.safetensors"))
                    try options.validate()
                    corpus = try TextCorpus(path: data, minimumLength: options.seqLen + 1)
                } else {
                    try configFile.echo(into: folder)
                    corpus = try TextCorpus(path: data, minimumLength: seqLen + 1)
                    config = LanguageModelConfig(vocabularySize: corpus.vocabulary.count, embeddingSize: embedding, hiddenSize: hidden,
                                                 layers: layers, cell: cell, dropout: dropout)
                    options.batch = batch; options.seqLen = seqLen; options.learningRate = lr; options.update = update.rule; options.clipNorm = clipNorm
                    options.evalEvery = evalEvery; options.seed = seed; options.steps = 100_000
                }
                if let steps { options.steps = steps }
                if let epochs { options.steps = max(1, Int((epochs * Double(corpus.train.count) / Double(options.batch * options.seqLen)).rounded(.up))) }
                options.minutes = minutes ?? (resume ? options.minutes : 0)
                try config.validate()
                try MemoryEstimate.requireTraining(parameters: config.minimumParameterCount,
                                                   activations: config.batchActivations(batch: options.batch, steps: options.seqLen),
                                                   for: "a \(config.layers)×\(config.hiddenSize) \(config.cell) with batches of \(options.batch)×\(options.seqLen)")
                let model = LanguageModel(config, seed: options.seed)
                let (cell, layers, hidden, batch, seqLen, lr) = (config.cell, config.layers, config.hiddenSize, options.batch, options.seqLen, options.learningRate)
                print("charlm: \(corpus.train.count) training and \(corpus.validation.count) validation characters, vocabulary \(corpus.vocabulary.count)")
                print("model: \(cell) \(layers)×\(hidden), \(model.parameterCount) parameters; batch \(batch)×\(seqLen), \(options.update.summary) lr \(lr)")
                let trainer = LanguageModelTrainer(model: model, corpus: corpus, options: options, runFolder: folder)
                trainer.onNonFinite = update.nonFinitePolicy
                // SIGINT/SIGTERM end the run between steps with a checkpoint instead of killing it mid-way.
                StopSignal.shared.install()
                trainer.stopRequested = { StopSignal.shared.isRequested }
                let final = try trainer.run(resume: resume)
                if let stopped = trainer.stoppedAtStep {
                    let signal = StopSignal.shared.receivedSignal ?? SIGINT
                    let resumeCommand = ["recurrent", "train", "charlm", "--data", data, "--out", out, "--resume"].map(shellQuoted).joined(separator: " ")
                    FileHandle.standardError.write(Data("""

                        \(StopSignal.name(signal)) received: stopped after step \(stopped); the run is saved in \(folder.appendingPathComponent("last.safetensors").path).
                        Resume with: \(resumeCommand)

                        """.utf8))
                    throw ExitCode(128 + signal)
                }
                print(String(format: "validation loss %.4f nats/char (%.4f bits/char); best %.4f. Run folder: %@",
                             final, final / M_LN2, trainer.bestValidationLoss, out))
            }
        }
    }
}

/// Decodes a JSON file of a run folder, with a message naming the file when it is missing or malformed.
func readJSON<T: Decodable>(_ type: T.Type, _ url: URL) throws -> T {
    guard let data = FileManager.default.contents(atPath: url.path) else {
        throw ValidationError("cannot resume: \(url.path) does not exist")
    }
    do { return try JSONDecoder().decode(type, from: data) } catch {
        throw ValidationError("cannot resume: \(url.path) is not a valid \(type) file")
    }
}

/// Decodes the options.json of a run folder over `defaults`, so options added since the run was
/// started take their default values instead of making the file unreadable.
func readOptions<T: Codable>(_ defaults: T, _ url: URL) throws -> T {
    guard let data = FileManager.default.contents(atPath: url.path) else {
        throw ValidationError("cannot resume: \(url.path) does not exist")
    }
    func merged(_ base: Any, _ saved: Any) -> Any {
        guard let b = base as? [String: Any], let s = saved as? [String: Any] else { return saved }
        return b.merging(s) { merged($0, $1) }
    }
    do {
        let base = try JSONSerialization.jsonObject(with: JSONEncoder().encode(defaults))
        let saved = try JSONSerialization.jsonObject(with: data)
        guard saved is [String: Any] else { throw ValidationError("not an object") }
        return try JSONDecoder().decode(T.self, from: JSONSerialization.data(withJSONObject: merged(base, saved)))
    } catch {
        throw ValidationError("cannot resume: \(url.path) is not a valid \(T.self) file")
    }
}

/// `text` as one shell word (single-quoted unless it is made of safe characters), for commands we print.
func shellQuoted(_ text: String) -> String {
    let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%")
    if !text.isEmpty, text.allSatisfy(safe.contains) { return text }
    return "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
}

/// Runs an epoch-based training run with SIGINT/SIGTERM turned into a stop between steps: the run
/// ends with the message saying how to resume and exit status 128 + signal, keeping `last.safetensors`
/// (the completed epochs) intact.
func withStopHandling<T>(task: String, data: String, out: String, _ body: (@escaping () -> Bool) throws -> T) throws -> T {
    try withStopHandling(arguments: [task, "--data", data, "--out", out, "--resume"], out: out, body)
}

/// `withStopHandling` for a task whose resume command is `recurrent train` + `arguments`.
func withStopHandling<T>(arguments: [String], out: String, _ body: (@escaping () -> Bool) throws -> T) throws -> T {
    StopSignal.shared.install()
    do {
        return try body { StopSignal.shared.isRequested }
    } catch TrainingError.stopped(let epoch) {
        let signal = StopSignal.shared.receivedSignal ?? SIGINT
        let resumeCommand = (["recurrent", "train"] + arguments).map(shellQuoted).joined(separator: " ")
        let saved = epoch > 1 ? "epochs 1–\(epoch - 1) are saved in \(URL(fileURLWithPath: out).appendingPathComponent("last.safetensors").path)"
                              : "no epoch was completed, so there is nothing to resume yet"
        FileHandle.standardError.write(Data("""

            \(StopSignal.name(signal)) received: stopped during epoch \(epoch); \(saved).
            Resume with: \(resumeCommand)

            """.utf8))
        throw ExitCode(128 + signal)
    }
}
