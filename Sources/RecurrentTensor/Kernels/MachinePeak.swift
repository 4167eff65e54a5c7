import CRecurrentKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The processor's fp32 fused multiply–add peak, measured in the running process by the loops of
// CRecurrentKernels/avx2/PeakAVX2.c and avx512/PeakAVX512.c (independent FMA chains, nothing else):
// one core alone, then both cores at once (this thread and the pair's helper, PairParallel). Each thread
// times itself on its own CPU clock, so another process taking turns on the core lowers neither figure;
// a slower clock with both cores busy (turbo) does.

/// The fp32 FMA peak of this machine, measured by a micro-benchmark in this process (`recurrent bench`
/// reports each result as a fraction of it).
public struct MachinePeak: Sendable {
    /// Which vector instructions the loop ran: "avx512f" (16-wide) or "avx2+fma" (8-wide).
    public let instructionSet: String
    /// GFLOP/s of one core running the loop alone.
    public let oneCore: Double
    /// GFLOP/s of each core while both ran the loop at the same time (one value when the process cannot
    /// split work over two cores).
    public let perCore: [Double]
    /// The machine's peak: the cores of `perCore` together.
    public var allCores: Double { perCore.reduce(0, +) }

    /// Measures the peak with the widest loop this processor runs (AVX-512F, else AVX2 + FMA), or the
    /// AVX2 one when `widest` is false; nil on processors with neither (no peak is reported there).
    /// - Parameter seconds: about how long each of the two measurements (one core, both) runs.
    public static func measure(seconds: Double = 0.2, widest: Bool = true) -> MachinePeak? {
        let loop: (Int) -> Float, flopsPerRound: Double, name: String
        if widest && rk_has_avx512f() != 0 {
            (loop, flopsPerRound, name) = ({ Float(rk_peak_fma_avx512($0)) }, 768, "avx512f")
        } else if rk_has_avx2_fma() != 0 {
            (loop, flopsPerRound, name) = ({ Float(rk_peak_fma_avx2($0)) }, 192, "avx2+fma")
        } else {
            return nil
        }
        // Rounds for `seconds`, from a short run (which also wakes the core from its idle clock).
        var rounds = 1 << 16
        var took = 0.0
        while took < 0.02 {
            rounds *= 2
            took = timeOnThreadClock { _ = loop(rounds) }
        }
        rounds = Swift.max(1, Int(Double(rounds) * seconds / took))
        let one = flopsPerRound * Double(rounds) / timeOnThreadClock { _ = loop(rounds) } / 1e9
        let both = UnsafeMutablePointer<Double>.allocate(capacity: 2)
        defer { both.deallocate() }
        let split = PairParallel.run(backingOff: false) { part in
            both[part] = flopsPerRound * Double(rounds) / timeOnThreadClock { _ = loop(rounds) } / 1e9
        }
        return MachinePeak(instructionSet: name, oneCore: one, perCore: split ? [both[0], both[1]] : [one])
    }
}

/// Seconds of this thread's CPU time that `body` takes.
func timeOnThreadClock(_ body: () -> Void) -> Double {
    var start = timespec(), end = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &start)
    body()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &end)
    return Double(end.tv_sec - start.tv_sec) + 1e-9 * Double(end.tv_nsec - start.tv_nsec)
}
