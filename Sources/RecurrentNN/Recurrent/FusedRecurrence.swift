import RecurrentTensor

// One layer, one direction, a whole sequence: one autograd node with hand-written BPTT.
//
// Forward: the input projection of every step as one GEMM, then per step one GEMM for h_{t-1}·W_hhᵀ
// and one pass of the gate kernel; every value backward needs is kept in step-indexed (T, B, ·)
// buffers allocated before the loop. Backward: one reverse walk over the steps computing the gate
// gradients, then the weight gradients as single GEMMs over all steps, written straight into the
// parameters' `grad` (ScratchBuffer.swift, `accumulateGradient`).
//
// Split steps: when a step is big enough, its work is split over two cores by hidden units (the
// caller's thread takes units [0, mid), the helper thread of `PairParallel` units [mid, H)). Each part
// computes the pre-activations of its units, runs the gate kernel on them and writes its columns of
// h_t, c_t and the output; the parts meet at one barrier per step, since the next step's product reads
// all of h_t. A part's pre-activations go to a (B, G·n) buffer of its own (n its unit count), which the
// gate kernels read with its own gate stride n. For long enough sequences with B > 1 (`fusedPackMinimumSteps`)
// a part's rows of every gate block of W_hh are packed once per forward into one contiguous (G·n, P)
// matrix (W_hh's rows permuted, part 0's first), so the product is one single-threaded GEMM per step,
// (B, P)·(P, G·n), rather than G GEMMs that each pack h_{t-1} again and take a call each. Backward
// is split the same way: each part turns its columns of ∂L/∂h into its units' gate gradients, the
// parts meet, and each computes its columns of ∂L/∂h_{t-1} = dGates·W_hh. Compared with
// multi-threaded sgemm per step, the gate pass runs on both cores and there is one hand-off per
// step instead of a thread-pool wake-up per GEMM. Only kinds whose step is one product plus a
// unit-wise pass are split (RNN, LSTM without projection, GRU with reset after); a projected LSTM and
// the reset-before GRU need a second product over all units mid-step and run unsplit.
//
// Smaller steps (`fusedBatchSplitMaximumWork`, on the small-GEMM kernel) split the forward by batch rows
// instead: each core runs its half of the sequences through every step with all units, so the parts never
// meet between steps (one barrier per step costs 1–5 µs of a 200 µs lstm-256 step, more when the machine
// is busy). Every element is computed by the same kernels in the same order either way: bit-identical.
// Backward keeps the split by units.
//
// Float on a processor with AVX2 + FMA, B > 1, T ≥ `fusedPackMinimumSteps`: the step products, the input
// projection and backward's ∂h product run on the small-GEMM kernel (PanelPackedWeights.swift,
// CRecurrentKernels/SmallGEMMAVX2.c) over W_ih and W_hh packed once per call, 95–97 % of a core's FMA peak
// where sgemm reaches 68–81 % at these shapes; with full-length batches each step projects its own B rows just
// before the step (hot in cache for the gate pass) instead of all T·B rows up front. Inference (no gradient
// recorded) keeps no per-step history: two slots of h and c, one step of gates.
//
// Variable lengths: at step s, sequence b is active while s < length_b and reads/writes time
// t = s (forward) or t = length_b − 1 − s (reverse, so each sequence starts at its own end). An
// inactive sequence keeps its state and writes zeros, which is exactly what PyTorch's packed
// sequences compute.
//
// Letters: T time, B batch, I input, H hidden, P output width of a step (projSize, or H), G gates.

/// The parameters of one layer in one direction, PyTorch's shapes.
struct DirectionWeights<Scalar: TensorScalar> {
    let weightIH: Tensor<Scalar>      // (G·H, I)
    let weightHH: Tensor<Scalar>      // (G·H, P)
    let biasIH: Tensor<Scalar>?       // (G·H)
    let biasHH: Tensor<Scalar>?       // (G·H)
    let weightHR: Tensor<Scalar>?     // (P, H), LSTM projection

    var tensors: [Tensor<Scalar>] { [weightIH, weightHH] + [biasIH, biasHH, weightHR].compactMap { $0 } }
}

/// Steps whose recurrent product has at least this many multiply–adds (B·G·H·P) are split over two
/// cores. Tests set it to 0 to run the split path at small sizes.
nonisolated(unsafe) var fusedSplitMinimumWork = 1 << 16
/// Counts of split forwards and of bidirectional layers run one direction per core (tests check that
/// the paths they mean to cover ran).
nonisolated(unsafe) var fusedSplitForwardCount = 0, fusedConcurrentDirectionsCount = 0

/// Split steps pack each part's W_hh rows (one GEMM per part and step, not G) when the sequence has at
/// least this many steps and the batch more than one row: the copy of W_hh, once per call, then costs
/// less than the per-call work it saves (a batch-1 step is a matrix–vector product: nothing to save).
/// Tests set it to 0 or Int.max to cover both paths.
nonisolated(unsafe) var fusedPackMinimumSteps = 8

/// Split forwards whose step product (B·G·H·P multiply–adds) is at most this, with a batch of at least
/// `fusedBatchSplitMinimumRows`, split the batch instead of the units (`forwardStep`'s row range): each core
/// runs its own sequences through every step, so the parts never meet between steps. Measured on the
/// small-GEMM kernel: lstm-256's 16 × 1024 × 256 runs at the rate of the units split's 32 × 512 × 256,
/// while lstm2-512's 32 × 2048 × 512 loses 4 % against 64 × 1024 × 512 (W_hh no longer fits the caches
/// twice over). Tests set it to -1 or Int.max to cover both splits, and lower the minimum batch.
nonisolated(unsafe) var fusedBatchSplitMaximumWork = 1 << 24
nonisolated(unsafe) var fusedBatchSplitMinimumRows = 12

/// Hidden units of each part: [0, mid) and [mid, H), mid a multiple of 8 (whole SIMD vectors) when H allows.
@inline(__always)
func splitPoint(_ H: Int) -> Int {
    let half = H / 2
    return H >= 16 ? Swift.max(8, (half + 4) & ~7) : half
}

