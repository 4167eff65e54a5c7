import XCTest
import CRecurrentKernels
@testable import RecurrentTensor

/// The process CPU clock the guard reads in `simulate` (a C function pointer cannot capture).
nonisolated(unsafe) private var simulatedCPU = 0.0

/// The two-core split's CPU-cost guard (CRecurrentKernels/SplitGuard.c, Pair.c) and the FMA peak loops (MachinePeak.swift).
final class SplitCostTests: XCTestCase {
    /// Claims every millisecond for `seconds` of simulated time: a split claim costs `splitCPU` CPU-seconds of which
    /// `splitWaits` waiting, one on one core `oneCPU`. Returns the fraction of claims allowed to split.
    func simulate(_ g: inout rk_split_guard, from start: Double, seconds: Double,
                  splitCPU: Double, splitWaits: Double, oneCPU: Double, waits: inout Double) -> Double {
        var allowed = 0, claims = 0
        var now = start
        while now < start + seconds {
            claims += 1
            if rk_split_guard_claim(&g, now, waits) != 0 {
                allowed += 1
                simulatedCPU += splitCPU
                waits += splitWaits
            } else {
                simulatedCPU += oneCPU
            }
            now += 0.001
        }
        return Double(allowed) / Double(claims)
    }

    func freshGuard() -> rk_split_guard {
        simulatedCPU = 0
        var g = rk_split_guard()
        rk_split_guard_init(&g) { simulatedCPU }
        return g
    }

    /// A split whose waits keep the estimate within 1.25 is never probed and always runs.
    func testCheapSplitIsNeverProbed() {
        var g = freshGuard(), waits = 0.0
        let split = simulate(&g, from: 0, seconds: 1, splitCPU: 0.002, splitWaits: 0.0002, oneCPU: 0.0018, waits: &waits)
        XCTAssertEqual(split, 1)
        XCTAssertGreaterThanOrEqual(g.windows, 8)
        XCTAssertEqual(g.probes, 0)
        XCTAssertEqual(g.estimate, 0.002 / 0.0018, accuracy: 1e-6)
    }

    /// A split costing 1.6× the CPU of one core (issue 19's batch-1 scoring) is measured at 1.6 and runs on one core
    /// but for its measurement windows, with holds of 0.5, 1 and 2 s.
    func testCostlySplitRunsOnOneCore() {
        var g = freshGuard(), waits = 0.0
        let split = simulate(&g, from: 0, seconds: 3, splitCPU: 0.0016, splitWaits: 0.0006, oneCPU: 0.001, waits: &waits)
        XCTAssertEqual(g.ratio, 1.6, accuracy: 1e-6)
        XCTAssertEqual(g.over, 3)
        XCTAssertEqual(g.hold_one, 2)
        XCTAssertLessThan(split, 0.15)
        XCTAssertEqual(rk_split_guard_claim(&g, 3.001, waits), 0, "inside the third hold")
    }

    /// An estimate above the limit that the probe does not confirm (waits that cost no CPU, e.g. a waiter that was
    /// descheduled) leaves the split running, unwatched for 2 s.
    func testUnconfirmedEstimateKeepsTheSplit() {
        var g = freshGuard(), waits = 0.0
        let split = simulate(&g, from: 0, seconds: 2.2, splitCPU: 0.002, splitWaits: 0.001, oneCPU: 0.0018, waits: &waits)
        XCTAssertEqual(g.probes, 1)
        XCTAssertEqual(g.over, 0)
        XCTAssertEqual(g.ratio, 0.002 / 0.0018, accuracy: 1e-6)
        XCTAssertGreaterThan(split, 0.9)
    }

    /// On the real pair: a split whose part 1 only waits at the barrier while part 0 works is estimated above the
    /// limit, and the guard then probes one core.
    func testLopsidedSplitIsProbed() throws {
        try XCTSkipUnless(PairParallel.isAvailable, "one processor: nothing is ever split")
        PairParallel.resetSplitCost()
        defer { PairParallel.resetSplitCost() }
        var sink = 0.0
        let deadline = monotonicSeconds() + 3
        while SplitCost.current.probes == 0 && monotonicSeconds() < deadline {
            let split = PairParallel.run { part in
                if part == 0 { sink += busy(0.001) }
                PairParallel.barrier(part)
            }
            if !split { sink += busy(0.001) }
        }
        let cost = SplitCost.current
        XCTAssertGreaterThan(cost.windows, 0, "no window closed in 3 s")
        XCTAssertGreaterThan(try XCTUnwrap(cost.estimate), SplitCost.limit)
        XCTAssertEqual(cost.probes, 1)
        XCTAssertTrue(sink.isFinite)
    }

    /// The peak loops run every round: their checksums match the same chains computed one fused multiply–add at a time.
    func testPeakLoopsRunEveryRound() throws {
        try XCTSkipUnless(rk_has_avx2_fma() != 0, "no AVX2 + FMA")
        func chains(_ count: Int, lanes: Int, rounds: Int) -> Float {
            var total: Float = 0
            for i in 0..<count {
                var a = Float(i)
                for _ in 0..<rounds { a = Float(1e-7).addingProduct(a, 1.0000001) }   // fma(a, b, c), as _mm256_fmadd_ps
                total += Float(lanes) * a
            }
            return total
        }
        let rounds = 20_000
        let avx2 = chains(12, lanes: 8, rounds: rounds)
        XCTAssertEqual(rk_peak_fma_avx2(rounds), avx2, accuracy: 1e-5 * avx2)
        if rk_has_avx512f() != 0 {
            let avx512 = chains(24, lanes: 16, rounds: rounds)
            XCTAssertEqual(rk_peak_fma_avx512(rounds), avx512, accuracy: 1e-5 * avx512)
        }
    }

    /// A measured peak has a positive figure for one core and for each core of the pair.
    func testPeakIsMeasuredOnEveryCore() throws {
        let peak = try XCTUnwrap(MachinePeak.measure(seconds: 0.01), "no AVX2 + FMA loop on this processor")
        XCTAssertGreaterThan(peak.oneCore, 0)
        XCTAssertEqual(peak.perCore.count, PairParallel.isAvailable ? 2 : 1)
        XCTAssertTrue(peak.perCore.allSatisfy { $0 > 0 })
        XCTAssertEqual(peak.allCores, peak.perCore.reduce(0, +))
    }
}

/// The monotonic clock in seconds.
private func monotonicSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + 1e-9 * Double(t.tv_nsec)
}

/// Busy work for about `seconds` of this thread's CPU time (a dependent chain the optimiser cannot drop).
private func busy(_ seconds: Double) -> Double {
    func cpu() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
        return Double(t.tv_sec) + 1e-9 * Double(t.tv_nsec)
    }
    var x = 1.0
    let stop = cpu() + seconds
    while cpu() < stop { for _ in 0..<1000 { x = x * 0.999999 + 1e-9 } }
    return x
}
