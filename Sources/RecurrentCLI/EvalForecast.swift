import ArgumentParser
import Foundation
import Recurrent

extension RecurrentCommand.Eval {
    /// `recurrent eval forecast`: one-step-ahead RMSE and MAE against the seasonal-naive baseline.
    struct Forecast: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "forecast",
            abstract: "One-step-ahead RMSE and MAE of a forecaster on a split, next to the seasonal-naive baseline (same month last year).",
            discussion: """
            The splits are those of `recurrent train forecast`: the last 10 % of the series is test, the 10 % before it validation.

            Example:
              recurrent eval forecast --checkpoint runs/co2/best.safetensors --data Examples/data/co2/co2_mm_mlo.txt
            """
        )

        @Option(help: "Checkpoint written by `recurrent train forecast`.") var checkpoint: String
        @Option(help: "The series (same format as for training).") var data: String
        @Option(help: "Value column (default: the one the model was trained on).") var column: String?
        @Option(help: "Split to score: test, validation or train.") var split = "test"

        func validate() throws {
            guard ["test", "validation", "train"].contains(split) else { throw ValidationError("--split must be test, validation or train, got '\(split)'") }
        }

        func run() throws {
            try reportingErrors {
                let model = try Forecaster.load(from: URL(fileURLWithPath: checkpoint))
                let series = try TimeSeriesReader.read(path: data, column: (column ?? model.config.column).map(TimeSeriesColumn.init(parsing:)))
                let dataset = try ForecastDataset(series: series.values, window: model.config.window, target: model.config.target, path: data)
                if dataset.scaler != model.config.scaler {
                    FileHandle.standardError.write(Data("warning: --data is not the series the model was trained on (its training part has another mean or spread); the split is computed on --data\n".utf8))
                }
                let range = split == "test" ? dataset.test : split == "validation" ? dataset.validation : dataset.train
                // The baseline needs the value one season earlier, so both are scored where it exists.
                let times = max(range.lowerBound, dataset.season)..<range.upperBound
                guard !times.isEmpty else { throw ValidationError("the \(split) split has no step with a value one season earlier") }
                let truth = times.map { dataset.series[$0] }
                let errors = ForecastErrors(predictions: model.predict(dataset, times: Array(times)), truth: truth)
                let naive = ForecastErrors(predictions: times.map(dataset.seasonalNaive), truth: truth)
                let label = { (t: Int) in series.labels[t].isEmpty ? "#\(t)" : series.labels[t] }
                print(String(format: "%@ (%d steps, %@…%@): model RMSE %.4f MAE %.4f; seasonal naive RMSE %.4f MAE %.4f",
                             split, times.count, label(times.lowerBound), label(times.upperBound - 1), errors.rmse, errors.mae, naive.rmse, naive.mae))
            }
        }
    }
}
