import ArgumentParser
import Foundation
import Recurrent

extension RecurrentCommand.Train {
    /// `recurrent train forecast`: forecasting a series H steps ahead from one or several columns.
    struct Forecast: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "forecast",
            abstract: "Train a recurrent forecaster on a time series (e.g. NOAA's Mauna Loa monthly CO2), from one or several columns, one or several steps ahead.",
            discussion: """
            Splits the series chronologically (last 10% test, the 10% before validation), fits the z-scores on the
            training part, trains on windows of --window steps, keeps the weights with the lowest validation RMSE and
            reports test RMSE, MAE, MASE and sMAPE beside persistence, seasonal naive and seasonal naive with drift
            (x[t-s] + x[t-1] - x[t-s-1]); the season comes from --season or the date column's frequency.
            --horizon H forecasts H steps at once: --strategy direct (a head of H outputs) or encoder-decoder.
            Writes config.json, options.json, metrics.csv, best.safetensors, last.safetensors and test.json into --out. Defaults: 60 epochs, batch 32, lr 0.003, clip-norm 1.
            Examples:
              recurrent train forecast --data Examples/data/co2/co2_mm_mlo.txt --cell lstm --window 24 --out runs/co2
              recurrent train forecast --data Examples/data/seattle-weather/seattle-weather.csv --target temp_max --columns temp_min,precipitation,wind --horizon 7 --out runs/seattle
            """
        )

        @OptionGroup var input: ForecastDataArguments
        @Option(help: "Recurrent cell: lstm, gru, rnn or jordan.") var cell = CellKind.lstm
        @Option(help: "Input window (time steps).") var window = 24
        @Option(help: "Hidden units per layer.") var hidden = 32
        @Option(help: "Stacked recurrent layers.") var layers = 1
        @Option(help: "Predict 'difference' (change from the last value, removes the trend) or 'level'.") var predict = ForecastTarget.difference
        @Option(help: "'many' (a target after every step) or 'one' (only after the window).") var mode = ForecastMode.many
        @Option(help: "Steps forecast at once (H).") var horizon = 1
        @Option(help: "How H steps are forecast: direct (a head of H outputs) or encoder-decoder.") var strategy = ForecastStrategy.direct
        @OptionGroup var training: TrainingArguments

        func validate() throws {
            guard window > 0, hidden > 0, layers > 0, horizon > 0 else { throw ValidationError("--window, --hidden, --layers and --horizon must be positive") }
            guard window <= 10_000, hidden <= 65_536, layers <= 64, horizon <= 10_000 else { throw ValidationError("--window, --hidden, --layers or --horizon is too large") }
        }

        func run() throws {
            try reportingErrors {
                let data = input.data
                let options = try training.runOptions("forecast", defaults: ForecastTask.defaultOptions,
                                                      settings: ForecastTask.Settings(mode: mode, data: data, column: input.targetColumn))
                let saved = try training.savedConfig(ForecasterConfig.self, task: "forecast") { try $0.validate() }
                let series = try TimeSeriesReader.read(path: data, reading: input.reading(over: saved))
                if let saved, series.covariates.count != saved.inputCount - 1 {
                    throw ValidationError("cannot resume: the run was trained on \(saved.inputCount) input columns, --columns gives \(series.covariates.count + 1)")
                }
                let (season, seasonReason) = input.season(for: series, recorded: saved?.season)
                let dataset = try ForecastDataset(series: series.values, covariates: series.covariates, window: saved?.window ?? window,
                                                  target: saved?.target ?? predict, season: season, horizon: saved?.steps ?? horizon, path: data)
                if let saved, saved.scaler != dataset.scaler {
                    throw ValidationError("cannot resume: --data differs from the data the run was trained on (its normalisation differs)")
                }
                var config = saved ?? ForecasterConfig(cell: cell, hiddenSize: hidden, layers: layers, window: window, target: predict,
                                                       scaler: dataset.scaler, column: input.targetColumn, covariates: series.covariateNames,
                                                       covariateScalers: dataset.covariateScalers, horizon: horizon, strategy: strategy, season: season ?? 0)
                if saved == nil {
                    config.separator = input.separator
                    config.dateColumn = input.date
                    config.fill = input.fill
                }
                try MemoryEstimate.requireTraining(parameters: config.minimumParameterCount, for: "a \(config.layers)×\(config.hiddenSize) \(config.cell)")
                let model = Forecaster(config, seed: options.training.seed)
                print("forecast: \(series.readingSummary); season \(seasonReason); origins: train \(dataset.train.count) "
                      + "(\(series.label(dataset.train.lowerBound))…\(series.label(dataset.train.upperBound - 1))), validation \(dataset.validation.count), "
                      + "test \(dataset.test.count) (\(series.label(dataset.test.lowerBound))…\(series.label(dataset.test.upperBound - 1)))")
                print("model: \(config.cell) \(config.layers)×\(config.hiddenSize), \(model.parameterCount) parameters; window \(config.window), \(config.inputCount) input\(config.inputCount == 1 ? "" : "s"), "
                      + "predict \(config.target), horizon \(config.steps) (\(config.forecastStrategy.rawValue)), many-to-\(options.task.mode.rawValue); \(describe(options.training))")
                let task = try ForecastTask(model: model, data: dataset, settings: options.task, labels: series.labels)
                let started = Date()
                var resume = ["forecast", "--data", data]
                if let t = input.targetColumn { resume += ["--target", t] }
                let (result, trainer) = try training.train(task, options: options.training, resumeArguments: resume)
                let stepsText = dataset.horizon == 1 ? "one step ahead" : "\(dataset.horizon) steps ahead"
                print(result.table(title: "test, \(stepsText) (\(result.count) origins, \(result.from)…\(result.to)), in the units of '\(series.columnName)':"))
                print(String(format: "best validation RMSE %.4f; %.1f s. Run folder: %@", trainer.best?.evaluation.rmse ?? .nan, Date().timeIntervalSince(started), trainer.folder.url.path))
            }
        }
    }
}
