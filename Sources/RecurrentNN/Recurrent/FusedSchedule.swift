import RecurrentTensor

/// Runs the two parts of a split plan over the two cores, or one after the other on this thread.
///
/// A part's work is a sequence of phases (packing, then the steps). Concurrently, part 0 runs on this
/// thread and part 1 on the pair's helper thread (PairParallel), each through its phases in order, and
/// they meet at a barrier after every phase for which `barrierAfter` is true. Serially (the configuration
/// says so, the helper is busy, or the machine is oversubscribed and the split backs off): phase k of
/// part 0, then of part 1, then phase k + 1 — an order that respects every barrier. The partition depends
/// on the shapes only and each part does the same arithmetic either way, so results never depend on
/// scheduling (bit-identical reruns on a busy machine and a quiet one).
///
/// Against multi-threaded sgemm per step: the gate pass runs on both cores too, and a step costs one hand-off
/// (a spin barrier) instead of a thread-pool wake-up per GEMM. sgemm runs single-threaded inside: OpenBLAS's
/// own threads must never spin for work inside a layer while the pair's threads need the cores.
struct PairSchedule {
    let concurrent: Bool, backsOff: Bool

    init(_ plan: FusedPlan) { (concurrent, backsOff) = (plan.runsPartsConcurrently, plan.backsOff) }
    init(_ configuration: FusedConfiguration) {
        (concurrent, backsOff) = (configuration.runsPartsConcurrently, configuration.backsOff)
    }

    /// Runs `body(part, phase)` for both parts and every phase in `0..<phases`; returns whether the parts ran
    /// concurrently.
    @discardableResult
    func run(phases: Int, barrierAfter: (Int) -> Bool = { _ in false }, _ body: (_ part: Int, _ phase: Int) -> Void) -> Bool {
        BLASThreads.singleThreaded {
            let ran = concurrent && PairParallel.run(backingOff: backsOff) { part in
                for phase in 0..<phases {
                    body(part, phase)
                    if barrierAfter(phase) { PairParallel.barrier(part) }
                }
            }
            if !ran { for phase in 0..<phases { body(0, phase); body(1, phase) } }
            return ran
        }
    }

    /// Runs `body(r0, r1)` over [0, n) in two halves, one per core (a boundary at a multiple of 8), when
    /// `split` and n ≥ 16; else `body(0, n)` on this thread.
    func halves(_ n: Int, split: Bool, _ body: (Int, Int) -> Void) {
        guard split, n >= 16 else { return body(0, n) }
        let half = (n / 2 + 7) & ~7
        run(phases: 1) { part, _ in part == 0 ? body(0, half) : body(half, n) }
    }
}
