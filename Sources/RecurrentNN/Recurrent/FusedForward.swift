import RecurrentTensor

/// What backward reads of one direction's forward: its plan, inputs and per-step history.
struct FusedHistory<Scalar: TensorScalar> {
    let plan: FusedPlan
    let x: Tensor<Scalar>, h0: Tensor<Scalar>, c0: Tensor<Scalar>?
    let weights: DirectionWeights<Scalar>
    let lengths: [Int]
    /// Steps below this have every row active.
    let allActive: Int
    let hs: Scratch<Scalar>            // (T+1, B, P): hs[s] = h before step s (inference: 2 slots)
    let cs: Scratch<Scalar>?           // (T+1, B, H) LSTM's c, the same way
    let tanhC: Scratch<Scalar>?        // (T, B, H) LSTM's tanh(c_t)
    let gates: Scratch<Scalar>         // (T, B, G·H) activated gates (inference: one step)
    /// (T, B, H): GRU: W_hn h + b_hn (reset after) or r ⊙ h (reset before); LSTM with projection: o ⊙ tanh c.
    let aux: Scratch<Scalar>?

    /// Time of step s for sequence b: s, or for the reverse direction length_b − 1 − s (each sequence
    /// starts at its own end). Sequence b is active at step s while s < length_b; an inactive one keeps its
    /// state and writes zeros, which is what PyTorch's packed sequences compute.
    @inline(__always) func time(_ s: Int, _ b: Int) -> Int { plan.reverse ? lengths[b] - 1 - s : s }
    @inline(__always) func active(_ s: Int, _ b: Int) -> Bool { s < allActive || s < lengths[b] }
}

/// The forward of one direction of one layer over a whole sequence, as its plan says (FusedPlan.swift):
/// the input projection (all steps as one GEMM before the loop, or each step's rows just before it), then
/// per step the recurrent product h_{t-1}·W_hhᵀ and one pass of the cell's gate kernel, run by `run()`
/// unsplit, split by units or split by batch rows (FusedSchedule.swift).
///
/// Buffers are allocated once before the loop and their raw pointers taken once (no reference counting
/// or exclusivity checks per step).
struct FusedForward<Scalar: TensorScalar> {
    let plan: FusedPlan
    let saved: FusedHistory<Scalar>
    let output: Tensor<Scalar>         // (T, B, P), time-indexed, zero past each length
    let xw: Scratch<Scalar>            // (T, B, G·H) x·W_ihᵀ + folded biases; (B, G·H) with `keepsOnlyStepProjection`
    let hw: Scratch<Scalar>            // (B, G·H) h·W_hhᵀ; units split: part 0's (B, G·mid), part 1's from `hwSecond`
    let hwSecond: Int
    let bias: Scratch<Scalar>?         // (G·H) b_ih plus the part of b_hh that adds linearly
    let panels: PanelPackedWeights?        // W_hh for the small-GEMM kernel: one block, or (part, gate) blocks
    let inputPanels: PanelPackedWeights?   // W_ih, the same way
    let packedHH: Scratch<Scalar>?     // (G·H, P) W_hh's rows by part: (G·mid, P) then (G·(H−mid), P)
    let xp: UnsafeMutablePointer<Scalar>, wih: UnsafeMutablePointer<Scalar>, whh: UnsafeMutablePointer<Scalar>
    let bhh: UnsafeMutablePointer<Scalar>?, whr: UnsafeMutablePointer<Scalar>?
    let bhn: UnsafeMutablePointer<Scalar>?                          // GRU's b_hn (H), added per step
    let hsp: UnsafeMutablePointer<Scalar>, csp: UnsafeMutablePointer<Scalar>?, tcp: UnsafeMutablePointer<Scalar>?
    let gp: UnsafeMutablePointer<Scalar>, auxp: UnsafeMutablePointer<Scalar>?
    let xwp: UnsafeMutablePointer<Scalar>, hwp: UnsafeMutablePointer<Scalar>, outp: UnsafeMutablePointer<Scalar>
    let packedp: UnsafeMutablePointer<Scalar>?

