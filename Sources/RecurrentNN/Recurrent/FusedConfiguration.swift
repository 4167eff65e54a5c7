import CRecurrentKernels
import RecurrentTensor

/// Which kernels the fused layers run, by instruction set (RecurrentTensor's `InstructionSet`). `selected` (the
/// default) takes `InstructionSet.selected`'s everywhere; tests choose others to compare them (each must be one
/// this processor supports).
struct KernelChoice: Sendable, Equatable {
    /// Float gate kernels: CRecurrentKernels/avx2 or avx512's, or the Swift SIMD ones (`.generic`).
    var gates: InstructionSet
    /// Step products and input projection on this instruction set's small-GEMM kernel (PanelPackedWeights.swift),
    /// or sgemm (nil; there is no generic small-GEMM kernel).
    var smallGEMM: InstructionSet?
    /// The batch-1 matrix–vector kernel (GEMV.swift).
    var gemv: InstructionSet

    /// Every kernel of one path (sgemm for the products on `.generic`).
    init(_ path: InstructionSet) {
        gates = path
        smallGEMM = path == .generic ? nil : path
        gemv = path
    }

    /// The kernels of `InstructionSet.selected`, read once.
    static let selected = KernelChoice(InstructionSet.selected)
    /// The Swift kernels and sgemm only.
    static let portable = KernelChoice(.generic)
}

/// How the fused recurrent layers choose their plan (FusedPlan.swift): size thresholds, kernels and
/// whether the two parts of a split may run at the same time. The defaults are what the layers use;
/// tests bind another value for a scope with `FusedConfiguration.$current.withValue(…) { … }`, read once
/// per layer call on the caller's thread (never on the pair's helper thread, which sees no task-locals).
struct FusedConfiguration: Sendable, Equatable {
    /// Steps whose recurrent product has at least this many multiply–adds (B·G·H·P) are split over two
    /// cores, and a bidirectional layer of such steps runs one direction per core.
    var splitMinimumWork = 1 << 16
    /// Split steps pack each part's W_hh rows (one GEMM per part and step, not G), and steps use the
    /// small-GEMM kernel, when the sequence has at least this many steps (and the batch more than one row):
    /// packing once per call then costs less than it saves. A batch-1 step is a matrix–vector product.
    var packMinimumSteps = 8
    /// Split forwards whose step product (B·G·H·P) is at most this, with at least `batchSplitMinimumRows`
    /// rows, split the batch instead of the units: each core runs its own sequences through every step and
    /// the parts never meet between steps. Above it W_hh no longer fits the caches twice over.
    var batchSplitMaximumWork = 1 << 24
    var batchSplitMinimumRows = 12
    var kernels = KernelChoice.selected
    /// False: the parts of a split run one after the other on this thread (the same arithmetic: tests
    /// check that the results are bit-identical).
    var runsPartsConcurrently = true
    /// Whether a split backs off on an oversubscribed machine (PairParallel.swift); tests that must see
    /// both parts run concurrently turn it off.
    var backsOff = true

    static let standard = FusedConfiguration()

    /// The configuration of the layers run in this task (or thread).
    @TaskLocal static var current = FusedConfiguration.standard
}
