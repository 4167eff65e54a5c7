import Foundation

/// Labelled sequences from NumPy arrays: values (N, T, F) — or (N, T) for one feature — and labels (N,), from two
/// `.npy` files or from one `.npz` archive holding both.
///
/// Unequal lengths are written the way NumPy users pad: with NaN at the end. A sequence's length is the step after
/// its last step holding any number; a NaN before that (inside the sequence) is an error naming the index, as is
/// a sequence that is NaN throughout, an infinite value, or a label array whose length differs from N.
/// Labels are integers (written as their decimal text: 3.0 becomes "3") or Unicode strings.
public enum SeriesArrays {
    /// Names under which an `.npz` archive's values and labels are looked for, in order.
    public static let valueKeys = ["X", "x", "data", "values"], labelKeys = ["y", "Y", "labels", "label", "target"]

    /// Reads `.npy` values with an `.npy` labels file, or an `.npz` holding both (labels nil). Without
    /// `requireLabels`, values without labels give sequences labelled "" (for prediction).
    public static func read(path: String, labels labelPath: String?, requireLabels: Bool = true) throws -> [LabelledSeries] {
        if path.lowercased().hasSuffix(".npz") {
            let arrays = try NumpyArray.readArchive(path: path)
            func find(_ keys: [String], _ what: String) throws -> (String, NumpyArray) {
                guard let key = keys.first(where: { arrays[$0] != nil }) else {
                    throw DataError.badFile(path: path, reason: "no \(what) array (looked for \(keys.joined(separator: ", ")); it holds \(arrays.keys.sorted().joined(separator: ", ")))")
                }
                return (key, arrays[key]!)
            }
            let (xKey, x) = try find(valueKeys, "values")
            let y: NumpyArray?, yPath: String
            if let labelPath { y = try NumpyArray.read(path: labelPath); yPath = labelPath }
            else if !requireLabels && !labelKeys.contains(where: { arrays[$0] != nil }) { y = nil; yPath = "" }
            else {
                let (yKey, found) = try find(labelKeys, "label")
                y = found; yPath = "\(path)[\(yKey)]"
            }
            return try series(values: x, valuesPath: "\(path)[\(xKey)]", labels: y, labelsPath: yPath)
        }
        guard labelPath != nil || !requireLabels else {
            throw DataError.badFile(path: path, reason: "an .npy array of values needs a label array beside it (--labels FILE.npy)")
        }
        return try series(values: NumpyArray.read(path: path), valuesPath: path, labels: labelPath.map(NumpyArray.read), labelsPath: labelPath ?? "")
    }

    /// Builds the sequences of `values` (N, T[, F]) labelled by `labels` (N,); nil labels give "".
    public static func series(values x: NumpyArray, valuesPath: String, labels: NumpyArray?, labelsPath: String) throws -> [LabelledSeries] {
        guard x.strings == nil, x.shape.count == 2 || x.shape.count == 3, x.shape.allSatisfy({ $0 >= 1 }) else {
            throw DataError.badFile(path: valuesPath, reason: "expected numbers of shape (N, T, F) or (N, T), got shape \(x.shape)")
        }
        let N = x.shape[0], T = x.shape[1], F = x.shape.count == 3 ? x.shape[2] : 1
        let y = labels ?? NumpyArray(shape: [N], numbers: [], strings: [String](repeating: "", count: N))
        guard y.shape.count == 1 || (y.shape.count == 2 && y.shape[1] == 1) else {
            throw DataError.badFile(path: labelsPath, reason: "expected one label per sequence, shape (\(N),), got shape \(y.shape)")
        }
        guard y.shape[0] == N else {
            throw DataError.badFile(path: labelsPath, reason: "\(y.shape[0]) labels for \(N) sequences in \(valuesPath)")
        }
        var result: [LabelledSeries] = []
        result.reserveCapacity(N)
        let name = (valuesPath as NSString).lastPathComponent
        for n in 0..<N {
            func bad(_ reason: String) -> DataError { .badItem(path: valuesPath, index: "index \(n)", reason: reason) }
            let label: String
            if let strings = y.strings {
                label = strings[n].trimmingCharacters(in: .whitespaces)
                guard !label.isEmpty || labels == nil else { throw DataError.badItem(path: labelsPath, index: "index \(n)", reason: "missing label (empty string)") }
            } else {
                let v = y.numbers[n]
                guard v.isFinite else { throw DataError.badItem(path: labelsPath, index: "index \(n)", reason: "missing label (\(v))") }
                label = v == v.rounded() && Swift.abs(v) < 1e15 ? String(Int64(v)) : String(v)
            }
            let base = n * T * F
            // The length: one past the last step holding a number; NaN steps after it are padding.
            var length = T
            while length > 0, (0..<F).allSatisfy({ x.numbers[base + (length - 1) * F + $0].isNaN }) { length -= 1 }
            guard length > 0 else { throw bad("the sequence is NaN throughout (no values)") }
            var values = [Float](repeating: 0, count: length * F)
            for t in 0..<length {
                for f in 0..<F {
                    let v = x.numbers[base + t * F + f]
                    guard v.isFinite, Swift.abs(v) <= Double(Float.greatestFiniteMagnitude) else {
                        throw bad("step \(t), feature \(f): \(v) is not a finite number (NaN is only allowed as padding after the last step)")
                    }
                    values[t * F + f] = Float(v)
                }
            }
            result.append(LabelledSeries(values: values, steps: length, features: F, label: label, source: "\(name), index \(n)"))
        }
        guard !result.isEmpty else { throw DataError.empty(path: valuesPath) }
        return result
    }
}
