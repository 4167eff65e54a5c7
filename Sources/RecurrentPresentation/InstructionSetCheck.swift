import Foundation
import RecurrentTensor

extension ProcessEnvironment {
    /// Exits with status 1 and a message on standard error when `RECURRENT_ISA` names no kernel path or one this
    /// processor lacks (`InstructionSet.validateEnvironment`); the library alone would run the detected path instead.
    /// The programs `recurrent` and `recurrent-bench` call it at the top of `main`.
    public static func exitIfInstructionSetIsInvalid() {
        do {
            try InstructionSet.validateEnvironment()
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            exit(1)
        }
    }
}
