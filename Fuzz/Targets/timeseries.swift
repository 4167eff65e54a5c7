// libFuzzer target: time-series column files (CSV, whitespace, NOAA monthly), then the forecast windows.
import Foundation
import RecurrentData

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTimeSeries(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard size > 0, let data else { return 0 }
    // The first byte picks the column argument: default, an index, or a name.
    let selector = data[0]
    let column: TimeSeriesColumn? = selector < 86 ? nil : selector < 172 ? .index(Int(selector % 5)) : .name(["value", "average", "co2", "x"][Int(selector % 4)])
    let bytes = Data(UnsafeRawBufferPointer(start: data + 1, count: size - 1))
    guard let text = String(data: bytes, encoding: .utf8) else { return 0 }
    guard let series = try? TimeSeriesReader.parse(text, path: "fuzz.csv", column: column) else { return 0 }
    _ = series.label(after: 12)
    for target in [ForecastTarget.difference, .level] {
        if let dataset = try? ForecastDataset(series: series.values, window: 3, target: target, season: 2) {
            _ = dataset.batch(Array(dataset.train))
            _ = dataset.seasonalNaive(dataset.test.lowerBound)
        }
    }
    return 0
}
