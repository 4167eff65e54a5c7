import ArgumentParser

extension RecurrentCommand {
    /// `recurrent eval <task>`: score a checkpoint on held-out data.
    struct Eval: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Score a trained model on the test split of a data set.",
            subcommands: [CharLM.self, Classify.self, ClassifySeries.self, Forecast.self, Tag.self, Translate.self]
        )
    }
}
