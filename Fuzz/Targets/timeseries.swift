// libFuzzer target: time-series column files (RFC 4180 CSV through yaslab/CSV.swift, other separators,
// whitespace, NOAA monthly; date columns, gaps, covariates), then the forecast windows and baselines.
import Foundation
import RecurrentData

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTimeSeries(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard size > 1, let data else { return 0 }
    // The first byte picks the target column: default, an index, or a name; the second the separator,
    // the gap filling and whether a covariate and a date column are named.
    let selector = data[0], options = data[1]
    let column: TimeSeriesColumn? = selector < 86 ? nil : selector < 172 ? .index(Int(selector % 5)) : .name(["value", "average", "co2", "x"][Int(selector % 4)])
    var reading = TimeSeriesReading(target: column, separator: CSVSeparator.allCases[Int(options) % CSVSeparator.allCases.count],
                                    fill: GapFill.allCases[Int(options / 8) % GapFill.allCases.count])
    if options & 0x40 != 0 { reading.covariates = [.index(Int(options % 3))] }
    if options & 0x80 != 0 { reading.date = .index(0) }
    let bytes = Data(UnsafeRawBufferPointer(start: data + 2, count: size - 2))
    guard let text = String(data: bytes, encoding: .utf8) else { return 0 }
    guard let series = try? TimeSeriesReader.parse(text, path: "fuzz.csv", reading: reading) else { return 0 }
    _ = series.label(after: 12)
    _ = series.defaultSeason
    for target in [ForecastTarget.difference, .level] {
        for (season, horizon) in [(2, 1), (series.defaultSeason?.season ?? 3, 2)] {
            if let dataset = try? ForecastDataset(series: series.values, covariates: series.covariates, window: 3, target: target, season: season, horizon: horizon) {
                _ = dataset.batch(Array(dataset.train))
                for baseline in ForecastBaseline.allCases {
                    _ = dataset.errors({ dataset.forecast(baseline, origin: $0, step: $1) }, origins: dataset.test)
                }
            }
        }
    }
    return 0
}
