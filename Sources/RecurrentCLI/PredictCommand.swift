import ArgumentParser

extension RecurrentCommand {
    /// `recurrent predict <task>`: run a checkpoint on new input.
    struct Predict: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a trained model on new input.",
            subcommands: [Classify.self]
        )
    }
}
