import ArgumentParser
import Foundation
import Recurrent
import RecurrentPresentation

@main
struct RecurrentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recurrent",
        abstract: "Train, sample and inspect recurrent neural networks (RNN, LSTM, GRU, Jordan).",
        discussion: """
        Example:
          recurrent train charlm --data Examples/data/tinyshakespeare/input.txt --minutes 1 --out runs/demo
          recurrent sample --checkpoint runs/demo/best.safetensors --prime "ROMEO:" --length 300
          recurrent train forecast --data Examples/data/co2/co2_mm_mlo.txt --out runs/co2
          recurrent predict forecast --checkpoint runs/co2/best.safetensors --data Examples/data/co2/co2_mm_mlo.txt --horizon 12
          recurrent train tag --data Examples/data/snips --epochs 6 --out runs/snips
          echo "play some jazz on spotify" | recurrent predict tag --checkpoint runs/snips/best.safetensors
          recurrent bench lstm-256-b32-t50
        """,
        subcommands: [Train.self, Sample.self, Eval.self, Predict.self, Translate.self, Diagnose.self, Experiment.self, Bench.self,
                      Import.self, Export.self]
    )

    /// Parses the command line after expanding `--config FILE` into the options it holds.
    static func main() {
        ProcessEnvironment.reexecuteWithLibrarySettings()   // OpenBLAS's idle workers must not take the split steps' core
        ProcessEnvironment.exitIfInstructionSetIsInvalid()  // RECURRENT_ISA names a kernel path this processor runs, or none
        let arguments: [String]
        do {
            arguments = try ConfigFile.expand(Array(CommandLine.arguments.dropFirst()))
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            Foundation.exit(1)
        }
        main(arguments)
    }
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
