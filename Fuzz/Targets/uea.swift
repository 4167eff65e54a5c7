// libFuzzer target: UEA/UCR .ts files, then what classify-series builds from them (scaler, splits, batches,
// patches); the first byte routes the rest to the .npy reader or the .npz archive reader instead.
import Foundation
import RecurrentData

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzUEA(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard size > 0, let data else { return 0 }
    let selector = data[0]
    let bytes = Data(UnsafeRawBufferPointer(start: data + 1, count: size - 1))
    if selector >= 224 {
        // Binary arrays: an .npy array read as values (N, T[, F]) with made-up labels.
        if let x = try? NumpyArray.parse(bytes, path: "fuzz.npy"), x.shape.count >= 1, x.shape[0] <= 4096 {
            let labels = NumpyArray(shape: [x.shape[0]], numbers: (0..<x.shape[0]).map { Double($0 % 2) }, strings: nil)
            _ = try? SeriesArrays.series(values: x, valuesPath: "fuzz.npy", labels: labels, labelsPath: "labels.npy")
            if x.shape.count == 3, x.count <= 1 << 16 {
                _ = try? HyperspectralCube(cube: x, cubePath: "cube.npy", mask: NumpyArray(shape: [x.shape[0], x.shape[1]],
                                           numbers: [Double](repeating: 1, count: x.shape[0] * x.shape[1]), strings: nil), maskPath: "mask.npy")
            }
        }
        return 0
    }
    guard let text = String(data: bytes, encoding: .utf8) else { return 0 }
    guard let (_, series) = try? UEATimeSeriesFile.parse(text, path: "fuzz.ts") else { return 0 }
    let split = SeriesClassificationData.stratifiedSplit(series, test: series, seed: UInt64(selector), validation: 0.25)
    if let dataset = try? SeriesClassificationData(split: split), dataset.train.count > 0 {
        _ = dataset.train.batches(size: 3)
    }
    for s in series.prefix(8) { _ = s.patched(Int(selector % 7) + 1) }
    return 0
}
