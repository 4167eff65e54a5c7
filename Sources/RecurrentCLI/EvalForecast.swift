import ArgumentParser
import Foundation
import Recurrent

extension RecurrentCommand.Eval {
    /// `recurrent eval forecast`: RMSE, MAE, MASE and sMAPE of a forecaster beside the three baselines.
    struct Forecast: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "forecast",
            abstract: "RMSE, MAE, MASE and sMAPE of a forecaster on a split, beside persistence, seasonal naive and seasonal naive with drift.",
            discussion: """
            The splits are those of `recurrent train forecast`: the last 10 % of the series is test, the 10 % before it validation.
            Columns, separator, date column and season default to those of training.

            Example:
              recurrent eval forecast --checkpoint runs/co2/best.safetensors --data Examples/data/co2/co2_mm_mlo.txt
            """
        )

        @Option(help: "Checkpoint written by `recurrent train forecast`.") var checkpoint: String
        @OptionGroup var input: ForecastDataArguments
        @Option(help: "Split to score: test, validation or train.") var split = "test"

        func validate() throws {
            guard ["test", "validation", "train"].contains(split) else { throw ValidationError("--split must be test, validation or train, got '\(split)'") }
        }

        func run() throws {
            try reportingErrors {
                let data = input.data
                let model = try Forecaster.load(from: URL(fileURLWithPath: checkpoint))
                let series = try TimeSeriesReader.read(path: data, reading: input.reading(over: model.config))
                guard series.covariates.count == model.config.inputCount - 1 else {
                    throw ValidationError("the model was trained on \(model.config.inputCount) input columns; --columns gives \(series.covariates.count + 1)")
                }
                let (season, seasonReason) = input.season(for: series, recorded: model.config.season)
                let dataset = try ForecastDataset(series: series.values, covariates: series.covariates, window: model.config.window, target: model.config.target,
                                                  season: season, horizon: model.config.steps, path: data)
                if dataset.scaler != model.config.scaler {
                    FileHandle.standardError.write(Data("warning: --data is not the series the model was trained on (its training part has another mean or spread); the split is computed on --data\n".utf8))
                }
                let range = split == "test" ? dataset.test : split == "validation" ? dataset.validation : dataset.train
                // The seasonal baselines need x[t−s−1], so all are scored where it exists (early training origins lack it).
                let origins = max(range.lowerBound, (dataset.seasonLength ?? 0) + 1)..<range.upperBound
                guard !origins.isEmpty else { throw ValidationError("the \(split) split has no origin with a value one season and a step earlier") }
                let evaluation = ForecastEvaluation(data: dataset, origins: origins, predictions: model.predictSteps(dataset, times: Array(origins)), labels: series.labels)
                let stepsText = dataset.horizon == 1 ? "one step ahead" : "\(dataset.horizon) steps ahead"
                print(evaluation.table(title: "\(split), \(stepsText) (\(evaluation.count) origins, \(series.label(origins.lowerBound))…\(series.label(origins.upperBound - 1))); "
                                       + "season \(seasonReason); in the units of '\(series.columnName)':"))
            }
        }
    }
}