/// The forward of one layer in one direction, not yet on the tape, and its backward in two phases.
struct FusedSequence<Scalar: TensorScalar> {
    let output: Tensor<Scalar>, h: Tensor<Scalar>, c: Tensor<Scalar>?
    /// The node's inputs: x, h0, c0 (LSTM), then the weights in `DirectionWeights.tensors` order.
    let inputs: [Tensor<Scalar>]
    /// Backward phase 1, the BPTT walk over the steps, given the gradients of (output, h, c). It touches
    /// only memory of its own, so the two directions of a bidirectional layer may walk concurrently.
    /// Returns phase 2: the weight and input gradients as GEMMs over all steps, accumulated straight
    /// into the leaves' `grad` (so phase 2 runs on one thread at a time), and the gradients for the engine.
    let walk: ([Tensor<Scalar>?]) -> () -> [Tensor<Scalar>?]

    var outputs: [Tensor<Scalar>] { [output, h] + (c.map { [$0] } ?? []) }

    /// Records this sequence as one node on the tape.
    func record(_ name: String) {
        let walk = walk
        Tensor.record(name, inputs: inputs, outputs: outputs) { grads in walk(grads)() }
    }
}

/// Runs `kind` over `x` in one direction and records one node on the tape.
/// - Parameters:
///   - x: (T, B, I)
///   - h0: (B, P)
///   - c0: (B, H), LSTM only
///   - lengths: B lengths in 1...T
///   - onHiddenGradientNorm: called during backward with ‖∂L/∂h_t‖ for each step, indexed by t.
/// - Returns: output (T, B, P), zero past each length; final h (B, P); final c (B, H) for LSTM.
func fusedRecurrence<Scalar: TensorScalar>(
    _ kind: RecurrentCellKind, x: Tensor<Scalar>, h0: Tensor<Scalar>, c0: Tensor<Scalar>?,
    weights w: DirectionWeights<Scalar>, lengths: [Int], reverse: Bool,
    onHiddenGradientNorm: (([Scalar]) -> Void)? = nil
) -> (output: Tensor<Scalar>, h: Tensor<Scalar>, c: Tensor<Scalar>?) {
    let sequence = fusedSequence(kind, x: x, h0: h0, c0: c0, weights: w, lengths: lengths, reverse: reverse,
                                 onHiddenGradientNorm: onHiddenGradientNorm)
    sequence.record("\(kind.rawValue)Sequence")
    return (sequence.output, sequence.h, sequence.c)
}

