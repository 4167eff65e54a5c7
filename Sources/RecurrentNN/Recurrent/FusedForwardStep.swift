import RecurrentTensor

// One forward step of a fused layer: the recurrent product, the gate pass of every active row, and the
// output rows. A part of a split step computes its units' pre-activations into a (B, G·n) buffer of its own
// (n its unit count), which the gate kernels read with its own gate stride n.
extension FusedForward {
    /// Step s for hidden units [u0, u1) (all of them when unsplit) of batch rows `rows` (all of them but in a
    /// batch split, whose parts take all units of their own rows).
    func step(_ s: Int, _ u0: Int, _ u1: Int, rows: Range<Int>? = nil) {
        let (T, B, H, P, G) = (plan.T, plan.B, plan.H, plan.P, plan.G)
        let (b0, b1) = rows.map { ($0.lowerBound, $0.upperBound) } ?? (0, B)
        let whole = u0 == 0 && u1 == H, n = u1 - u0
        let hPrev = statePointer(s), hNext = statePointer(s + 1)
        // This part's (B, G·n) recurrent pre-activations: row b at `hwPart + b * hwWidth`, gate blocks `hStride` apart.
        let hwPart = whole ? hwp : hwp + (u0 == 0 ? 0 : hwSecond), hwWidth = whole ? G * H : G * n, hStride = whole ? H : n
        if plan.projectsPerStep {                                        // step s reads the rows of time t
            let t = plan.reverse ? T - 1 - s : s
            projectRows(t * B + b0, t * B + b1, u0, u1)
        }
        recurrentProduct(hPrev, u0, u1, rows: b0, b1, into: hwPart)
        for b in b0..<b1 where saved.active(s, b) {
            gatePass(s, b, u0, n, hPrev: hPrev, hNext: hNext, hr: hwPart + b * hwWidth, hStride: hStride)
        }
        if plan.kind == .gruResetBefore { resetBeforeNewGate(s, hPrev: hPrev, hNext: hNext) }
        if let whr {
            // h = m · W_hrᵀ: (B, H)·(H, P)
            Scalar.gemm(transA: false, transB: true, m: B, n: P, k: H, alpha: 1, a: auxp! + hist(s) * B * H, lda: H,
                        b: whr, ldb: H, beta: 0, c: hNext, ldc: P)
        }
        if plan.stateInOutput { return }
        writeOutputs(s, u0, u1, rows: b0, b1, hPrev: hPrev, hNext: hNext)
    }

    /// h_{t-1}·W_hhᵀ for units [u0, u1) of rows [b0, b1) into `hwPart`: (B, P)·(P, G·n).
    @inline(__always)
    func recurrentProduct(_ hPrev: UnsafeMutablePointer<Scalar>, _ u0: Int, _ u1: Int, rows b0: Int, _ b1: Int,
                          into hwPart: UnsafeMutablePointer<Scalar>) {
        let (B, H, P, G) = (plan.B, plan.H, plan.P, plan.G), GH = G * H, n = u1 - u0
        let whole = u0 == 0 && u1 == H, gemv = plan.kernels.gemv
        if let panels {
            if whole {
                panels.product(0, m: b1 - b0, a: f32(hPrev + b0 * P), lda: P, c: f32(hwp + b0 * GH), ldc: GH)
            } else {
                let first = u0 == 0 ? 0 : G
                for g in 0..<G { panels.product(first + g, m: B, a: f32(hPrev), lda: P, c: f32(hwPart + g * n), ldc: G * n) }
            }
        } else if plan.kind == .gruResetBefore {                        // r and z only: n reads r ⊙ h
            productWithTransposed(m: B, n: 2 * H, k: P, a: hPrev, lda: P, b: whh, ldb: P, c: hwp, ldc: GH, instructionSet: gemv)
        } else if whole {
            productWithTransposed(m: B, n: GH, k: P, a: hPrev, lda: P, b: whh, ldb: P, c: hwp, ldc: GH, instructionSet: gemv)
        } else if G == 1 || packedp != nil {
            let rows = packedp.map { $0 + G * u0 * P } ?? whh + u0 * P     // (G·n, P)
            productWithTransposed(m: B, n: G * n, k: P, a: hPrev, lda: P, b: rows, ldb: P, c: hwPart, ldc: G * n, instructionSet: gemv)
        } else {
            for g in 0..<G {
                productWithTransposed(m: B, n: n, k: P, a: hPrev, lda: P, b: whh + (g * H + u0) * P, ldb: P,
                                      c: hwPart + g * n, ldc: G * n, instructionSet: gemv)
            }
        }
    }

