import Foundation

/// How often global-norm clipping fired during a run, read back from the run's metrics.csv
/// (trainers that record it write a `clipped` column: the updates of each logged interval that
/// clipping scaled down).
public struct ClippingHistory: Equatable, Sendable {
    /// Updates that were clipped.
    public var clippedSteps: Int
    /// Updates logged (the `step` column, else the x value, of the last row).
    public var totalSteps: Int
    /// Per logged row: (step, updates clipped in the interval ending there).
    public var intervals: [(step: Int, clipped: Int)]

    /// Clipped updates over all updates (0 without updates).
    public var fraction: Double { totalSteps > 0 ? Double(clippedSteps) / Double(totalSteps) : 0 }

    public static func == (a: ClippingHistory, b: ClippingHistory) -> Bool {
        a.clippedSteps == b.clippedSteps && a.totalSteps == b.totalSteps
            && a.intervals.map(\.step) == b.intervals.map(\.step) && a.intervals.map(\.clipped) == b.intervals.map(\.clipped)
    }

    /// Reads `folder/metrics.csv`; nil when there is no such file or it has no `clipped` column.
    public static func read(folder: URL) throws -> ClippingHistory? {
        let url = folder.appendingPathComponent("metrics.csv")
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n")
        guard let header = lines.first?.split(separator: ",").map(String.init), let k = header.firstIndex(of: "clipped") else { return nil }
        // Epoch-based runs log one row per epoch and count updates in a `step` column.
        let x = header.firstIndex(of: "step") ?? 0
        var intervals: [(step: Int, clipped: Int)] = []
        for line in lines.dropFirst() {
            let cells = line.split(separator: ",", omittingEmptySubsequences: false)
            guard cells.count == header.count, let step = Double(cells[x]), let c = Double(cells[k]), abs(step) < 1e15, c >= 0, c < 1e15 else { continue }
            intervals.append((Int(step), Int(c)))
        }
        return ClippingHistory(clippedSteps: intervals.reduce(0) { $0 + $1.clipped }, totalSteps: intervals.last?.step ?? 0, intervals: intervals)
    }
}
