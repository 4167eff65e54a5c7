import ArgumentParser
import Foundation
import Recurrent

extension RecurrentCommand.Train {
    /// `recurrent train forecast`: one-step-ahead forecasting of a univariate series (many-to-one or many-to-many).
    struct Forecast: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "forecast",
            abstract: "Train a recurrent forecaster on a time series (e.g. NOAA's Mauna Loa monthly CO2).",
            discussion: """
            Splits the series chronologically (last 10% test, the 10% before validation), fits the z-score on the
            training part, trains on windows of --window steps, keeps the weights with the lowest validation RMSE and
            reports one-step-ahead test RMSE and MAE against the seasonal-naive baseline (the value 12 steps earlier).
            Writes config.json, options.json, metrics.csv, best.safetensors, last.safetensors and test.json into --out. Defaults: 60 epochs, batch 32, lr 0.003, clip-norm 1.
            Example:
              recurrent train forecast --data Examples/data/co2/co2_mm_mlo.txt --cell lstm --window 24 --out runs/co2
            """
        )

        @Option(help: "Column file: NOAA GML monthly layout, CSV or whitespace columns ('#' comments).") var data: String
        @Option(help: "Value column, 0-based index or header name (default: NOAA 'average', else the last column).") var column: String?
        @Option(help: "Recurrent cell: lstm, gru, rnn or jordan.") var cell = CellKind.lstm
        @Option(help: "Input window (time steps).") var window = 24
        @Option(help: "Hidden units per layer.") var hidden = 32
        @Option(help: "Stacked recurrent layers.") var layers = 1
        @Option(help: "Predict 'difference' (next − last, removes the trend) or 'level'.") var target = ForecastTarget.difference
        @Option(help: "'many' (a target after every step) or 'one' (only the window's next value).") var mode = ForecastMode.many
        @OptionGroup var training: TrainingArguments

        func validate() throws {
            guard window > 0, hidden > 0, layers > 0 else { throw ValidationError("--window, --hidden, --layers, --epochs and --batch must be positive") }
            guard window <= 10_000, hidden <= 65_536, layers <= 64 else { throw ValidationError("--window, --hidden or --layers is too large") }
        }

        func run() throws {
            try reportingErrors {
                let options = try training.runOptions("forecast", defaults: ForecastTask.defaultOptions,
                                                      settings: ForecastTask.Settings(mode: mode, data: data, column: column))
                let saved = try training.savedConfig(ForecasterConfig.self, task: "forecast") { try $0.validate() }
                let series = try TimeSeriesReader.read(path: data, column: (saved?.column ?? column).map(TimeSeriesColumn.init(parsing:)))
                let dataset = try ForecastDataset(series: series.values, window: saved?.window ?? window, target: saved?.target ?? target, path: data)
                if let saved, saved.scaler != dataset.scaler {
                    throw ValidationError("cannot resume: --data differs from the data the run was trained on (its normalisation differs)")
                }
                let config = saved ?? ForecasterConfig(cell: cell, hiddenSize: hidden, layers: layers, window: window, target: target,
                                                       scaler: dataset.scaler, column: column)
                try MemoryEstimate.requireTraining(parameters: config.minimumParameterCount, for: "a \(config.layers)×\(config.hiddenSize) \(config.cell)")
                let model = Forecaster(config, seed: options.training.seed)
                let label = { (t: Int) in series.labels[t].isEmpty ? "#\(t)" : series.labels[t] }
                print("forecast: '\(series.columnName)', \(series.values.count) values (\(series.filled) missing, interpolated); "
                      + "targets: train \(dataset.train.count) (\(label(dataset.train.lowerBound))…\(label(dataset.train.upperBound - 1))), "
                      + "validation \(dataset.validation.count), test \(dataset.test.count) (\(label(dataset.test.lowerBound))…\(label(dataset.test.upperBound - 1)))")
                print("model: \(config.cell) \(config.layers)×\(config.hiddenSize), \(model.parameterCount) parameters; window \(config.window), target \(config.target), "
                      + "many-to-\(options.task.mode.rawValue); \(describe(options.training))")
                let task = try ForecastTask(model: model, data: dataset, settings: options.task, labels: series.labels)
                let started = Date()
                let (result, trainer) = try training.train(task, options: options.training, resumeArguments: ["forecast", "--data", data])
                print(String(format: "test one-step-ahead (%d months): model RMSE %.4f MAE %.4f; seasonal naive RMSE %.4f MAE %.4f; best validation RMSE %.4f; %.1f s. Run folder: %@",
                             result.count, result.model.rmse, result.model.mae, result.seasonalNaive.rmse, result.seasonalNaive.mae,
                             trainer.best?.evaluation.rmse ?? .nan, Date().timeIntervalSince(started), trainer.folder.url.path))
            }
        }
    }
}
