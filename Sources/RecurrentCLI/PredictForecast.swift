import ArgumentParser
import Foundation
import Recurrent

extension RecurrentCommand.Predict {
    /// `recurrent predict forecast`: the steps after the end of a series.
    struct Forecast: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "forecast",
            abstract: "Forecast the steps after the end of a series with a checkpoint of `recurrent train forecast`.",
            discussion: """
            The model gives the H steps it was trained for at once (--horizon of training); a longer --horizon appends
            them and forecasts again (only without covariates, whose future is unknown).
            Prints CSV: step, date (continuing the date column, empty without one), forecast.
            Example:
              recurrent predict forecast --checkpoint runs/co2/best.safetensors --data Examples/data/co2/co2_mm_mlo.txt --horizon 12
            """
        )

        @Option(help: "Checkpoint written by `recurrent train forecast`.") var checkpoint: String
        @OptionGroup var input: ForecastDataArguments
        @Option(help: "Steps to forecast (default: the horizon the model was trained for).") var horizon: Int?

        func validate() throws {
            if let horizon { guard horizon >= 1, horizon <= 100_000 else { throw ValidationError("--horizon must be in 1...100000, got \(horizon)") } }
        }

        func run() throws {
            try reportingErrors {
                let data = input.data
                let model = try Forecaster.load(from: URL(fileURLWithPath: checkpoint))
                let series = try TimeSeriesReader.read(path: data, reading: input.reading(over: model.config))
                guard series.covariates.count == model.config.inputCount - 1 else {
                    throw ValidationError("the model was trained on \(model.config.inputCount) input columns; --columns gives \(series.covariates.count + 1)")
                }
                let steps = horizon ?? model.config.steps
                if steps > model.config.steps, model.config.inputCount > 1 {
                    throw ValidationError("--horizon \(steps) exceeds the trained horizon \(model.config.steps), and a model with covariates cannot feed its forecasts back (their future is unknown)")
                }
                let needed = model.config.window + (model.config.target == .difference ? 1 : 0)
                guard series.values.count >= needed else {
                    throw DataError.tooFewValues(path: data, needed: needed, found: series.values.count, reason: "the model's window of \(model.config.window)")
                }
                let values = model.forecast(history: series.values, covariates: series.covariates, horizon: steps)
                var lines = ["step,date,forecast"]
                for (i, v) in values.enumerated() { lines.append("\(i + 1),\(series.label(after: i + 1)),\(String(format: "%.4f", v))") }
                print(lines.joined(separator: "\n"))
            }
        }
    }
}
