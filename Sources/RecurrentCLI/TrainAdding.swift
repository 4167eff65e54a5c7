import ArgumentParser
import Foundation
import Recurrent

/// Options shared by `train adding` and `train copy`.
struct MemoryTrainingArguments: ParsableArguments {
    @Option(help: "Recurrent cell: rnn (tanh), lstm, gru or jordan.") var cell = CellKind.lstm
    @Option(help: "Hidden units per layer.") var hidden = 64
    @Option(help: "Stacked recurrent layers.") var layers = 1
    @Option(name: .customLong("init-radius"), help: "Draw each recurrent weight block N(0, r²/H) (spectral radius ≈ r) instead of PyTorch's uniform init.")
    var initRadius: Double?
    @Option(name: .customLong("eval-every"), help: "Evaluate, log and checkpoint every N steps.") var evalEvery = 100
    @Option(name: .customLong("validation-size"), help: "Sequences in the fixed validation set.") var validationSize = 256
    @OptionGroup var training: TrainingArguments

    func validate() throws {
        guard hidden > 0, layers > 0, evalEvery > 0, validationSize > 0 else {
            throw ValidationError("--hidden, --layers, --steps, --batch, --eval-every and --validation-size must be positive")
        }
        guard hidden <= 65_536, layers <= 64, (training.batch ?? 1) <= 1_000_000, validationSize <= 1_000_000 else {
            throw ValidationError("--hidden, --layers, --batch or --validation-size is too large")
        }
        if let r = initRadius, !(r > 0 && r <= 1000) { throw ValidationError("--init-radius must be in (0, 1000], got \(r)") }
    }

    /// Builds, trains and reports a memory-task model (`config`'s task is the run's task); `arguments` are the task's own, for the resume command.
    func train(_ config: MemoryTaskConfig, arguments: [String]) throws {
        var defaults = MemoryTaskTraining.defaultOptions
        defaults.schedule = .steps(2000, evaluateEvery: evalEvery)
        let options = try training.runOptions(config.task.rawValue, defaults: defaults, settings: MemoryTaskTraining.Settings(validationSize: validationSize))
        let config = try training.savedConfig(MemoryTaskConfig.self, task: config.task.rawValue) { try $0.validate() } ?? config
        try config.validate()
        try MemoryEstimate.requireTraining(parameters: config.minimumParameterCount, for: "a \(config.layers)×\(config.hiddenSize) \(config.cell)")
        let model = MemoryTaskModel(config, seed: options.training.seed)
        let o = options.training
        print("\(config.task): \(describe(model.task)); baseline loss \(String(format: "%.4f", model.task.baselineLoss))")
        print("model: \(config.cell) \(config.layers)×\(config.hiddenSize), \(model.parameterCount) parameters; \(RecurrentCLI.describe(o)), "
              + (o.clipNorm > 0 ? "clip-norm \(o.clipNorm)" : "no norm clipping"))
        let task = try MemoryTaskTraining(model: model, settings: options.task, seed: o.seed)
        let (result, trainer) = try training.train(task, options: o, resumeArguments: [config.task.rawValue] + arguments)
        let accuracy = result.validationAccuracy.map { String(format: ", recall accuracy %.1f %%", 100 * $0) } ?? ""
        print(String(format: "validation loss %.5f (baseline %.4f)%@; best %.5f; clipping fired in %d of %d updates; %.1f s. Run folder: %@",
                     result.validationLoss, result.baselineLoss, accuracy, result.bestValidationLoss, result.clippedSteps, result.steps,
                     result.seconds, trainer.folder.url.path))
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
            best.safetensors, last.safetensors and result.json into --out. Defaults: 2000 steps, batch 32, lr 0.001, clip-norm 1.
            Example:
              recurrent train adding --cell lstm --lag 100 --steps 2000 --out runs/adding-lstm
            """
        )

        @Option(help: "Sequence length T (the first marked value must be kept for at least T/2 steps).") var lag = 100
        @OptionGroup var training: MemoryTrainingArguments

        func validate() throws {
            guard lag >= 2, lag <= 1_000_000 else { throw ValidationError("--lag must be in 2...1000000, got \(lag)") }
        }

        func run() throws {
            try reportingErrors {
                try training.train(MemoryTaskConfig(task: .adding, cell: training.cell, hiddenSize: training.hidden, layers: training.layers,
                                                    lag: lag, initRadius: training.initRadius), arguments: ["--lag", "\(lag)"])
            }
        }
    }
}
