import ArgumentParser
import Foundation
import Recurrent

extension RecurrentCommand.Train {
    /// `recurrent train copy`: the copy (recall) task.
    struct Copy: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "copy",
            abstract: "Train on the copy task: remember a few symbols across a delay and recall them after a cue.",
            discussion: """
            Each sequence shows --length symbols drawn from --symbols, then --delay blanks, then a cue; in the --length steps after
            the cue the model must output the symbols in order. The loss is the cross-entropy at those recall steps; guessing
            scores log(--symbols) nats and accuracy 1/--symbols. Writes the same files as `train adding`.
            Example:
              recurrent train copy --cell gru --delay 50 --steps 2000 --out runs/copy-gru
            """
        )

        @Option(help: "Blank steps between the last symbol and the cue.") var delay = 50
        @Option(help: "Alphabet size K.") var symbols = 8
        @Option(help: "Symbols to remember per sequence.") var length = 10
        @OptionGroup var training: MemoryTrainingArguments

        func validate() throws {
            guard delay >= 0, delay <= 1_000_000 else { throw ValidationError("--delay must be in 0...1000000, got \(delay)") }
            guard symbols >= 1, symbols <= 1000 else { throw ValidationError("--symbols must be in 1...1000, got \(symbols)") }
            guard length >= 1, length <= 10_000 else { throw ValidationError("--length must be in 1...10000, got \(length)") }
        }

        func run() throws {
            try reportingErrors {
                try training.train(MemoryTaskConfig(task: .copy, cell: training.cell, hiddenSize: training.hidden, layers: training.layers,
                                                    lag: delay, symbols: symbols, copyLength: length, initRadius: training.initRadius),
                                   arguments: ["--delay", "\(delay)", "--symbols", "\(symbols)", "--length", "\(length)"])
            }
        }
    }
}
