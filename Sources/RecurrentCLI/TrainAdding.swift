import ArgumentParser
import Foundation
import Recurrent

/// Options shared by `train adding` and `train copy`.
struct MemoryTrainingArguments: ParsableArguments {
    @Option(help: "Recurrent cell: rnn (tanh), lstm, gru or jordan.") var cell = "lstm"
    @Option(help: "Hidden units per layer.") var hidden = 64
    @Option(help: "Stacked recurrent layers.") var layers = 1
    @Option(help: "Updates (each on a freshly drawn batch).") var steps = 2000
    @Option(help: "Sequences per batch.") var batch = 32
    @Option(help: "Learning rate.") var lr = 1e-3
    @Option(name: .customLong("clip-norm"), help: "Clip the global gradient norm to this value (0: off).") var clipNorm = 1.0
    @Option(name: .customLong("init-radius"), help: "Draw each recurrent weight block N(0, r²/H) (spectral radius ≈ r) instead of PyTorch's uniform init.")
    var initRadius: Double?
    @Option(name: .customLong("eval-every"), help: "Evaluate, log and checkpoint every N steps.") var evalEvery = 100
    @Option(name: .customLong("validation-size"), help: "Sequences in the fixed validation set.") var validationSize = 256
    @Option(help: "Random seed (same seed, same run).") var seed: UInt64 = 1
    @OptionGroup var update: UpdateRuleOptions
    @OptionGroup var configFile: ConfigFileOption

    func validate() throws {
        guard MemoryTaskConfig.cells.contains(cell) else { throw ValidationError("--cell must be one of \(MemoryTaskConfig.cells.joined(separator: ", ")), got '\(cell)'") }
        guard hidden > 0, layers > 0, steps > 0, batch > 0, evalEvery > 0, validationSize > 0 else {
            throw ValidationError("--hidden, --layers, --steps, --batch, --eval-every and --validation-size must be positive")
        }
        guard hidden <= 65_536, layers <= 64, batch <= 1_000_000, validationSize <= 1_000_000 else {
            throw ValidationError("--hidden, --layers, --batch or --validation-size is too large")
        }
        guard lr > 0, lr.isFinite else { throw ValidationError("--lr must be a positive number, got \(lr)") }
        guard clipNorm >= 0, clipNorm.isFinite else { throw ValidationError("--clip-norm must not be negative, got \(clipNorm)") }
        if let r = initRadius, !(r > 0 && r <= 1000) { throw ValidationError("--init-radius must be in (0, 1000], got \(r)") }
    }

    var options: MemoryTaskOptions {
        var o = MemoryTaskOptions()
        o.steps = steps; o.batch = batch; o.learningRate = lr; o.update = update.rule; o.clipNorm = clipNorm
        o.evalEvery = evalEvery; o.validationSize = validationSize; o.seed = seed
        return o
    }

    /// Builds, trains and reports a memory-task model.
    func train(_ config: MemoryTaskConfig, out: String) throws {
        try config.validate()
        let options = self.options
        try options.validate()
        let folder = URL(fileURLWithPath: out)
        try configFile.echo(into: folder)
        try MemoryEstimate.requireTraining(parameters: config.minimumParameterCount, for: "a \(config.layers)×\(config.hiddenSize) \(config.cell)")
        let model = MemoryTaskModel(config, seed: seed)
        print("\(config.task): \(describe(model.task)); baseline loss \(String(format: "%.4f", model.task.baselineLoss))")
        print("model: \(cell) \(layers)×\(hidden), \(model.parameterCount) parameters; batch \(batch), \(options.update.summary) lr \(lr), "
              + (clipNorm > 0 ? "clip-norm \(clipNorm)" : "no norm clipping") + ", \(steps) steps")
        let trainer = MemoryTaskTrainer(model: model, options: options, runFolder: folder)
        let result = try trainer.run()
        let accuracy = result.validationAccuracy.map { String(format: ", recall accuracy %.1f %%", 100 * $0) } ?? ""
        print(String(format: "validation loss %.5f (baseline %.4f)%@; best %.5f; clipping fired in %d of %d updates; %.1f s. Run folder: %@",
                     result.validationLoss, result.baselineLoss, accuracy, result.bestValidationLoss, result.clippedSteps, result.steps,
                     result.seconds, out))
    }

    func describe(_ task: MemoryTask) -> String {
        switch task {
        case let .adding(a): "sequences of \(a.length) (value, marker) pairs, target the sum of the two marked values"
        case let .copy(c): "\(c.length) symbols of \(c.symbols), recalled after a delay of \(c.delay) (\(c.steps) steps)"
        }
    }
}

extension RecurrentCommand.Train {
    /// `recurrent train adding`: the adding problem (Hochreiter & Schmidhuber 1997).
    struct Adding: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "adding",
            abstract: "Train on the adding problem: output the sum of the two marked numbers of a long sequence.",
            discussion: """
            Each sequence has --lag steps of (value in [0, 1), marker); one marker lies in the first half and one in the
            second, and the target is the sum of the two marked values. Predicting the mean scores MSE 1/6 ≈ 0.167; a model
            that carries the first value across the gap goes far below. Batches are drawn fresh at every step.
            Writes config.json, options.json, metrics.csv (with the gradient norm and how many updates clipping scaled down),
            best.safetensors, last.safetensors and result.json into --out.
            Example:
              recurrent train adding --cell lstm --lag 100 --steps 2000 --out runs/adding-lstm
            """
        )

        @Option(help: "Sequence length T (the first marked value must be kept for at least T/2 steps).") var lag = 100
        @OptionGroup var training: MemoryTrainingArguments
        @Option(help: "Run folder.") var out = "runs/adding"

        func validate() throws {
            guard lag >= 2, lag <= 1_000_000 else { throw ValidationError("--lag must be in 2...1000000, got \(lag)") }
        }

        func run() throws {
            try reportingErrors {
                try training.train(MemoryTaskConfig(task: "adding", cell: training.cell, hiddenSize: training.hidden, layers: training.layers,
                                                    lag: lag, initRadius: training.initRadius), out: out)
            }
        }
    }
}
