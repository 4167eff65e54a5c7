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
            Writes config.json, options.json, metrics.csv, best.safetensors, last.safetensors and test.json into --out.
            Example:
              recurrent train forecast --data Examples/data/co2/co2_mm_mlo.txt --cell lstm --window 24 --out runs/co2
            """
        )

        @Option(help: "Column file: NOAA GML monthly layout, CSV or whitespace columns ('#' comments).") var data: String
        @Option(help: "Value column, 0-based index or header name (default: NOAA 'average', else the last column).") var column: String?
        @Option(help: "Recurrent cell: lstm, gru, rnn or jordan.") var cell = "lstm"
        @Option(help: "Input window (time steps).") var window = 24
        @Option(help: "Hidden units per layer.") var hidden = 32
        @Option(help: "Stacked recurrent layers.") var layers = 1
        @Option(help: "Predict 'difference' (next − last, removes the trend) or 'level'.") var target = "difference"
        @Option(help: "'many' (a target after every step) or 'one' (only the window's next value).") var mode = "many"
        @Option(help: "Learning rate.") var lr = 3e-3
        @Option(name: .customLong("clip-norm"), help: "Clip the global gradient norm to this value (0: off).") var clipNorm = 1.0
        @Option(help: "Passes over the training windows (default 60).") var epochs: Int?
        @Option(help: "Stop after this many batches in all (0: no limit).") var steps: Int?
        @Option(help: "Windows per batch.") var batch = 32
        @Option(help: "Random seed (same seed, same run).") var seed: UInt64 = 1
        @Option(help: "Run folder.") var out = "runs/forecast"
        @Flag(help: "Continue the run in --out after its last completed epoch, with its saved options (--epochs and --steps may change); gives the numbers an uninterrupted run gives.")
        var resume = false
        @OptionGroup var update: UpdateRuleOptions
        @OptionGroup var configFile: ConfigFileOption

        func validate() throws {
            guard ForecasterConfig.cells.contains(cell) else { throw ValidationError("--cell must be one of \(ForecasterConfig.cells.joined(separator: ", ")), got '\(cell)'") }
            guard ForecastTarget(rawValue: target) != nil else { throw ValidationError("--target must be difference or level, got '\(target)'") }
            guard ForecastTrainingOptions.modes.contains(mode) else { throw ValidationError("--mode must be many or one, got '\(mode)'") }
            guard window > 0, hidden > 0, layers > 0, (epochs ?? 1) > 0, batch > 0, (steps ?? 0) >= 0 else {
                throw ValidationError("--window, --hidden, --layers, --epochs and --batch must be positive")
            }
            guard window <= 10_000, hidden <= 65_536, layers <= 64 else { throw ValidationError("--window, --hidden or --layers is too large") }
            guard lr > 0, lr.isFinite else { throw ValidationError("--lr must be a positive number, got \(lr)") }
            guard clipNorm >= 0, clipNorm.isFinite else { throw ValidationError("--clip-norm must not be negative, got \(clipNorm)") }
        }

        func run() throws {
            try reportingErrors {
                let folder = URL(fileURLWithPath: out)
                var options = ForecastTrainingOptions()
                var config: ForecasterConfig? = nil
                if resume {
                    // The saved options and config, so the continued run is the same run.
                    options = try readOptions(ForecastTrainingOptions(), folder.appendingPathComponent("options.json"))
                    try options.validate()
                    let saved = try readJSON(ForecasterConfig.self, folder.appendingPathComponent("config.json"))
                    try saved.validate()
                    config = saved
                } else {
                    try configFile.echo(into: folder)
                    options.batch = batch; options.learningRate = lr; options.update = update.rule; options.clipNorm = clipNorm
                    options.mode = mode; options.seed = seed; options.data = data; options.column = column
                }
                if let epochs { options.epochs = epochs }
                if let steps { options.maxSteps = steps }
                let series = try TimeSeriesReader.read(path: data, column: (config?.column ?? column).map(TimeSeriesColumn.init(parsing:)))
                let forecastTarget = config?.forecastTarget ?? ForecastTarget(rawValue: target)!
                let dataset = try ForecastDataset(series: series.values, window: config?.window ?? window, target: forecastTarget, path: data)
                let model: Forecaster
                if let config {
                    guard config.scaler == dataset.scaler else {
                        throw ValidationError("cannot resume: --data differs from the data the run was trained on (its normalisation differs)")
                    }
                    try MemoryEstimate.requireTraining(parameters: config.minimumParameterCount, for: "a \(config.layers)×\(config.hiddenSize) \(config.cell)")
                    model = Forecaster(config, seed: options.seed)
                } else {
                    let fresh = ForecasterConfig(cell: cell, hiddenSize: hidden, layers: layers, window: window, target: forecastTarget,
                                                 scaler: dataset.scaler, column: column)
                    config = fresh
                    try MemoryEstimate.requireTraining(parameters: fresh.minimumParameterCount, for: "a \(fresh.layers)×\(fresh.hiddenSize) \(fresh.cell)")
                    model = Forecaster(fresh, seed: options.seed)
                }
                let c = model.config
                let label = { (t: Int) in series.labels[t].isEmpty ? "#\(t)" : series.labels[t] }
                print("forecast: '\(series.columnName)', \(series.values.count) values (\(series.filled) missing, interpolated); "
                      + "targets: train \(dataset.train.count) (\(label(dataset.train.lowerBound))…\(label(dataset.train.upperBound - 1))), "
                      + "validation \(dataset.validation.count), test \(dataset.test.count) (\(label(dataset.test.lowerBound))…\(label(dataset.test.upperBound - 1)))")
                print("model: \(c.cell) \(c.layers)×\(c.hiddenSize), \(model.parameterCount) parameters; window \(c.window), target \(c.target), "
                      + "many-to-\(options.mode); batch \(options.batch), \(options.update.summary) lr \(options.learningRate), \(options.epochs) epochs")
                let trainer = ForecastTrainer(model: model, data: dataset, options: options, runFolder: folder, labels: series.labels)
                let started = Date()
                let result = try withStopHandling(task: "forecast", data: data, out: out) { stop in
                    trainer.stopRequested = stop
                    trainer.onNonFinite = update.nonFinitePolicy
                    return try trainer.run(resume: resume)
                }
                print(String(format: "test one-step-ahead (%d months): model RMSE %.4f MAE %.4f; seasonal naive RMSE %.4f MAE %.4f; best validation RMSE %.4f; %.1f s. Run folder: %@",
                             result.count, result.model.rmse, result.model.mae, result.seasonalNaive.rmse, result.seasonalNaive.mae,
                             trainer.bestValidationRMSE, Date().timeIntervalSince(started), out))
            }
        }
    }
}
