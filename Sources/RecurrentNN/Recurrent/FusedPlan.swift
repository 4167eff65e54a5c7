import RecurrentTensor

/// How one direction of one fused layer runs over a whole sequence, chosen once from the shapes, the
/// lengths and the configuration before any work: which split over the two cores, which kernel runs the
/// step products, whether the input projection is hoisted out of the loop, what history is kept.
/// Tests read the plan a layer used (`RecurrentLayer.fusedPlans`) to know which path they covered.
///
/// Letters: T time, B batch, I input, H hidden, P output width of a step (projSize, or H), G gates.
struct FusedPlan: Sendable, Equatable {
    /// How a pass is divided between the two cores.
    enum Split: Sendable, Equatable {
        /// One part, on this thread.
        case none
        /// Hidden units [0, mid) and [mid, H): each part computes its units' pre-activations, gates and
        /// columns of h_t; the parts meet once per step, since the next product reads all of h_t.
        case units(mid: Int)
        /// Batch rows [0, half) and [half, B), all units each: each core runs its own sequences through
        /// every step and the parts never meet between steps (forward only, small steps).
        case batch(half: Int)
    }

    /// What computes the step products h_{t-1}·W_hhᵀ.
    enum Product: Sendable, Equatable {
        /// The small-GEMM kernel over W_hh (and W_ih) packed into panels once per call (Float, AVX2 + FMA):
        /// PanelPackedWeights.swift.
        case smallGEMM
        /// sgemm over each part's rows of every gate block of W_hh, copied together once per call (G·n, P):
        /// one GEMM per part and step instead of G.
        case packedRows
        /// sgemm (or the matrix–vector kernel for one row) straight on W_hh.
        case sgemm
    }

    let kind: RecurrentCellKind
    let T: Int, B: Int, I: Int, H: Int, P: Int
    var G: Int { kind.gateCount }
    let reverse: Bool
    /// Some sequence is shorter than T: rows past a length must read as zeros, so scratch is zero-filled.
    let variableLengths: Bool
    /// Saves every step for backward ((T, B, ·) buffers); false in inference (nothing will be recorded):
    /// two slots of state and one step of gates.
    let keepsHistory: Bool
    let forwardSplit: Split
    /// Backward splits by units whenever the forward splits at all.
    let backwardSplit: Split
    let product: Product
    /// Each step projects its own B rows of x·W_ihᵀ just before the step (hot in cache for the gate pass)
    /// rather than all T·B rows before the loop: full-length batches on the small-GEMM kernel.
    let projectsPerStep: Bool
    /// A bidirectional layer of these steps runs its two directions one per core.
    let pairsDirections: Bool
    let kernels: KernelChoice
    let runsPartsConcurrently: Bool
    let backsOff: Bool

    /// - Parameters:
    ///   - recording: gradients are being recorded (`isGradEnabled` on the calling thread) and some input
    ///     of the node requires one.
    ///   - singleThreadedBLAS: sgemm runs on one thread here (a direction on its own core, or OpenBLAS set
    ///     so), which makes the small-GEMM kernel the better choice even for unsplit steps.
    init(_ kind: RecurrentCellKind, scalar: Any.Type, T: Int, B: Int, I: Int, H: Int, P: Int, projected: Bool,
         lengths: [Int], reverse: Bool, recording: Bool, singleThreadedBLAS: Bool, configuration c: FusedConfiguration) {
        (self.kind, self.T, self.B, self.I, self.H, self.P, self.reverse) = (kind, T, B, I, H, P, reverse)
        variableLengths = !lengths.allSatisfy { $0 == T }
        keepsHistory = recording
        let work = B * kind.gateCount * H * P                          // multiply–adds of one step's product
        // Only kinds whose step is one product plus a unit-wise pass split: a projected LSTM and the
        // reset-before GRU need a second product over all units mid-step.
        let splittable = !projected && kind != .gruResetBefore && H >= 2 && work >= c.splitMinimumWork
        pairsDirections = Self.pairsDirections(kind, B: B, H: H, P: P, configuration: c)
        // The small-GEMM kernel where the product would run on one thread anyway (a split part, a direction
        // on its own core, a step too small for two), so the choice depends on shapes only. Not for the
        // reset-before GRU (W_hn on r ⊙ h mid-step) nor one row (a matrix–vector product).
        let panels = scalar == Float.self && c.kernels.smallGEMM != nil && kind != .gruResetBefore && B > 1 && T >= c.packMinimumSteps
            && (splittable || work < c.splitMinimumWork || singleThreadedBLAS)
        let batchSplit = splittable && panels && B >= c.batchSplitMinimumRows && work <= c.batchSplitMaximumWork
        forwardSplit = !splittable ? .none : batchSplit ? .batch(half: B / 2) : .units(mid: Self.splitPoint(H))
        backwardSplit = splittable ? .units(mid: Self.splitPoint(H)) : .none
        let unitSplit = splittable && !batchSplit
        // Packing a part's rows pays for G > 1 over several steps of several rows.
        product = panels ? .smallGEMM : unitSplit && kind.gateCount > 1 && B > 1 && T >= c.packMinimumSteps ? .packedRows : .sgemm
        projectsPerStep = panels && !variableLengths
        kernels = c.kernels
        runsPartsConcurrently = c.runsPartsConcurrently
        backsOff = c.backsOff
    }

    /// Every row of every step is written when all sequences are full length: scratch needs no zero fill.
    var zeroFill: Bool { variableLengths }
    /// Inference projecting per step keeps only the step's (B, G·H) rows of the projection (backward never
    /// reads it, and without backward nothing does): one buffer that stays in cache.
    var keepsOnlyStepProjection: Bool { projectsPerStep && !keepsHistory }
    /// Inference over full-length sequences writes h_t straight into its output row and reads h_{t−1} back
    /// from there (h0 from slot 0): no per-step copy into the output.
    var stateInOutput: Bool { !keepsHistory && !variableLengths }

    /// Whether a bidirectional layer of these steps runs one direction per core (RecurrentLayer.bothDirections):
    /// as soon as a step is big enough to split at all.
    static func pairsDirections(_ kind: RecurrentCellKind, B: Int, H: Int, P: Int, configuration c: FusedConfiguration) -> Bool {
        B * kind.gateCount * H * P >= c.splitMinimumWork
    }

    /// Hidden units of each part: [0, mid) and [mid, H), mid a multiple of 8 (whole SIMD vectors) when H allows.
    static func splitPoint(_ H: Int) -> Int {
        let half = H / 2
        return H >= 16 ? Swift.max(8, (half + 4) & ~7) : half
    }
}
