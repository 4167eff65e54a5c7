import ArgumentParser
import Foundation
import Recurrent

extension RecurrentCommand.Predict {
    /// `recurrent predict forecast`: recursive multi-step forecast after the end of a series.
    struct Forecast: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "forecast",
            abstract: "Forecast the steps after the end of a series with a checkpoint of `recurrent train forecast`.",
            discussion: """
            Each predicted value is appended to the series and fed back for the next step (recursive forecast).
            Prints CSV: step, date (the months after the last one when the series is labelled YYYY-MM, else empty), forecast.
            Example:
              recurrent predict forecast --checkpoint runs/co2/best.safetensors --data Examples/data/co2/co2_mm_mlo.txt --horizon 12
            """
        )

        @Option(help: "Checkpoint written by `recurrent train forecast`.") var checkpoint: String
        @Option(help: "Series to continue (same format as for training).") var data: String
        @Option(help: "Value column (default: the one the model was trained on).") var column: String?
        @Option(help: "Steps to forecast.") var horizon = 12

        func validate() throws {
            guard horizon >= 1, horizon <= 100_000 else { throw ValidationError("--horizon must be in 1...100000, got \(horizon)") }
        }

        func run() throws {
            try reportingErrors {
                let model = try Forecaster.load(from: URL(fileURLWithPath: checkpoint))
                let series = try TimeSeriesReader.read(path: data, column: (column ?? model.config.column).map(TimeSeriesColumn.init(parsing:)))
                let needed = model.config.window + (model.config.target == .difference ? 1 : 0)
                guard series.values.count >= needed else {
                    throw DataError.tooFewValues(path: data, needed: needed, found: series.values.count, reason: "the model's window of \(model.config.window)")
                }
                let values = model.forecast(history: series.values, horizon: horizon)
                var lines = ["step,date,forecast"]
                for (i, v) in values.enumerated() { lines.append("\(i + 1),\(series.label(after: i + 1)),\(String(format: "%.4f", v))") }
                print(lines.joined(separator: "\n"))
            }
        }
    }
}