/// The forward of `fusedRecurrence`, with its backward returned rather than recorded (see `FusedSequence`).
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
func fusedSequence<Scalar: TensorScalar>(
    _ kind: RecurrentCellKind, x: Tensor<Scalar>, h0: Tensor<Scalar>, c0: Tensor<Scalar>?,
    weights w: DirectionWeights<Scalar>, lengths: [Int], reverse: Bool,
    onHiddenGradientNorm: (([Scalar]) -> Void)? = nil
) -> FusedSequence<Scalar> {
    let (T, B, I) = (x.shape[0], x.shape[1], x.shape[2])
    let G = kind.gateCount, GH = w.weightIH.shape[0], H = GH / G, P = w.weightHH.shape[1]
    checkShapes("fusedRecurrence input·W_ihᵀ", x.shape, w.weightIH.shape, w.weightIH.shape[1] == I)
    checkShapes("fusedRecurrence h0", h0.shape, [B, P], h0.shape == [B, P])
    let isLSTM = kind == .lstm, isGRU = kind == .gru || kind == .gruResetBefore
    let projected = w.weightHR != nil
    let uniform = !reverse && lengths.allSatisfy { $0 == T }
    // Every row of every step is written when all sequences are full, so scratch needs no zero fill.
    let zeroFill = !lengths.allSatisfy { $0 == T }
    let allActive = lengths.min() ?? T                      // steps below this have every row active
    // Inference (no node will be recorded, by `Tensor.record`'s own test, so backward never runs): no
    // per-step history, only what the next step reads: two slots of h and c, one step of gates. Saves
    // writing (T, B, G·H) of gates nobody reads, and its pages (lstm2-512: 52 MB per layer).
    let keepsHistory = isGradEnabled && ([x, h0] + (c0.map { [$0] } ?? []) + w.tensors).contains { $0.requiresGrad }
    let historySteps = keepsHistory ? T : 1
    @inline(__always) func hist(_ s: Int) -> Int { keepsHistory ? s : 0 }       // step index into gates, tanhC, aux
    @inline(__always) func slot(_ s: Int) -> Int { keepsHistory ? s : s & 1 }   // state index into hs, cs
    let isFloat = Scalar.self == Float.self
    // Split over two cores when the step is one product plus a unit-wise pass and big enough.
    let splittable = !projected && kind != .gruResetBefore && H >= 2 && B * GH * P >= fusedSplitMinimumWork
    let mid = splitPoint(H)

    // Buffers; raw pointers are taken once, outside the loops (no reference counting per step).
    let stateSlots = keepsHistory ? T + 1 : 2
    let hs = Scratch<Scalar>(stateSlots * B * P, zeroed: zeroFill)                     // (T+1, B, P): hs[s] = h before step s
    let cs = isLSTM ? Scratch<Scalar>(stateSlots * B * H, zeroed: zeroFill) : nil      // (T+1, B, H)
    let tanhC = isLSTM ? Scratch<Scalar>(historySteps * B * H, zeroed: zeroFill) : nil // (T, B, H) tanh(c_t), for backward
    let gates = Scratch<Scalar>(historySteps * B * GH, zeroed: zeroFill)               // (T, B, G·H) activated gates
    // (T, B, H): GRU: W_hn h + b_hn (reset after) or r ⊙ h (reset before); LSTM with projection: o ⊙ tanh c.
    let aux = (isGRU || projected) ? Scratch<Scalar>(historySteps * B * H, zeroed: zeroFill) : nil
    // Split, G > 1: W_hh's rows by part, (G·mid, P) then (G·(H−mid), P), each part's gate blocks in order.
    // (One gate: a part's rows are already contiguous in W_hh. Not packed: G products per part and step.)
    // Float with AVX2: every step's product on the small-GEMM kernel, W_hh packed into panels once per call
    // (PanelPackedWeights.swift), per part and gate block when split. Only where the product would run on
    // one thread anyway (a split part, a direction on its own core, a step too small for two), so the
    // choice depends on shapes only. GRU with reset before needs W_hn on r ⊙ h mid-step: sgemm.
    let usesPanels = isFloat && smallGEMMUsesAVX2 && kind != .gruResetBefore && B > 1 && T >= fusedPackMinimumSteps
        && (splittable || B * GH * P < fusedSplitMinimumWork || BLASThreads.isSingleThreaded)
    // Split by batch rows rather than units (`fusedBatchSplitMaximumWork`): whole gate rows per part.
    let batchSplit = splittable && usesPanels && B >= fusedBatchSplitMinimumRows && B * GH * P <= fusedBatchSplitMaximumWork
    let unitSplit = splittable && !batchSplit
    // (B, G·H) per-step h·W_hhᵀ; units split: part 0's (B, G·mid) then part 1's (B, G·(H−mid)) from `hwSecond`.
    let hwSecond = (B * G * mid + 15) & ~15                                            // 64-byte apart: no shared line
    let hw = Scratch<Scalar>(unitSplit ? hwSecond + B * G * (H - mid) : B * GH, zeroed: false)
    let panels = !usesPanels ? nil : PanelPackedWeights(blocks: unitSplit
        ? Array(repeating: (mid, P), count: G) + Array(repeating: (H - mid, P), count: G) : [(GH, P)])
    // The input projection over all steps on the same kernel (it beats sgemm there too: 98 against 89–91
    // GFLOP/s at (T·B, G·n, I) = (1600, 512, 256)), W_ih packed the same way, the biases added by the kernel.
    let inputPanels = !usesPanels ? nil : PanelPackedWeights(blocks: unitSplit
        ? Array(repeating: (mid, I), count: G) + Array(repeating: (H - mid, I), count: G) : [(GH, I)])
    let packedHH = !usesPanels && unitSplit && G > 1 && B > 1 && T >= fusedPackMinimumSteps ? Scratch<Scalar>(GH * P, zeroed: false) : nil
    // (T, B, P), time-indexed; every row is written when all sequences are full (zeros past a length otherwise).
    let output = zeroFill ? Tensor<Scalar>(zeros: [T, B, P]) : Tensor<Scalar>.uninitialized([T, B, P])
    hs.data.update(from: h0.data, count: B * P)
    if let cs, let c0 { cs.data.update(from: c0.data, count: B * H) }

    // Biases folded into the input projection where they add linearly: all of b_hh for RNN and LSTM,
    // r and z for GRU (GRU's b_hn sits inside r ⊙ (W_hn h + b_hn), added per step).
    let foldedHH = isGRU ? 2 * H : GH
    // (Pointers taken once: `Tensor.data` reads class properties, each with a dynamic exclusivity check.)
    let bih = w.biasIH?.data, bhhAll = w.biasHH?.data
    let bias: Scratch<Scalar>? = bih == nil && bhhAll == nil ? nil : Scratch<Scalar>(GH, zeroed: bih == nil)  // (G·H)
    if let b = bias?.data {
        if let bih { b.update(from: bih, count: GH) }
        if let bhhAll { for j in 0..<foldedHH { b[j] += bhhAll[j] } }
    }
    // Full-length batches (step s reads the B rows of one time, s or T−1−s) project each step's rows just
    // before the step, so the gate pass reads them from cache, not from a (T, B, G·H) buffer written long
    // before (LSTM-256 training +8 %, inference +5 %).
    let projectsPerStep = inputPanels != nil && !zeroFill
    // (T, B, G·H) x·W_ihᵀ + folded biases. Inference projecting per step keeps only the step's (B, G·H) rows,
    // one buffer that stays in cache (backward never reads the projection, and without it nothing does).
    let stepProjection = projectsPerStep && !keepsHistory
    let xw = Scratch<Scalar>((stepProjection ? B : T * B) * GH, zeroed: false)
    /// Row of `xw` holding row r of the (T·B, G·H) projection.
    @inline(__always) func xwRow(_ r: Int) -> Int { stepProjection ? r % B : r }
    let xp = x.data, wih = w.weightIH.data, whh = w.weightHH.data, bhh = w.biasHH?.data, whr = w.weightHR?.data
    let xwp = xw.data, hsp = hs.data, csp = cs?.data, tcp = tanhC?.data, gp = gates.data, auxp = aux?.data
    let hwp = hw.data, outp = output.data, packedp = packedHH?.data
    let bhn = kind == .gru ? bhh.map { $0 + 2 * H } : nil               // GRU's b_hn, (H)
    @inline(__always) func time(_ s: Int, _ b: Int) -> Int { reverse ? lengths[b] - 1 - s : s }
    // Inference over full-length sequences writes h_t straight into its output row and reads h_{t−1} back
    // from there (h0 from slot 0): no per-step copy into the output (lstm-256 inference: 0.9 % of the time).
    let stateInOutput = !keepsHistory && !zeroFill
    /// (B, P) h before step s: slot s of `hs`, or with `stateInOutput` the output row of step s − 1.
    @inline(__always) func statePointer(_ s: Int) -> UnsafeMutablePointer<Scalar> {
        stateInOutput && s > 0 ? outp + (reverse ? T - s : s - 1) * B * P : hsp + slot(s) * B * P
    }
    @inline(__always) func active(_ s: Int, _ b: Int) -> Bool { s < allActive || s < lengths[b] }

    /// Input projection of units [u0, u1) of every gate, all steps, plus the folded biases.
    /// With the small-GEMM kernel: packs W_ih's rows of units [u0, u1), then projects every step at once,
    /// or nothing yet when each step projects its own rows (`projectsPerStep`).
    func project(_ u0: Int, _ u1: Int) {
        if let inputPanels {
            let first = u0 == 0 ? 0 : G
            if u0 == 0 && u1 == H {
                inputPanels.pack(0, from: f32(wih), rowStride: I, depthStride: 1)
            } else {
                for g in 0..<G { inputPanels.pack(first + g, from: f32(wih + (g * H + u0) * I), rowStride: I, depthStride: 1) }
            }
            if !projectsPerStep { projectRows(0, T * B, u0, u1) }
            return
        }
        if u0 == 0 && u1 == H {
            productWithTransposed(m: T * B, n: GH, k: I, a: xp, lda: I, b: wih, ldb: I, c: xwp, ldc: GH)
        } else {
            for g in 0..<G {
                productWithTransposed(m: T * B, n: u1 - u0, k: I, a: xp, lda: I, b: wih + (g * H + u0) * I, ldb: I, c: xwp + g * H + u0, ldc: GH)
            }
        }
        guard let bp = bias?.data else { return }
        for r in 0..<(T * B) {
            let row = xwp + r * GH
            for g in 0..<G { for j in (g * H + u0)..<(g * H + u1) { row[j] += bp[j] } }
        }
    }

    /// Rows [r0, r1) of the (T·B, G·H) input projection, units [u0, u1), biases included (small-GEMM kernel).
    func projectRows(_ r0: Int, _ r1: Int, _ u0: Int, _ u1: Int) {
        guard let inputPanels else { return }
        let bp = bias.map { UnsafePointer(f32($0.data)) }
        if u0 == 0 && u1 == H {
            inputPanels.product(0, m: r1 - r0, a: f32(xp + r0 * I), lda: I, bias: bp, c: f32(xwp + xwRow(r0) * GH), ldc: GH)
            return
        }
        let first = u0 == 0 ? 0 : G
        for g in 0..<G {
            inputPanels.product(first + g, m: r1 - r0, a: f32(xp + r0 * I), lda: I, bias: bp.map { $0 + g * H + u0 },
                                c: f32(xwp + xwRow(r0) * GH + g * H + u0), ldc: GH)
        }
    }

    /// A part's rows of every gate block of W_hh, packed (see `packedHH`).
    func packRecurrentWeights(_ u0: Int, _ u1: Int) {
        let n = u1 - u0
        if let panels {                                    // block (part, g): rows g·H + u0 ..< g·H + u1
            let first = u0 == 0 ? 0 : G
            for g in 0..<G { panels.pack(first + g, from: f32(whh + (g * H + u0) * P), rowStride: P, depthStride: 1) }
            return
        }
        guard let packedp else { return }
        for g in 0..<G { (packedp + (G * u0 + g * n) * P).update(from: whh + (g * H + u0) * P, count: n * P) }
    }

    /// Step s for hidden units [u0, u1) (all of them when unsplit) of batch rows [b0, b1) (all of them but
    /// in a batch split, whose parts take all units of their own rows).
    func forwardStep(_ s: Int, _ u0: Int, _ u1: Int, rows b0: Int = 0, _ b1: Int = B) {
        let whole = u0 == 0 && u1 == H, n = u1 - u0, rowCount = b1 - b0
        let hPrev = statePointer(s), hNext = statePointer(s + 1)
        // This part's (B, G·n) recurrent pre-activations: row b at `hwPart + b * hwWidth`, gate blocks `hStride` apart.
        let hwPart = whole ? hwp : hwp + (u0 == 0 ? 0 : hwSecond), hwWidth = whole ? GH : G * n, hStride = whole ? H : n
        if projectsPerStep {                                             // step s reads the rows of time t
            let t = reverse ? T - 1 - s : s
            projectRows(t * B + b0, t * B + b1, u0, u1)
        }
        if let panels {
            if whole {
                panels.product(0, m: rowCount, a: f32(hPrev + b0 * P), lda: P, c: f32(hwp + b0 * GH), ldc: GH)
            } else {
                let first = u0 == 0 ? 0 : G
                for g in 0..<G { panels.product(first + g, m: B, a: f32(hPrev), lda: P, c: f32(hwPart + g * n), ldc: G * n) }
            }
        } else if kind == .gruResetBefore {
            productWithTransposed(m: B, n: 2 * H, k: P, a: hPrev, lda: P, b: whh, ldb: P, c: hwp, ldc: GH)
        } else if whole {
            productWithTransposed(m: B, n: GH, k: P, a: hPrev, lda: P, b: whh, ldb: P, c: hwp, ldc: GH)
        } else {
            if G == 1 || packedp != nil {
                let rows = packedp.map { $0 + G * u0 * P } ?? whh + u0 * P     // (G·n, P)
                productWithTransposed(m: B, n: G * n, k: P, a: hPrev, lda: P, b: rows, ldb: P, c: hwPart, ldc: G * n)
            } else {
                for g in 0..<G {
                    productWithTransposed(m: B, n: n, k: P, a: hPrev, lda: P, b: whh + (g * H + u0) * P, ldb: P,
                                          c: hwPart + g * n, ldc: G * n)
                }
            }
        }
        for b in b0..<b1 where active(s, b) {
            let xr = xwp + xwRow(time(s, b) * B + b) * GH + u0, hr = hwPart + b * hwWidth
            let g = gp + (hist(s) * B + b) * GH + u0, hp = hPrev + b * P + u0, hn = hNext + b * P + u0
            let unit = (hist(s) * B + b) * H + u0                            // offset in (T, B, H) buffers
            let cp = csp.map { $0 + slot(s) * B * H + b * H + u0 }, cn = csp.map { $0 + slot(s + 1) * B * H + b * H + u0 }
            if isFloat {
                // Float: SIMD gate kernels with the vectorised activations (FusedGateKernels.swift).
                switch kind {
                case .rnnTanh:
                    rnnTanhRowForward(f32(xr), f32(hr), f32(hn), n); continue
                case .lstm:
                    let m = projected ? auxp! + unit : hn
                    lstmRowForward(f32(xr), f32(hr), f32(g), f32(cp!), f32(cn!), f32(m), f32(tcp! + unit), n, stride: H, hStride: hStride)
                    continue
                case .gru:
                    gruRowForward(f32(xr), f32(hr), bhn.map { f32($0 + u0) }, f32(g), f32(hp), f32(hn), f32(auxp! + unit), n,
                                  stride: H, hStride: hStride)
                    continue
                default: break
                }
            }
            switch kind {
            case .rnnTanh:
                for j in 0..<n { hn[j] = Scalar.tanh(xr[j] + hr[j]) }
            case .rnnRelu:
                for j in 0..<n { hn[j] = Swift.max(xr[j] + hr[j], 0) }
            case .lstm:
                let cp = cp!, cn = cn!, tc = tcp! + unit
                let m = projected ? auxp! + unit : hn
                for j in 0..<n {
                    let i = Scalar.sigmoid(xr[j] + hr[j])
                    let f = Scalar.sigmoid(xr[H + j] + hr[hStride + j])
                    let gg = Scalar.tanh(xr[2 * H + j] + hr[2 * hStride + j])
                    let o = Scalar.sigmoid(xr[3 * H + j] + hr[3 * hStride + j])
                    g[j] = i; g[H + j] = f; g[2 * H + j] = gg; g[3 * H + j] = o
                    let c = f * cp[j] + i * gg
                    cn[j] = c
                    tc[j] = Scalar.tanh(c)
                    m[j] = o * tc[j]
                }
            case .gru:
                let hnSaved = auxp! + unit
                for j in 0..<n {
                    let r = Scalar.sigmoid(xr[j] + hr[j])
                    let z = Scalar.sigmoid(xr[H + j] + hr[hStride + j])
                    let hnj = hr[2 * hStride + j] + (bhn?[u0 + j] ?? 0)
                    let nn = Scalar.tanh(xr[2 * H + j] + r * hnj)
                    g[j] = r; g[H + j] = z; g[2 * H + j] = nn
                    hnSaved[j] = hnj
                    hn[j] = (1 - z) * nn + z * hp[j]
                }
            case .gruResetBefore:
                let rh = auxp! + unit
                for j in 0..<n {
                    let r = Scalar.sigmoid(xr[j] + hr[j])
                    g[j] = r; g[H + j] = Scalar.sigmoid(xr[H + j] + hr[H + j])
                    rh[j] = r * hp[j]
                }
            }
        }
        if kind == .gruResetBefore {
            // n needs W_hn (r ⊙ h): a second GEMM once every row's r is known. Inactive rows of aux are zero.
            let rh = auxp! + hist(s) * B * H
            Scalar.gemm(transA: false, transB: true, m: B, n: H, k: H, alpha: 1, a: rh, lda: H,
                        b: whh + 2 * H * P, ldb: P, beta: 0, c: hwp + 2 * H, ldc: GH)
            for b in 0..<B where active(s, b) {
                let xr = xwp + xwRow(time(s, b) * B + b) * GH, hr = hwp + b * GH
                let g = gp + (hist(s) * B + b) * GH, hp = hPrev + b * P, hn = hNext + b * P
                for j in 0..<H {
                    let nn = Scalar.tanh(xr[2 * H + j] + hr[2 * H + j] + (bhh?[2 * H + j] ?? 0))
                    let z = g[H + j]
                    g[2 * H + j] = nn
                    hn[j] = (1 - z) * nn + z * hp[j]
                }
            }
        }
        if let whr {
            // h = m · W_hrᵀ: (B, H)·(H, P)
            Scalar.gemm(transA: false, transB: true, m: B, n: P, k: H, alpha: 1, a: auxp! + hist(s) * B * H, lda: H,
                        b: whr, ldb: H, beta: 0, c: hNext, ldc: P)
        }
        // Output rows of active sequences; finished ones carry their state.
        if stateInOutput { return }
        let p0 = whole ? 0 : u0, pn = whole ? P : n
        for b in b0..<b1 {
            if active(s, b) {
                (outp + (time(s, b) * B + b) * P + p0).update(from: hNext + b * P + p0, count: pn)
            } else {
                (hNext + b * P + p0).update(from: hPrev + b * P + p0, count: pn)
                if let csp { (csp + slot(s + 1) * B * H + b * H + u0).update(from: csp + slot(s) * B * H + b * H + u0, count: n) }
            }
        }
    }

    // The partition into parts depends on the shapes only; whether the parts run concurrently depends on
    // the machine (a second core, the helper free, no back-off). Run one after the other, the parts do
    // exactly the same arithmetic, so results never depend on scheduling (bit-identical reruns).
    /// Packs a weight (G·H, depth) as the one block of `weights` (a batch split's whole-row panels).
    func packWhole(_ weights: PanelPackedWeights?, _ w: UnsafeMutablePointer<Scalar>, _ depth: Int) {
        weights!.pack(0, from: f32(w), rowStride: depth, depthStride: 1)
    }

    if batchSplit {
        // Parts: rows [0, half) and [half, B), every unit, no barrier between steps. Packing and, with
        // variable lengths (each row reads its own time), the projection of every step are shared: one
        // part packs W_hh and the other W_ih, each projects half of the rows, with a barrier after each.
        let half = B / 2
        BLASThreads.singleThreaded {
            let concurrent = PairParallel.run { part in
                if part == 0 { packWhole(panels, whh, P) } else { packWhole(inputPanels, wih, I) }
                PairParallel.barrier(part)
                if !projectsPerStep {
                    let rows = T * B, mid = rows / 2
                    projectRows(part == 0 ? 0 : mid, part == 0 ? mid : rows, 0, H)
                    PairParallel.barrier(part)
                }
                let (b0, b1) = part == 0 ? (0, half) : (half, B)
                for s in 0..<T { forwardStep(s, 0, H, rows: b0, b1) }
            }
            if concurrent {
                fusedSplitForwardCount += 1
            } else {
                packWhole(panels, whh, P); packWhole(inputPanels, wih, I)
                if !projectsPerStep { projectRows(0, T * B, 0, H) }
                for s in 0..<T { forwardStep(s, 0, H, rows: 0, half) }
                for s in 0..<T { forwardStep(s, 0, H, rows: half, B) }
            }
        }
    } else if splittable {
        BLASThreads.singleThreaded {
            let concurrent = PairParallel.run { part in
                let (u0, u1) = part == 0 ? (0, mid) : (mid, H)
                packRecurrentWeights(u0, u1)
                project(u0, u1)                      // a part's steps read only its own columns of xw
                for s in 0..<T {
                    forwardStep(s, u0, u1)
                    PairParallel.barrier(part)       // the next product reads both parts' h_t
                }
            }
            if concurrent {
                fusedSplitForwardCount += 1
            } else {
                packRecurrentWeights(0, mid); packRecurrentWeights(mid, H)
                project(0, mid); project(mid, H)
                for s in 0..<T { forwardStep(s, 0, mid); forwardStep(s, mid, H) }
            }
        }
    } else {
        if let panels { panels.pack(0, from: f32(whh), rowStride: P, depthStride: 1) }
        project(0, H)
        for s in 0..<T { forwardStep(s, 0, H) }
    }

    let hFinal = Tensor<Scalar>(zeros: [B, P])
    hFinal.data.update(from: statePointer(T), count: B * P)
    let cFinal = csp.map { csp -> Tensor<Scalar> in
        let c = Tensor<Scalar>(zeros: [B, H]); c.data.update(from: csp + slot(T) * B * H, count: B * H); return c
    }

    let inputs = [x, h0] + (c0.map { [$0] } ?? []) + w.tensors
    // The closure owns the saved buffers (never the outputs: that would be a reference cycle); the raw
    // pointers below are re-derived from them.
    // (Not xw: backward never reads the input projection, and it is as big as the gates.)
    let walk = { [hs, cs, tanhC, gates, aux] (grads: [Tensor<Scalar>?]) -> () -> [Tensor<Scalar>?] in
        // No history means no input of this sequence wanted a gradient (only reachable when a bidirectional
        // layer's node is recorded for the other direction's sake): nothing to compute.
        guard keepsHistory else { return { [Tensor<Scalar>?](repeating: nil, count: inputs.count) } }
        let hsp = hs.data, csp = cs?.data, tcp = tanhC?.data, gp = gates.data, auxp = aux?.data
        // ---- BPTT: one reverse walk over the steps ----
        let dh = Tensor<Scalar>(zeros: [B, P])                               // (B, P) ∂L/∂h carried backwards
        if let g = grads[1] { dh.copy(from: g) }
        let dc = Tensor<Scalar>(zeros: [B, H])                               // (B, H) ∂L/∂c carried backwards
        if isLSTM, grads.count > 2, let g = grads[2] { dc.copy(from: g) }
        let gOut = grads[0]?.data
        let dGx = Scratch<Scalar>(T * B * GH, zeroed: zeroFill)                          // (T, B, G·H) ∂L/∂(pre-activation), input side
        let dGh = isGRU ? Scratch<Scalar>(T * B * GH, zeroed: zeroFill) : dGx            // (T, B, G·H) recurrent side (differs for GRU's n)
        let dhProjected = projected ? Scratch<Scalar>(T * B * P, zeroed: zeroFill) : nil // (T, B, P) ∂L/∂h of active rows, for W_hr
        let dm = projected ? Scratch<Scalar>(B * H, zeroed: false) : Scratch(viewing: dh) // (B, H) ∂L/∂(o ⊙ tanh c)
        let dhNew = Scratch<Scalar>(B * P, zeroed: false)                                // (B, P) scratch
        let direct = isGRU ? Scratch<Scalar>(B * P, zeroed: true) : nil                  // (B, P) GRU's z ⊙ dh path
        let recordNorms = onHiddenGradientNorm != nil
        var squares = [Scalar](repeating: 0, count: recordNorms ? 2 * T : 0)            // per part, per step
        let dhp = dh.data, dcp = dc.data, dGxp = dGx.data, dGhp = dGh.data, dmp = dm.data, dhNewp = dhNew.data
        let dhProjectedp = dhProjected?.data, directp = direct?.data
        let recurrentGates = kind == .gruResetBefore ? 2 * H : GH
        // The ∂h product's operand, W_hh's columns of each part (all P when unsplit) over its gate rows, in
        // panels for the small-GEMM kernel: block 0 columns [0, mid) (or all), block 1 [mid, H).
        let backPanels = !usesPanels ? nil : PanelPackedWeights(blocks: splittable
            ? [(mid, recurrentGates), (H - mid, recurrentGates)] : [(P, recurrentGates)])
        func packBackward(_ part: Int) {
            let p0 = part == 0 ? 0 : mid
            backPanels?.pack(part, from: f32(whh + p0), rowStride: 1, depthStride: P)
        }

        /// Step s for units [u0, u1): the gate gradients (`gates`), then this part's columns of ∂h_{s-1}
        /// (`product`), with the barrier between them when a part does both.
        func backwardStep(_ s: Int, _ u0: Int, _ u1: Int, part: Int, squares: UnsafeMutablePointer<Scalar>?,
                          gates doGates: Bool = true, product doProduct: Bool = true) {
            let whole = u0 == 0 && u1 == H, n = u1 - u0
            let p0 = whole ? 0 : u0, pn = whole ? P : n                          // this part's columns of h
            if doGates {
            if let gOut {
                for b in 0..<B where active(s, b) {
                    let src = gOut + (time(s, b) * B + b) * P + p0, dst = dhp + b * P + p0
                    for j in 0..<pn { dst[j] += src[j] }
                }
            }
            if let squares {
                var sq: Scalar = 0
                for b in 0..<B where active(s, b) { for j in p0..<(p0 + pn) { sq += dhp[b * P + j] * dhp[b * P + j] } }
                squares[part * T + (reverse ? T - 1 - s : s)] = sq
            }
            if let whr, let dhProjectedp {
                for b in 0..<B where active(s, b) {
                    (dhProjectedp + (s * B + b) * P).update(from: dhp + b * P, count: P)
                }
                // dm = dh · W_hr: (B, P)·(P, H)
                Scalar.gemm(transA: false, transB: false, m: B, n: H, k: P, alpha: 1, a: dhp, lda: P,
                            b: whr, ldb: H, beta: 0, c: dmp, ldc: H)
            }
            let hPrev = hsp + s * B * P
            for b in 0..<B where active(s, b) {
                let g = gp + (s * B + b) * GH + u0, dgx = dGxp + (s * B + b) * GH + u0, dgh = dGhp + (s * B + b) * GH + u0
                let dmb = dmp + b * H + u0, hp = hPrev + b * P + u0
                switch kind {
                case .rnnTanh:
                    let y = hsp + (s + 1) * B * P + b * P + u0
                    if isFloat { rnnTanhRowBackward(f32(dmb), f32(y), f32(dgx), n); continue }
                    for j in 0..<n { dgx[j] = dmb[j] * (1 - y[j] * y[j]) }
                case .rnnRelu:
                    let y = hsp + (s + 1) * B * P + b * P + u0
                    for j in 0..<n { dgx[j] = y[j] > 0 ? dmb[j] : 0 }
                case .lstm:
                    let cp = csp! + s * B * H + b * H + u0, tcb = tcp! + (s * B + b) * H + u0
                    let dcb = dcp + b * H + u0
                    if isFloat {
                        lstmRowBackward(f32(g), f32(cp), f32(tcb), f32(dmb), f32(dcb), f32(dgx), n, stride: H)
                        continue
                    }
                    for j in 0..<n {
                        let i = g[j], f = g[H + j], gg = g[2 * H + j], o = g[3 * H + j]
                        let tc = tcb[j]
                        let dcj = dcb[j] + dmb[j] * o * (1 - tc * tc)
                        dgx[j] = dcj * gg * i * (1 - i)
                        dgx[H + j] = dcj * cp[j] * f * (1 - f)
                        dgx[2 * H + j] = dcj * i * (1 - gg * gg)
                        dgx[3 * H + j] = dmb[j] * tc * o * (1 - o)
                        dcb[j] = dcj * f
                    }
                case .gru, .gruResetBefore:
                    let hnSaved = auxp! + (s * B + b) * H + u0, dd = directp! + b * P + u0
                    if isFloat && kind == .gru {
                        gruRowBackward(f32(g), f32(dmb), f32(hp), f32(hnSaved), f32(dgx), f32(dgh), f32(dd), n, stride: H)
                        continue
                    }
                    for j in 0..<n {
                        let r = g[j], z = g[H + j], nn = g[2 * H + j]
                        let dn = dmb[j] * (1 - z)
                        let dnp = dn * (1 - nn * nn)
                        let dzp = dmb[j] * (hp[j] - nn) * z * (1 - z)
                        dgx[H + j] = dzp; dgh[H + j] = dzp
                        dgx[2 * H + j] = dnp
                        dd[j] = dmb[j] * z
                        if kind == .gru {
                            let drp = dnp * hnSaved[j] * r * (1 - r)
                            dgx[j] = drp; dgh[j] = drp
                            dgh[2 * H + j] = dnp * r
                        } else {
                            dgh[2 * H + j] = dnp
                        }
                    }
                }
            }
            if kind == .gruResetBefore {
                // ∂L/∂(r ⊙ h) = dn' · W_hn: (B, H)·(H, H); then r's gradient and r's share of dh.
                Scalar.gemm(transA: false, transB: false, m: B, n: H, k: H, alpha: 1, a: dGhp + s * B * GH + 2 * H, lda: GH,
                            b: whh + 2 * H * P, ldb: P, beta: 0, c: dhNewp, ldc: P)
                for b in 0..<B where active(s, b) {
                    let g = gp + (s * B + b) * GH, dgx = dGxp + (s * B + b) * GH, dgh = dGhp + (s * B + b) * GH
                    let drh = dhNewp + b * P, hp = hPrev + b * P, dd = directp! + b * P
                    for j in 0..<H {
                        let r = g[j]
                        let drp = drh[j] * hp[j] * r * (1 - r)
                        dgx[j] = drp; dgh[j] = drp
                        dd[j] += drh[j] * r
                    }
                }
            }
            }
            if doGates && doProduct && !whole { PairParallel.barrier(part) }  // the product reads both parts' gate gradients
            guard doProduct else { return }
            // ∂L/∂h_{s-1} (this part's columns) = dGates_h · W_hh: (B, G·H)·(G·H, P), over the gates that read h directly.
            if let backPanels {
                backPanels.product(whole || u0 == 0 ? 0 : 1, m: B, a: f32(dGhp + s * B * GH), lda: GH, c: f32(dhNewp + p0), ldc: P)
            } else {
                Scalar.gemm(transA: false, transB: false, m: B, n: pn, k: recurrentGates, alpha: 1, a: dGhp + s * B * GH, lda: GH,
                            b: whh + p0, ldb: P, beta: 0, c: dhNewp + p0, ldc: P)
            }
            for b in 0..<B where active(s, b) {
                let dst = dhp + b * P + p0, src = dhNewp + b * P + p0
                if let directp {
                    let dd = directp + b * P + p0
                    for j in 0..<pn { dst[j] = src[j] + dd[j] }
                } else {
                    dst.update(from: src, count: pn)
                }
            }
        }

        squares.withUnsafeMutableBufferPointer { sq in
            let sqp = recordNorms ? sq.baseAddress : nil
            if splittable {
                BLASThreads.singleThreaded {
                    let concurrent = PairParallel.run { part in
                        let (u0, u1) = part == 0 ? (0, mid) : (mid, H)
                        packBackward(part)
                        for s in stride(from: T - 1, through: 0, by: -1) { backwardStep(s, u0, u1, part: part, squares: sqp) }
                    }
                    if !concurrent {                 // the same partition, one part after the other
                        packBackward(0); packBackward(1)
                        for s in stride(from: T - 1, through: 0, by: -1) {
                            backwardStep(s, 0, mid, part: 0, squares: sqp, product: false)
                            backwardStep(s, mid, H, part: 1, squares: sqp, product: false)
                            backwardStep(s, 0, mid, part: 0, squares: sqp, gates: false)
                            backwardStep(s, mid, H, part: 1, squares: sqp, gates: false)
                        }
                    }
                }
            } else {
                packBackward(0)
                for s in stride(from: T - 1, through: 0, by: -1) { backwardStep(s, 0, H, part: 0, squares: sqp) }
            }
        }
        let norms = recordNorms ? (0..<T).map { t in (squares[t] + squares[T + t]).squareRoot() } : []

        return { [hs, gates, aux] in
        // Phase 2 (on one thread): the callback, and the gradients accumulated into the leaves.
        onHiddenGradientNorm?(norms)
        let hsp = hs.data, auxp = aux?.data
        withExtendedLifetime(gates) {}

        // ---- Weight and input gradients: single GEMMs over all steps, into the leaves' grad ----
        // Input-side gate gradients in time order (T, B, G·H): the layout of x.
        let dGxTime: Scratch<Scalar>
        if uniform {
            dGxTime = dGx
        } else {
            // Rows past a sequence's length must read as zeros; with every sequence full length (a reverse
            // direction of a full batch) each row is copied below, so no fill.
            dGxTime = Scratch<Scalar>(T * B * GH, zeroed: zeroFill)
            for s in 0..<T { for b in 0..<B where active(s, b) {
                (dGxTime.data + (time(s, b) * B + b) * GH).update(from: dGxp + (s * B + b) * GH, count: GH)
            } }
        }
        let dGxTimep = dGxTime.data
        // Each product is split in two halves of its rows over the two cores (single-threaded BLAS),
        // like the steps: OpenBLAS's own threads then never run inside a layer, so they never spin
        // for work while the pair's threads need the cores.
        @inline(__always) func halves(_ n: Int, _ body: (Int, Int) -> Void) {
            guard splittable, n >= 16 else { return body(0, n) }
            let half = (n / 2 + 7) & ~7
            BLASThreads.singleThreaded {
                let concurrent = PairParallel.run { part in part == 0 ? body(0, half) : body(half, n) }
                if !concurrent { body(0, half); body(half, n) }   // same partition, same arithmetic
            }
        }
        var result: [Tensor<Scalar>?] = []
        result.append(accumulateGradient(x) { gx, beta in                   // (T·B, G·H)·(G·H, I)
            halves(T * B) { r0, r1 in
                Scalar.gemm(transA: false, transB: false, m: r1 - r0, n: I, k: GH, alpha: 1, a: dGxTimep + r0 * GH, lda: GH,
                            b: wih, ldb: I, beta: beta, c: gx + r0 * I, ldc: I)
            }
        })
        result.append(dh)
        if c0 != nil { result.append(dc) }
        result.append(accumulateGradient(w.weightIH) { gW, beta in           // (G·H, T·B)·(T·B, I)
            halves(GH) { r0, r1 in
                Scalar.gemm(transA: true, transB: false, m: r1 - r0, n: I, k: T * B, alpha: 1, a: dGxTimep + r0, lda: GH,
                            b: xp, ldb: I, beta: beta, c: gW + r0 * I, ldc: I)
            }
        })
        result.append(accumulateGradient(w.weightHH) { gW, beta in           // (G·H, T·B)·(T·B, P) against h_{s-1}
            halves(recurrentGates) { r0, r1 in
                Scalar.gemm(transA: true, transB: false, m: r1 - r0, n: P, k: T * B, alpha: 1, a: dGhp + r0, lda: GH,
                            b: hsp, ldb: P, beta: beta, c: gW + r0 * P, ldc: P)
            }
            if kind == .gruResetBefore {                                     // W_hn reads r ⊙ h
                Scalar.gemm(transA: true, transB: false, m: H, n: P, k: T * B, alpha: 1, a: dGhp + 2 * H, lda: GH,
                            b: auxp!, ldb: H, beta: beta, c: gW + 2 * H * P, ldc: P)
            }
        })
        if let b = w.biasIH {
            result.append(accumulateGradient(b) { db, beta in
                halves(GH) { c0, c1 in addColumnSums(dGxTimep + c0, rows: T * B, width: c1 - c0, ld: GH, into: db + c0, beta: beta) }
            })
        }
        if let b = w.biasHH {
            result.append(accumulateGradient(b) { db, beta in
                halves(GH) { c0, c1 in addColumnSums(dGhp + c0, rows: T * B, width: c1 - c0, ld: GH, into: db + c0, beta: beta) }
            })
        }
        if let weightHR = w.weightHR, let dhProjectedp {
            result.append(accumulateGradient(weightHR) { gW, beta in         // (P, T·B)·(T·B, H)
                Scalar.gemm(transA: true, transB: false, m: P, n: H, k: T * B, alpha: 1, a: dhProjectedp, lda: P,
                            b: auxp!, ldb: H, beta: beta, c: gW, ldc: H)
            })
        }
        // The loops above used raw pointers into these buffers: keep them alive up to here.
        withExtendedLifetime((dGx, dGh, dGxTime, dhProjected, dm, dhNew, direct, backPanels?.storage)) {}
        return result
        }
    }
    withExtendedLifetime((xw, hs, cs, tanhC, gates, aux, hw, packedHH, panels?.storage, inputPanels?.storage, bias)) {}
    return FusedSequence(output: output, h: hFinal, c: cFinal, inputs: inputs, walk: walk)
}

