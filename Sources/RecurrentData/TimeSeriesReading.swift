import Foundation

/// What to do with the steps a date column skips (a day missing from a daily series).
public enum GapFill: String, Codable, CaseIterable, Sendable {
    /// Refuse the file, naming the line after each gap.
    case none
    /// Straight line between the neighbours.
    case linear
    /// Repeat the last value before the gap.
    case previous
}

/// How to read a series from a column file: which columns, which separator, what to do with gaps.
public struct TimeSeriesReading: Equatable, Sendable {
    /// The forecast column; nil for the default (NOAA `average`, else the last numeric column).
    public var target: TimeSeriesColumn?
    /// Input columns besides the target (the target is always an input too).
    public var covariates: [TimeSeriesColumn]
    /// The date column; nil to look for one (NOAA's year and month, else the first column whose first value is a date).
    public var date: TimeSeriesColumn?
    /// The field separator; `.auto` detects it.
    public var separator: CSVSeparator
    /// What to do with skipped time steps (`.none` stops with a message).
    public var fill: GapFill

    /// Which columns to read (nil: the default target, no covariates, the date column detected), the separator and the gap filling.
    public init(target: TimeSeriesColumn? = nil, covariates: [TimeSeriesColumn] = [], date: TimeSeriesColumn? = nil,
                separator: CSVSeparator = .auto, fill: GapFill = .none) {
        self.target = target
        self.covariates = covariates
        self.date = date
        self.separator = separator
        self.fill = fill
    }
}
