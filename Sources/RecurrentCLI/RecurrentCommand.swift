import ArgumentParser
import Foundation
import Recurrent

@main
struct RecurrentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recurrent",
        abstract: "Train, sample and inspect recurrent neural networks (RNN, LSTM, GRU, Jordan).",
        discussion: """
        Example:
          recurrent train charlm --data Examples/data/tinyshakespeare/input.txt --minutes 1 --out runs/demo
          recurrent sample --checkpoint runs/demo/best.safetensors --prime "ROMEO:" --length 300
        """,
        subcommands: [Train.self, Sample.self, Eval.self, Predict.self]
    )
}

/// Runs `body`, turning any error into a one-line message on stderr and exit status 1 (never a stack trace).
func reportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as ExitCode {
        throw error
    } catch {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        throw ExitCode.failure
    }
}
