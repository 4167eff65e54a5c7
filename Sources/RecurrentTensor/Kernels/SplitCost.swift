import CRecurrentKernels

/// What the two-core split (PairParallel) costs in CPU time, as the guard of CRecurrentKernels/SplitGuard.c
/// sees it. Every 0.1 s of split regions it estimates the process's CPU-seconds over what one thread would have
/// spent (the same CPU time less both threads' waits, timed on the wall clock: an upper bound); only where that
/// exceeds `limit` does it run a window on one core and compare the CPU-seconds per region of the two. A split
/// measured above the limit runs on one core for the next 0.5–8 s.
public struct SplitCost: Sendable, Equatable {
    /// The last window's estimate (nil before the first window).
    public let estimate: Double?
    /// The last measured ratio: CPU-seconds per region split over those on one core (nil before the first probe).
    public let measured: Double?
    /// Windows estimated, probes run (estimates above the limit), and probes above the limit (each followed by a
    /// hold on one core), since the process started or `PairParallel.resetSplitCost()`.
    public let windows: Int, probes: Int, probesOverLimit: Int
    /// Regions that could have split (their caller allows backing off), and those of them that ran on one core:
    /// refused by this guard, or by the back-off that follows a region where part 0 waited over a third of the time.
    public let regions: Int, regionsOnOneCore: Int

    /// The split's limit: CPU-seconds of a split over those of one thread.
    public static let limit = 1.25

    /// The figures so far in this process.
    public static var current: SplitCost {
        let g = rk_pair_guard()
        return SplitCost(estimate: g.estimate < 0 ? nil : g.estimate, measured: g.ratio < 0 ? nil : g.ratio,
                         windows: g.windows, probes: g.probes, probesOverLimit: g.over, regions: g.claims, regionsOnOneCore: g.refused)
    }
}

extension PairParallel {
    /// Starts the split's CPU-cost guard afresh: no hold, no window, zero counts (a benchmark between two
    /// configurations, a test).
    public static func resetSplitCost() { rk_pair_guard_reset() }
}
