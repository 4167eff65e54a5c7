import Foundation

/// Training progress on the terminal: a redrawn bar with ETA, tokens/s and the running loss when
/// stdout is a terminal; plain log lines (at most one every `logInterval` seconds) otherwise.
public final class ProgressReporter {
    public let total: Int
    public let unit: String
    let start = Date()
    let isTerminal: Bool
    let logInterval: TimeInterval
    var lastPrint = Date.distantPast
    var lastLength = 0

    /// - Parameters:
    ///   - total: steps to reach 100 %.
    public init(total: Int, unit: String = "step", logInterval: TimeInterval = 5) {
        self.total = max(total, 1)
        self.unit = unit
        isTerminal = isatty(STDOUT_FILENO) != 0
        self.logInterval = logInterval
    }

    public var elapsed: TimeInterval { Date().timeIntervalSince(start) }

    /// Reports step `done` of `total`; `fraction` overrides the progress when it is time-based.
    public func update(step done: Int, fraction: Double? = nil, loss: Double, tokensPerSecond: Double, extra: String = "") {
        let now = Date()
        let minGap = isTerminal ? 0.1 : logInterval
        guard now.timeIntervalSince(lastPrint) >= minGap || done == total else { return }
        lastPrint = now
        let f = min(1, max(0, fraction ?? Double(done) / Double(total)))
        let eta = f > 0 ? elapsed * (1 - f) / f : 0
        let stats = String(format: "%@ %d  loss %.4f  %@ tok/s  ETA %@%@", unit, done, loss,
                           ProgressReporter.compact(tokensPerSecond), ProgressReporter.clock(eta), extra.isEmpty ? "" : "  " + extra)
        if isTerminal {
            let width = 24, filled = Int(f * Double(width))
            let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
            let line = String(format: "\r%@ %3d%%  ", bar, Int(f * 100)) + stats
            let padding = String(repeating: " ", count: max(0, lastLength - line.count))
            lastLength = line.count
            FileHandle.standardOutput.write((line + padding).data(using: .utf8)!)
        } else {
            print(String(format: "[%3d%%] ", Int(f * 100)) + stats)
            fflush(nil)   // every stream: the line is out at once when stdout is a pipe (and `stdout` is not Sendable)
        }
    }

    /// Ends the bar's line.
    public func finish() {
        if isTerminal { print("") }
    }

    public static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }

    public static func compact(_ x: Double) -> String {
        x >= 1e6 ? String(format: "%.2fM", x / 1e6) : x >= 1e3 ? String(format: "%.1fk", x / 1e3) : String(format: "%.0f", x)
    }
}