    init(_ plan: FusedPlan, x: Tensor<Scalar>, h0: Tensor<Scalar>, c0: Tensor<Scalar>?, weights w: DirectionWeights<Scalar>,
         lengths: [Int]) {
        let (T, B, I, H, P, G) = (plan.T, plan.B, plan.I, plan.H, plan.P, plan.G)
        let GH = G * H, zeroFill = plan.zeroFill, isGRU = plan.kind == .gru || plan.kind == .gruResetBefore
        let isLSTM = plan.kind == .lstm, projected = w.weightHR != nil
        let stateSlots = plan.keepsHistory ? T + 1 : 2, historySteps = plan.keepsHistory ? T : 1
        let hs = Scratch<Scalar>(stateSlots * B * P, zeroed: zeroFill)
        let cs = isLSTM ? Scratch<Scalar>(stateSlots * B * H, zeroed: zeroFill) : nil
        saved = FusedHistory(plan: plan, x: x, h0: h0, c0: c0, weights: w, lengths: lengths, allActive: lengths.min() ?? T, hs: hs, cs: cs,
                             tanhC: isLSTM ? Scratch<Scalar>(historySteps * B * H, zeroed: zeroFill) : nil,
                             gates: Scratch<Scalar>(historySteps * B * GH, zeroed: zeroFill),
                             aux: (isGRU || projected) ? Scratch<Scalar>(historySteps * B * H, zeroed: zeroFill) : nil)
        self.plan = plan
        var unitsMid: Int?
        if case .units(let mid) = plan.forwardSplit { unitsMid = mid }
        let second = unitsMid.map { (B * G * $0 + 15) & ~15 } ?? 0       // 64 bytes apart: no shared cache line
        hwSecond = second
        hw = Scratch<Scalar>(unitsMid.map { second + B * G * (H - $0) } ?? B * GH, zeroed: false)
        if plan.product == .smallGEMM {
            // Per (part, gate) block when split by units: a part's rows of every gate block.
            func blocks(_ depth: Int) -> [(n: Int, k: Int)] {
                unitsMid.map { Array(repeating: ($0, depth), count: G) + Array(repeating: (H - $0, depth), count: G) } ?? [(GH, depth)]
            }
            (panels, inputPanels) = (PanelPackedWeights(blocks: blocks(P), plan.kernels), PanelPackedWeights(blocks: blocks(I), plan.kernels))
        } else {
            (panels, inputPanels) = (nil, nil)
        }
        packedHH = plan.product == .packedRows ? Scratch<Scalar>(GH * P, zeroed: false) : nil
        output = zeroFill ? Tensor<Scalar>(zeros: [T, B, P]) : Tensor<Scalar>.uninitialized([T, B, P])
        xw = Scratch<Scalar>((plan.keepsOnlyStepProjection ? B : T * B) * GH, zeroed: false)
        hs.data.update(from: h0.data, count: B * P)
        if let cs, let c0 { cs.data.update(from: c0.data, count: B * H) }
        (xp, wih, whh, bhh, whr) = (x.data, w.weightIH.data, w.weightHH.data, w.biasHH?.data, w.weightHR?.data)
        bias = Self.foldedBias(w, GH: GH, linear: isGRU ? 2 * H : GH)
        bhn = plan.kind == .gru ? bhh.map { $0 + 2 * H } : nil
        (hsp, csp, tcp, gp, auxp) = (hs.data, cs?.data, saved.tanhC?.data, saved.gates.data, saved.aux?.data)
        (xwp, hwp, outp, packedp) = (xw.data, hw.data, output.data, packedHH?.data)
    }

    /// b_ih plus the biases of b_hh that add linearly (all for RNN and LSTM, r and z for GRU, whose b_hn sits
    /// inside r ⊙ (W_hn h + b_hn)), folded into the input projection; nil without biases.
    static func foldedBias(_ w: DirectionWeights<Scalar>, GH: Int, linear: Int) -> Scratch<Scalar>? {
        // (Pointers taken once: `Tensor.data` reads class properties, each with a dynamic exclusivity check.)
        let bih = w.biasIH?.data, bhhAll = w.biasHH?.data
        guard bih != nil || bhhAll != nil else { return nil }
        let bias = Scratch<Scalar>(GH, zeroed: bih == nil)
        if let bih { bias.data.update(from: bih, count: GH) }
        if let bhhAll { for j in 0..<linear { bias.data[j] += bhhAll[j] } }
        return bias
    }

    @inline(__always) func hist(_ s: Int) -> Int { plan.keepsHistory ? s : 0 }       // step index into gates, tanhC, aux
    @inline(__always) func slot(_ s: Int) -> Int { plan.keepsHistory ? s : s & 1 }   // state index into hs, cs
    /// Row of `xw` holding row r of the (T·B, G·H) projection.
    @inline(__always) func xwRow(_ r: Int) -> Int { plan.keepsOnlyStepProjection ? r % plan.B : r }
    /// (B, P) h before step s: slot s of `hs`, or with `stateInOutput` the output row of step s − 1.
    @inline(__always) func statePointer(_ s: Int) -> UnsafeMutablePointer<Scalar> {
        let (T, B, P) = (plan.T, plan.B, plan.P)
        return plan.stateInOutput && s > 0 ? outp + (plan.reverse ? T - s : s - 1) * B * P : hsp + slot(s) * B * P
    }

    // MARK: running the plan

