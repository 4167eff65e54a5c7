import ArgumentParser
import Foundation
import Recurrent

/// How `train`, `eval` and `predict forecast` read a series: the file, its columns, separator, gaps and season.
struct ForecastDataArguments: ParsableArguments {
    @Option(help: "Column file: CSV (RFC 4180 quoting), semicolon/tab/pipe-separated or whitespace columns, '#' comments; NOAA GML monthly layout.")
    var data: String
    @Option(help: "The column to forecast, 0-based index or header name (default: NOAA 'average', else the last numeric column).")
    var target: String?
    @Option(help: "Same as --target (the column to forecast).") var column: String?
    @Option(help: "Input columns, comma-separated (e.g. temp_min,precipitation,wind); the target is always an input. Each is z-scored on the training part.")
    var columns: String?
    @Option(help: "The date column (name or index; default: the first column whose first value is a date such as 2012-01-31, 2012-01, 1959Q3 or 2012-01-31T13:00).")
    var date: String?
    @Option(help: "Field separator: \(CSVSeparator.allCases.map(\.rawValue).joined(separator: ", ")).") var separator: CSVSeparator?
    @Option(help: "Fill steps the date column skips: \(GapFill.allCases.map(\.rawValue).joined(separator: ", ")) (none: refuse the file, naming the line).")
    var fill: GapFill?
    @Option(help: "Season length of the seasonal baselines (0: none; default from the dates: 12 monthly, 4 quarterly, 24 hourly, 7 or 365 daily).")
    var season: Int?

    func validate() throws {
        if let season, season < 0 || season > 100_000 { throw ValidationError("--season must be in 0...100000, got \(season)") }
        if target != nil, column != nil, target != column { throw ValidationError("--target and --column name the same thing; give one") }
    }

    /// The target flag (either spelling).
    var targetColumn: String? { target ?? column }

    /// Input columns other than the target, in the order given.
    var covariateNames: [String]? {
        guard let columns else { return nil }
        let names = columns.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        return names.filter { $0.caseInsensitiveCompare(targetColumn ?? "") != .orderedSame }
    }

    /// These flags over the way a checkpoint's data was read (flags win).
    func reading(over config: ForecasterConfig? = nil) -> TimeSeriesReading {
        var r = config?.reading ?? TimeSeriesReading()
        if let t = targetColumn { r.target = TimeSeriesColumn(parsing: t) }
        if let names = covariateNames { r.covariates = names.map(TimeSeriesColumn.init(parsing:)) }
        if let date { r.date = TimeSeriesColumn(parsing: date) }
        if let separator { r.separator = separator }
        if let fill { r.fill = fill }
        return r
    }

    /// The season: --season, else the one recorded at training, else the dates' usual one; and why.
    func season(for series: TimeSeries, recorded: Int? = nil) -> (season: Int?, reason: String) {
        if let season { return (season == 0 ? nil : season, season == 0 ? "none (--season 0)" : "\(season) (--season)") }
        if let recorded { return (recorded == 0 ? nil : recorded, recorded == 0 ? "none (as trained)" : "\(recorded) (as trained)") }
        if let (s, reason) = series.defaultSeason { return (s, reason) }
        if let step = series.step { return (nil, "none (\(step) data has no usual season; --season N sets one)") }
        return (nil, "none (no date column; --season N sets one)")
    }
}

extension TimeSeries {
    /// "#t" when the series has no labels.
    func label(_ t: Int) -> String { labels.indices.contains(t) && !labels[t].isEmpty ? labels[t] : "#\(t)" }

    /// How it was read, in one line.
    var readingSummary: String {
        let inputs = covariateNames.isEmpty ? "" : " with covariates \(covariateNames.joined(separator: ", "))"
        let dates = step.map { "; dates '\(dateColumn ?? "")' \($0)" } ?? "; no date column"
        return "'\(columnName)'\(inputs), \(values.count) values (\(filled) missing, filled)\(dates)"
    }
}

extension ForecastEvaluation {
    /// One line per forecast (model and baselines) with RMSE, MAE, MASE and sMAPE.
    func table(title: String) -> String {
        var lines = [title]
        let rows: [(String, ForecastErrors)] = [("model", model)] + baselines.map { ($0.0.title, $0.1) }
        for (name, e) in rows {
            lines.append("  " + name.padding(toLength: 24, withPad: " ", startingAt: 0)
                         + String(format: "RMSE %10.4f  MAE %10.4f  MASE %7.3f  sMAPE %7.3f %%", e.rmse, e.mae, e.mase, e.smape))
        }
        if steps.count > 1 {
            let titles = ["model"] + baselines.map { $0.0.title }
            let widths = titles.map { max($0.count, 9) + 3 }
            func cells(_ values: [String]) -> String { zip(values, widths).map { String(repeating: " ", count: max(0, $1 - $0.count)) + $0 }.joined() }
            lines.append("  RMSE by step" + cells(titles))
            for (j, s) in steps.enumerated() {
                let values = [s.model, s.persistence, s.seasonalNaive, s.seasonalNaiveDrift].compactMap { $0 }.map { String(format: "%.4f", $0.rmse) }
                lines.append("  " + "\(j + 1)".padding(toLength: 12, withPad: " ", startingAt: 0) + cells(values))
            }
        }
        let beaten = baselines.filter { model.rmse >= $0.1.rmse }.map { $0.0.title }
        lines.append(beaten.isEmpty ? "  the model's RMSE is below every baseline's"
                     : "  the model does NOT beat \(beaten.joined(separator: ", ")) on RMSE")
        return lines.joined(separator: "\n")
    }
}
