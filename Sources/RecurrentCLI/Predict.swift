import ArgumentParser

extension RecurrentCommand {
    /// `recurrent predict <task>`: apply a trained model to new input.
    struct Predict: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Apply a trained model to new input.",
            subcommands: [Classify.self, ClassifySeries.self, Forecast.self, Tag.self]
        )
    }
}