    /// Runs every step as the plan's forward split says.
    func run() {
        let (T, H, B, P, I) = (plan.T, plan.H, plan.B, plan.P, plan.I)
        switch plan.forwardSplit {
        case .batch(let half):
            // Parts: rows [0, half) and [half, B), every unit, no barrier between steps. Packing and, with the
            // projection hoisted (each row reads its own time), the projection are shared: one part packs W_hh
            // and the other W_ih, each projects half of the rows, with a barrier after each.
            let rows = T * B, middle = rows / 2
            PairSchedule(plan).run(phases: 2 + T, barrierAfter: { $0 == 0 || $0 == 1 && !plan.projectsPerStep }) { part, phase in
                switch phase {
                case 0: if part == 0 { packWhole(panels, whh, P) } else { packWhole(inputPanels, wih, I) }
                case 1: if !plan.projectsPerStep { projectRows(part == 0 ? 0 : middle, part == 0 ? middle : rows, 0, H) }
                default: step(phase - 2, 0, H, rows: part == 0 ? 0..<half : half..<B)
                }
            }
        case .units(let mid):
            // Each part's steps read only its own columns of xw; the next product reads both parts' h_t.
            PairSchedule(plan).run(phases: 1 + T, barrierAfter: { $0 >= 1 }) { part, phase in
                let (u0, u1) = part == 0 ? (0, mid) : (mid, H)
                if phase == 0 { packRecurrentWeights(u0, u1); project(u0, u1) } else { step(phase - 1, u0, u1) }
            }
        case .none:
            if let panels { panels.pack(0, from: f32(whh), rowStride: P, depthStride: 1) }
            project(0, H)
            for s in 0..<T { step(s, 0, H) }
        }
    }

    /// The final states: h (B, P) and for LSTM c (B, H), at each sequence's last valid step.
    func finalStates() -> (h: Tensor<Scalar>, c: Tensor<Scalar>?) {
        let (T, B, H, P) = (plan.T, plan.B, plan.H, plan.P)
        let h = Tensor<Scalar>(zeros: [B, P])
        h.data.update(from: statePointer(T), count: B * P)
        let c = csp.map { csp -> Tensor<Scalar> in
            let c = Tensor<Scalar>(zeros: [B, H]); c.data.update(from: csp + slot(T) * B * H, count: B * H); return c
        }
        return (h, c)
    }

    // MARK: weights and the input projection

    /// Packs a weight (G·H, depth) as the one block of `weights` (a batch split's whole-row panels).
    func packWhole(_ weights: PanelPackedWeights?, _ w: UnsafeMutablePointer<Scalar>, _ depth: Int) {
        weights!.pack(0, from: f32(w), rowStride: depth, depthStride: 1)
    }

    /// A part's rows of every gate block of W_hh, packed: block (part, g) holds rows g·H + u0 ..< g·H + u1.
    func packRecurrentWeights(_ u0: Int, _ u1: Int) {
        let (G, H, P, n) = (plan.G, plan.H, plan.P, u1 - u0)
        if let panels {
            let first = u0 == 0 ? 0 : G
            for g in 0..<G { panels.pack(first + g, from: f32(whh + (g * H + u0) * P), rowStride: P, depthStride: 1) }
            return
        }
        guard let packedp else { return }
        for g in 0..<G { (packedp + (G * u0 + g * n) * P).update(from: whh + (g * H + u0) * P, count: n * P) }
    }

    /// Input projection of units [u0, u1) of every gate, all steps, plus the folded biases. With the
    /// small-GEMM kernel: packs W_ih's rows of units [u0, u1), then projects every step at once, or nothing
    /// yet when each step projects its own rows.
    func project(_ u0: Int, _ u1: Int) {
        let (T, B, I, H, G) = (plan.T, plan.B, plan.I, plan.H, plan.G), GH = G * H
        if let inputPanels {
            if u0 == 0 && u1 == H {
                inputPanels.pack(0, from: f32(wih), rowStride: I, depthStride: 1)
            } else {
                let first = u0 == 0 ? 0 : G
                for g in 0..<G { inputPanels.pack(first + g, from: f32(wih + (g * H + u0) * I), rowStride: I, depthStride: 1) }
            }
            if !plan.projectsPerStep { projectRows(0, T * B, u0, u1) }
            return
        }
        if u0 == 0 && u1 == H {
            productWithTransposed(m: T * B, n: GH, k: I, a: xp, lda: I, b: wih, ldb: I, c: xwp, ldc: GH, instructionSet: plan.kernels.gemv)
        } else {
            for g in 0..<G {
                productWithTransposed(m: T * B, n: u1 - u0, k: I, a: xp, lda: I, b: wih + (g * H + u0) * I, ldb: I, c: xwp + g * H + u0,
                                      ldc: GH, instructionSet: plan.kernels.gemv)
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
        let (I, H, G) = (plan.I, plan.H, plan.G), GH = G * H
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
}
