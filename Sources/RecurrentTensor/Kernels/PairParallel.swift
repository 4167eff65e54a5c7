import CRecurrentKernels

// Work split over two cores without a thread pool's per-call wake-up: a persistent helper thread
// (CRecurrentKernels/Pair.c) runs part 1 of a region while the caller runs part 0, and the parts
// meet at a spin barrier between dependent phases (a recurrent layer's time steps). Used where the
// units of work are too small for GCD or OpenBLAS's threading to pay: the per-step products and gate
// passes of the fused recurrent layers, and batch-1 matrix–vector products.

/// Splits small regions of work between this thread and one persistent helper thread (two cores, no thread pool).
public enum PairParallel {
    /// Whether a region could be split at all (two or more processors).
    public static let isAvailable = rk_processor_count() >= 2

    /// Runs `body(0)` on this thread and `body(1)` on the helper thread, returning when both end.
    /// Inside, `barrier(part)` synchronises the two parts. Returns false without running anything
    /// when the helper is unavailable (one processor, or already running a region, e.g. when called
    /// from inside one) or backing off: the caller then does the work unsplit.
    /// - Parameter backingOff: whether to refuse while the machine looks oversubscribed (default): after a
    ///   region where the caller spent over a third of its time waiting for the other part, the next up to
    ///   256 calls return false (rk_pair_try_acquire), and while the split's CPU-cost guard holds the work on one
    ///   core (`SplitCost`). Tests of the split paths pass false.
    @discardableResult
    public static func run(backingOff: Bool = true, _ body: (Int) -> Void) -> Bool {
        guard isAvailable, rk_pair_try_acquire_backing_off(backingOff ? 1 : 0) != 0 else { return false }
        defer { rk_pair_release() }
        withoutActuallyEscaping(body) { body in
            let box = Box(body)
            withExtendedLifetime(box) {
                rk_pair_run({ context, part in
                    Unmanaged<Box>.fromOpaque(context!).takeUnretainedValue().body(part)
                }, Unmanaged.passUnretained(box).toOpaque())
            }
        }
        return true
    }

    /// Waits until the other part of the running region has reached its matching barrier.
    @inline(__always)
    public static func barrier(_ part: Int) { rk_pair_barrier(part) }

    private final class Box {
        let body: (Int) -> Void
        init(_ body: @escaping (Int) -> Void) { self.body = body }
    }
}