    /// The cell's gate kernel on units [u0, u0 + n) of row b; `hr` that row's recurrent pre-activations.
    @inline(__always)
    func gatePass(_ s: Int, _ b: Int, _ u0: Int, _ n: Int, hPrev: UnsafeMutablePointer<Scalar>, hNext: UnsafeMutablePointer<Scalar>,
                  hr: UnsafeMutablePointer<Scalar>, hStride: Int) {
        let (B, H, P) = (plan.B, plan.H, plan.P), GH = plan.G * H, kernels = plan.kernels
        let xr = xwp + xwRow(saved.time(s, b) * B + b) * GH + u0
        let g = gp + (hist(s) * B + b) * GH + u0, hp = hPrev + b * P + u0, hn = hNext + b * P + u0
        let unit = (hist(s) * B + b) * H + u0                            // offset in (T, B, H) buffers
        switch plan.kind {
        case .rnnTanh, .rnnRelu:
            RNNGates.forward(relu: plan.kind == .rnnRelu, xr, hr, hn, n, kernels: kernels)
        case .lstm:
            let cp = csp! + slot(s) * B * H + b * H + u0, cn = csp! + slot(s + 1) * B * H + b * H + u0
            LSTMGates.forward(xr, hr, g, cp, cn, whr != nil ? auxp! + unit : hn, tcp! + unit, n, stride: H, hStride: hStride,
                              kernels: kernels)
        case .gru:
            GRUGates.forward(xr, hr, bhn.map { $0 + u0 }, g, hp, hn, auxp! + unit, n, stride: H, hStride: hStride, kernels: kernels)
        case .gruResetBefore:
            GRUGates.resetBeforeGatesReference(xr, hr, g, hp, auxp! + unit, n)
        }
    }

    /// Reset-before GRU, once every row's r is known: W_hn (r ⊙ h) as a second GEMM, then n and h.
    /// (Inactive rows of aux are zero.)
    func resetBeforeNewGate(_ s: Int, hPrev: UnsafeMutablePointer<Scalar>, hNext: UnsafeMutablePointer<Scalar>) {
        let (B, H, P) = (plan.B, plan.H, plan.P), GH = plan.G * H
        let rh = auxp! + hist(s) * B * H
        Scalar.gemm(transA: false, transB: true, m: B, n: H, k: H, alpha: 1, a: rh, lda: H,
                    b: whh + 2 * H * P, ldb: P, beta: 0, c: hwp + 2 * H, ldc: GH)
        for b in 0..<B where saved.active(s, b) {
            let xr = xwp + xwRow(saved.time(s, b) * B + b) * GH, hr = hwp + b * GH
            GRUGates.resetBeforeNewReference(xr, hr, bhh, gp + (hist(s) * B + b) * GH, hPrev + b * P, hNext + b * P, H)
        }
    }

    /// Output rows of active sequences (this part's columns); finished ones carry their state.
    func writeOutputs(_ s: Int, _ u0: Int, _ u1: Int, rows b0: Int, _ b1: Int, hPrev: UnsafeMutablePointer<Scalar>,
                      hNext: UnsafeMutablePointer<Scalar>) {
        let (B, H, P) = (plan.B, plan.H, plan.P), whole = u0 == 0 && u1 == H, n = u1 - u0
        let p0 = whole ? 0 : u0, pn = whole ? P : n
        for b in b0..<b1 {
            if saved.active(s, b) {
                (outp + (saved.time(s, b) * B + b) * P + p0).update(from: hNext + b * P + p0, count: pn)
            } else {
                (hNext + b * P + p0).update(from: hPrev + b * P + p0, count: pn)
                if let csp { (csp + slot(s + 1) * B * H + b * H + u0).update(from: csp + slot(s) * B * H + b * H + u0, count: n) }
            }
        }
    }
}
