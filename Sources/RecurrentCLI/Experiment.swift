import ArgumentParser
import Foundation
import Recurrent
import RecurrentPresentation

extension RecurrentCommand {
    /// `recurrent experiment`: the benchmark runs behind docs/GRADIENTS.md.
    struct Experiment: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the documented experiments (long-range memory sweep, clipping demonstration).",
            subcommands: [Memory.self, Clipping.self]
        )
    }
}

/// "10,50,100" → [10, 50, 100].
private func integers(_ text: String, _ flag: String) throws -> [Int] {
    let parts = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
    let values = parts.compactMap { Int($0) }
    guard !parts.isEmpty, values.count == parts.count else { throw ValidationError("\(flag) must be comma-separated integers, got '\(text)'") }
    return values
}

extension RecurrentCommand.Experiment {
    /// `recurrent experiment memory`: every cell on the adding problem at every lag, same budget.
    struct Memory: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train RNN, LSTM, GRU and Jordan on the adding problem at several lags with the same budget.",
            discussion: """
            Writes one run folder per cell and lag, then results.csv, table.md (validation MSE per cell and lag against the 1/6
            baseline), mse_vs_lag.svg and, per lag, gradients_lag<L>.svg / gradients_init_lag<L>.svg (normalised ‖∂L/∂h_t‖
            against the distance, trained and at initialisation) into --out.
            Example:
              recurrent experiment memory --lags 10,50,100,200 --steps 3000 --out runs/memory
            """
        )

        @Option(help: "Cells, comma-separated (rnn, lstm, gru, jordan).") var cells = CellList([.rnn, .lstm, .gru, .jordan])
        @Option(help: "Sequence lengths, comma-separated.") var lags = "10,50,100,200"
        @Option(help: "Hidden units.") var hidden = 32
        @Option(help: "Updates per run.") var steps = 3000
        @Option(help: "Sequences per batch.") var batch = 32
        @Option(help: "Adam learning rate.") var lr = 1e-2
        @Option(name: .customLong("clip-norm"), help: "Clip the global gradient norm to this value (0: off).") var clipNorm = 1.0
        @Option(name: .customLong("eval-every"), help: "Evaluate every N steps.") var evalEvery = 250
        @Option(name: .customLong("validation-size"), help: "Validation sequences.") var validationSize = 256
        @Option(help: "Random seed.") var seed: UInt64 = 1
        @Option(help: "Output folder.") var out = "runs/memory"

        func run() throws {
            try reportingErrors {
                var training = TrainingOptions(schedule: .steps(steps, evaluateEvery: evalEvery), batch: batch, learningRate: lr, clipNorm: clipNorm)
                training.seed = seed
                let sweep = MemorySweep(cells: cells.cells,
                                        lags: try integers(lags, "--lags"), hiddenSize: hidden, training: training,
                                        settings: MemoryTaskTraining.Settings(validationSize: validationSize), folder: URL(fileURLWithPath: out))
                try sweep.validate()
                let started = Date()
                _ = try sweep.run()
                print(try String(contentsOf: URL(fileURLWithPath: out).appendingPathComponent("table.md"), encoding: .utf8))
                print(String(format: "%.0f s in all. Results in %@", Date().timeIntervalSince(started), out))
            }
        }
    }

    /// `recurrent experiment clipping`: a large-radius tanh RNN with and without clipping.
    struct Clipping: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train a tanh RNN with a large-spectral-radius init with plain SGD, without and with global-norm clipping.",
            discussion: """
            Writes unclipped/ and clipped/ run folders and clipping.svg (both training-loss curves, log scale) into --out.
            Example:
              recurrent experiment clipping --radius 3 --out runs/clipping
            """
        )

        @Option(help: "Spectral radius of the recurrent weights' initialisation.") var radius = 3.0
        @Option(help: "Adding-problem sequence length.") var lag = 10
        @Option(help: "Hidden units.") var hidden = 32
        @Option(help: "Updates per run.") var steps = 2000
        @Option(help: "Sequences per batch.") var batch = 32
        @Option(help: "SGD learning rate.") var lr = 0.05
        @Option(name: .customLong("clip-norm"), help: "Threshold of the clipped run.") var clipNorm = 1.0
        @Option(help: "Random seed.") var seed: UInt64 = 1
        @Option(help: "Output folder.") var out = "runs/clipping"

        func run() throws {
            try reportingErrors {
                var training = TrainingOptions(schedule: .steps(steps, evaluateEvery: max(1, steps / 100)), batch: batch, learningRate: lr, clipNorm: 0)
                training.update = UpdateRule(optimizer: .sgd)
                training.seed = seed
                let config = MemoryTaskConfig(task: .adding, cell: .rnn, hiddenSize: hidden, lag: lag, initRadius: radius)
                let demo = ClippingDemo(config: config, training: training, clipNorm: clipNorm, folder: URL(fileURLWithPath: out))
                let (unclipped, clipped) = try demo.run()
                for (name, r) in [("no clipping", unclipped), (String(format: "clip-norm %g", clipNorm), clipped)] {
                    print(String(format: "%@: %@validation MSE %.4f (baseline %.4f), best %.4f, clipped %d of %d updates",
                                 name, r.divergedAtStep.map { "diverged (NaN) at step \($0); " } ?? "", r.validationLoss, r.baselineLoss,
                                 r.bestValidationLoss, r.clippedSteps, r.steps))
                }
                print("picture: \(out)/clipping.svg")
            }
        }
    }
}

/// `--cells rnn,lstm`: cell kinds, comma-separated; an unknown name is refused with the valid ones.
struct CellList: ExpressibleByArgument {
    let cells: [CellKind]
    init(_ cells: [CellKind]) { self.cells = cells }
    init?(argument: String) {
        let kinds = argument.split(separator: ",").map { CellKind(rawValue: $0.trimmingCharacters(in: .whitespaces)) }
        guard !kinds.isEmpty, kinds.allSatisfy({ $0 != nil }) else { return nil }
        cells = kinds.map { $0! }
    }
    var defaultValueDescription: String { cells.map(\.rawValue).joined(separator: ",") }
}
