import RecurrentModels
import Foundation
import RecurrentIO

/// The curves of a run, for whoever draws pictures of them (the library draws none).
public struct LossCurves: Sendable {
    /// The chart's title.
    public var title: String
    /// The x axis's label ("step" or "epoch").
    public var xLabel: String
    /// The curves: a name and (x, y) points each.
    public var series: [(name: String, points: [(x: Double, y: Double)])]
}

/// What a training run records after each evaluation, in its run folder: `metrics.csv` (one row per
/// record, rewritten atomically), TensorBoard event files (every column but the x axis and `seconds`, so
/// `tensorboard --logdir runs` shows the curves), and `loss_curve.svg` when a `drawCurves` is given
/// (the command line passes its SVG chart).
public final class RunLog {
    /// The run folder the files are written to.
    public let folder: URL
    /// The columns of metrics.csv, in order.
    public let columns: [String]
    /// The columns drawn in loss_curve.svg.
    public let plotted: [String]
    private var csv: String
    private(set) var rows: [[Double]] = []
    private let events: TensorBoardEventWriter
    private let drawCurves: ((LossCurves) -> Data)?

    /// - Parameters:
    ///   - columns: CSV header; the first column is the x axis (step or epoch).
    ///   - plotted: columns handed to `drawCurves` (losses on a comparable scale).
    ///   - previousRows: rows of an earlier part of the same run (when resuming); kept in the CSV and the picture.
    ///   - drawCurves: turns the curves into the bytes of loss_curve.svg (nil: no picture).
    public init(folder: URL, columns: [String], plotted: [String], previousRows: [[Double]] = [],
                drawCurves: ((LossCurves) -> Data)? = nil) throws {
        precondition(!columns.isEmpty && plotted.allSatisfy(columns.contains), "RunLog: plotted columns must be among \(columns)")
        self.folder = folder
        self.columns = columns
        self.plotted = plotted
        self.drawCurves = drawCurves
        rows = previousRows.filter { $0.count == columns.count }
        csv = ([columns.joined(separator: ",")] + rows.map { $0.map(Self.format).joined(separator: ",") }).joined(separator: "\n") + "\n"
        events = try TensorBoardEventWriter(folder: folder)
    }

    /// The numeric rows of an existing `metrics.csv` (none if there is no file); unparsable cells read as NaN.
    public static func rows(in folder: URL) throws -> [[Double]] {
        let url = folder.appendingPathComponent("metrics.csv")
        guard FileManager.default.fileExists(atPath: url.path) else { return [] }
        let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n").dropFirst()
        return lines.map { $0.split(separator: ",", omittingEmptySubsequences: false).map { Double($0) ?? .nan } }
    }

    /// Appends one row (values in `columns` order) to every output.
    public func record(_ values: [Double]) throws {
        precondition(values.count == columns.count, "RunLog.record: \(values.count) values for \(columns.count) columns")
        rows.append(values)
        csv += values.map(Self.format).joined(separator: ",") + "\n"
        try atomicWrite(Data(csv.utf8), to: folder.appendingPathComponent("metrics.csv"))
        let scalars = zip(columns, values).dropFirst().filter { $0.0 != "seconds" && !$0.1.isNaN }.map { (tag: $0.0, value: $0.1) }
        try events.addScalars(scalars, step: Int(values[0]))
        if let drawCurves {
            let curves = LossCurves(title: folder.lastPathComponent, xLabel: columns[0], series: plotted.map { name in
                let k = columns.firstIndex(of: name)!
                return (name: name, points: rows.map { (x: $0[0], y: $0[k]) })
            })
            try atomicWrite(drawCurves(curves), to: folder.appendingPathComponent("loss_curve.svg"))
        }
    }

    /// Integers without a decimal point; other values with 6 significant digits or 5 decimals.
    static func format(_ v: Double) -> String {
        if v.isNaN { return "nan" }
        if v.rounded() == v, abs(v) < 1e15 { return String(Int64(v)) }
        return abs(v) >= 1 ? String(format: "%.5f", v) : String(format: "%.6g", v)
    }
}