/// destination (width) = beta · destination + Σ over the rows of m (rows × width, leading dimension `ld`).
func addColumnSums<Scalar: TensorScalar>(_ m: UnsafePointer<Scalar>, rows: Int, width: Int, ld: Int,
                                         into destination: UnsafeMutablePointer<Scalar>, beta: Scalar) {
    if beta == 0 { destination.update(repeating: 0, count: width) }
    for r in 0..<rows {
        let row = m + r * ld
        for j in 0..<width { destination[j] += row[j] }
    }
}

/// C (m, n) = A (m, k) · Bᵀ for B stored (n, k): sgemm, or for a single Float row (batch-1 steps)
/// the SIMD matrix–vector kernel, where OpenBLAS's sgemm is several times slower.
@inline(__always)
func productWithTransposed<Scalar: TensorScalar>(m: Int, n: Int, k: Int, a: UnsafePointer<Scalar>, lda: Int,
                                                 b: UnsafePointer<Scalar>, ldb: Int, c: UnsafeMutablePointer<Scalar>, ldc: Int) {
    if m == 1, Scalar.self == Float.self {
        sgemvRows(UnsafeRawPointer(b).assumingMemoryBound(to: Float.self), ldw: ldb, UnsafeRawPointer(a).assumingMemoryBound(to: Float.self),
                  f32(c), n: n, k: k, accumulate: false)
    } else {
        Scalar.gemm(transA: false, transB: true, m: m, n: n, k: k, alpha: 1, a: a, lda: lda, b: b, ldb: ldb, beta: 0, c: c, ldc: ldc)
    }
}
