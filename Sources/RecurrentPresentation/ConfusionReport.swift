import Foundation
import RecurrentModels

/// What a classifier's scores look like to a person: a per-class table for the terminal, the confusion matrix as
/// CSV (counts) and as an SVG heat map (each row normalised, so that a class's recall reads along the diagonal;
/// drawn with `AttentionHeatmap`, rows: label, columns: prediction).
public struct ConfusionReport {
    public var metrics: ClassificationMetrics
    /// Class names in id order.
    public var classNames: [String]

    public init(metrics: ClassificationMetrics, classNames: [String]) {
        precondition(classNames.count == metrics.confusion.count, "ConfusionReport: \(classNames.count) names for \(metrics.confusion.count) classes")
        self.metrics = metrics
        self.classNames = classNames
    }

    /// "class  precision  recall  F1  support" rows, then the macro average.
    public var table: String {
        let width = max(5, classNames.map(\.count).max() ?? 5)
        func pad(_ s: String) -> String { s.count >= width ? s : s + String(repeating: " ", count: width - s.count) }
        var out = pad("class") + "  precision  recall      F1  support\n"
        for (name, c) in zip(classNames, metrics.perClass) {
            out += pad(name) + String(format: "  %9.4f  %6.4f  %6.4f  %7d\n", c.precision, c.recall, c.f1, c.support)
        }
        let figures = metrics.perClass, n = Double(max(figures.count, 1))
        out += pad("macro") + String(format: "  %9.4f  %6.4f  %6.4f  %7d\n", figures.map(\.precision).reduce(0, +) / n,
                                     figures.map(\.recall).reduce(0, +) / n, metrics.macroF1, metrics.count)
        return out
    }

    /// The confusion counts: a header of "label\\prediction" and the class names, then one row per label.
    public var csv: String {
        func field(_ s: String) -> String { s.contains(where: { ",\"\n".contains($0) }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s }
        var out = (["label\\prediction"] + classNames).map(field).joined(separator: ",") + "\n"
        for (name, row) in zip(classNames, metrics.confusion) { out += ([field(name)] + row.map(String.init)).joined(separator: ",") + "\n" }
        return out
    }

    /// The row-normalised confusion matrix as an SVG heat map.
    public func svg(title: String) -> String {
        let rows = metrics.confusion.map { row -> [Double] in
            let total = Double(row.reduce(0, +))
            return row.map { total > 0 ? Double($0) / total : 0 }
        }
        return AttentionHeatmap(source: classNames, output: classNames, weights: rows, title: title).svg()
    }

    /// Writes `confusion.csv` and `confusion.svg` into `folder`; returns their paths.
    @discardableResult
    public func write(into folder: URL, title: String) throws -> [String] {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let csvURL = folder.appendingPathComponent("confusion.csv"), svgURL = folder.appendingPathComponent("confusion.svg")
        try Data(csv.utf8).write(to: csvURL, options: .atomic)
        try Data(svg(title: title).utf8).write(to: svgURL, options: .atomic)
        return [csvURL.path, svgURL.path]
    }
}
