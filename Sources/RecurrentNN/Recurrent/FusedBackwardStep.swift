import RecurrentTensor

// One backward step of a fused layer (units [u0, u1) of every active row) and the weight gradients.
extension FusedBackward {
    /// Step s: adds ∂L/∂output_t to ∂L/∂h, then the gate gradients of units [u0, u1) (into `dGx`, `dGh`) and the
    /// carried ∂c; `squares[part · T + t]` gets this part's ‖∂L/∂h_t‖².
    func gateGradients(_ s: Int, _ u0: Int, _ u1: Int, part: Int, squares: UnsafeMutablePointer<Scalar>?) {
        let (T, B, H, P) = (plan.T, plan.B, plan.H, plan.P), GH = plan.G * H, kind = plan.kind
        let whole = u0 == 0 && u1 == H, n = u1 - u0
        let p0 = whole ? 0 : u0, pn = whole ? P : n                          // this part's columns of h
        let dhp = dh.data, dcp = dc.data, dmp = dm.data, dGxp = dGx.data, dGhp = dGh.data, directp = direct?.data
        if let gOut {
            for b in 0..<B where saved.active(s, b) {
                let src = gOut + (saved.time(s, b) * B + b) * P + p0, dst = dhp + b * P + p0
                for j in 0..<pn { dst[j] += src[j] }
            }
        }
        if let squares {
            var sq: Scalar = 0
            for b in 0..<B where saved.active(s, b) { for j in p0..<(p0 + pn) { sq += dhp[b * P + j] * dhp[b * P + j] } }
            squares[part * T + (plan.reverse ? T - 1 - s : s)] = sq
        }
        if let whr, let dhProjectedp = dhProjected?.data {
            for b in 0..<B where saved.active(s, b) {
                (dhProjectedp + (s * B + b) * P).update(from: dhp + b * P, count: P)
            }
            // dm = dh · W_hr: (B, P)·(P, H)
            Scalar.gemm(transA: false, transB: false, m: B, n: H, k: P, alpha: 1, a: dhp, lda: P, b: whr, ldb: H, beta: 0, c: dmp, ldc: H)
        }
        let hPrev = hsp + s * B * P
        for b in 0..<B where saved.active(s, b) {
            let g = gp + (s * B + b) * GH + u0, dgx = dGxp + (s * B + b) * GH + u0, dgh = dGhp + (s * B + b) * GH + u0
            let dmb = dmp + b * H + u0, hp = hPrev + b * P + u0
            switch kind {
            case .rnnTanh, .rnnRelu:
                RNNGates.backward(relu: kind == .rnnRelu, dmb, hsp + (s + 1) * B * P + b * P + u0, dgx, n)
            case .lstm:
                LSTMGates.backward(g, csp! + s * B * H + b * H + u0, tcp! + (s * B + b) * H + u0, dmb, dcp + b * H + u0, dgx, n,
                                   stride: H, kernels: plan.kernels)
            case .gru:
                GRUGates.backward(g, dmb, hp, auxp! + (s * B + b) * H + u0, dgx, dgh, directp! + b * P + u0, n, stride: H)
            case .gruResetBefore:
                GRUGates.backwardReference(resetAfter: false, g, dmb, hp, auxp! + (s * B + b) * H + u0, dgx, dgh, directp! + b * P + u0,
                                           n, stride: H)
            }
        }
        if kind == .gruResetBefore {
            // ∂L/∂(r ⊙ h) = dn' · W_hn: (B, H)·(H, H); then r's gradient and r's share of dh.
            let dhNewp = dhNew.data
            Scalar.gemm(transA: false, transB: false, m: B, n: H, k: H, alpha: 1, a: dGhp + s * B * GH + 2 * H, lda: GH,
                        b: whh + 2 * H * P, ldb: P, beta: 0, c: dhNewp, ldc: P)
            for b in 0..<B where saved.active(s, b) {
                GRUGates.resetBeforeResetGradientReference(gp + (s * B + b) * GH, dhNewp + b * P, hPrev + b * P, dGxp + (s * B + b) * GH,
                                                           dGhp + (s * B + b) * GH, directp! + b * P, H)
            }
        }
    }

    /// Step s: this part's columns of ∂L/∂h_{s-1} = dGates_h · W_hh, (B, G·H)·(G·H, P) over the gates that read h
    /// directly, plus GRU's direct path.
    func hiddenGradient(_ s: Int, _ u0: Int, _ u1: Int) {
        let (B, H, P) = (plan.B, plan.H, plan.P), GH = plan.G * H
        let whole = u0 == 0 && u1 == H, p0 = whole ? 0 : u0, pn = whole ? P : u1 - u0
        let dhp = dh.data, dGhp = dGh.data, dhNewp = dhNew.data, directp = direct?.data
        if let backPanels {
            backPanels.product(whole || u0 == 0 ? 0 : 1, m: B, a: f32(dGhp + s * B * GH), lda: GH, c: f32(dhNewp + p0), ldc: P)
        } else {
            Scalar.gemm(transA: false, transB: false, m: B, n: pn, k: recurrentGates, alpha: 1, a: dGhp + s * B * GH, lda: GH,
                        b: whh + p0, ldb: P, beta: 0, c: dhNewp + p0, ldc: P)
        }
        for b in 0..<B where saved.active(s, b) {
            let dst = dhp + b * P + p0, src = dhNewp + b * P + p0
            if let directp {
                let dd = directp + b * P + p0
                for j in 0..<pn { dst[j] = src[j] + dd[j] }
            } else {
                dst.update(from: src, count: pn)
            }
        }
    }

    /// Phase 2: the gradients of the node's inputs in `FusedSequence.inputs` order (x, h0, c0, then the weights);
    /// the weights' (and other leaves') go straight into their `grad` and come back nil.
    func inputGradients() -> [Tensor<Scalar>?] {
        let (T, B, I, H, P) = (plan.T, plan.B, plan.I, plan.H, plan.P), GH = plan.G * H
        let w = saved.weights, xp = saved.x.data, wih = w.weightIH.data, hsp = hsp, auxp = auxp
        let dGxTime = inputGradientsInTimeOrder()
        defer { withExtendedLifetime(dGxTime) {} }                           // its pointer is used below
        let dGxTimep = dGxTime.data, dGhp = dGh.data, recurrentGates = recurrentGates
        // Each product's rows in two halves over the two cores (single-threaded BLAS), like the steps.
        let schedule = PairSchedule(plan), split = plan.backwardSplit != .none
        var result: [Tensor<Scalar>?] = []
        result.append(accumulateGradient(saved.x) { gx, beta in               // (T·B, G·H)·(G·H, I)
            schedule.halves(T * B, split: split) { r0, r1 in
                Scalar.gemm(transA: false, transB: false, m: r1 - r0, n: I, k: GH, alpha: 1, a: dGxTimep + r0 * GH, lda: GH,
                            b: wih, ldb: I, beta: beta, c: gx + r0 * I, ldc: I)
            }
        })
        result.append(dh)
        if saved.c0 != nil { result.append(dc) }
        result.append(accumulateGradient(w.weightIH) { gW, beta in           // (G·H, T·B)·(T·B, I)
            schedule.halves(GH, split: split) { r0, r1 in
                Scalar.gemm(transA: true, transB: false, m: r1 - r0, n: I, k: T * B, alpha: 1, a: dGxTimep + r0, lda: GH,
                            b: xp, ldb: I, beta: beta, c: gW + r0 * I, ldc: I)
            }
        })
        result.append(accumulateGradient(w.weightHH) { gW, beta in           // (G·H, T·B)·(T·B, P) against h_{s-1}
            schedule.halves(recurrentGates, split: split) { r0, r1 in
                Scalar.gemm(transA: true, transB: false, m: r1 - r0, n: P, k: T * B, alpha: 1, a: dGhp + r0, lda: GH,
                            b: hsp, ldb: P, beta: beta, c: gW + r0 * P, ldc: P)
            }
            if plan.kind == .gruResetBefore {                                // W_hn reads r ⊙ h
                Scalar.gemm(transA: true, transB: false, m: H, n: P, k: T * B, alpha: 1, a: dGhp + 2 * H, lda: GH,
                            b: auxp!, ldb: H, beta: beta, c: gW + 2 * H * P, ldc: P)
            }
        })
        for (bias, gradients) in [(w.biasIH, dGxTimep), (w.biasHH, dGhp)] {
            guard let bias else { continue }
            result.append(accumulateGradient(bias) { db, beta in
                schedule.halves(GH, split: split) { c0, c1 in
                    addColumnSums(gradients + c0, rows: T * B, width: c1 - c0, ld: GH, into: db + c0, beta: beta)
                }
            })
        }
        if let weightHR = w.weightHR, let dhProjectedp = dhProjected?.data {
            result.append(accumulateGradient(weightHR) { gW, beta in         // (P, T·B)·(T·B, H)
                Scalar.gemm(transA: true, transB: false, m: P, n: H, k: T * B, alpha: 1, a: dhProjectedp, lda: P,
                            b: auxp!, ldb: H, beta: beta, c: gW, ldc: H)
            })
        }
        return result
    }

    /// The input-side gate gradients in time order (T, B, G·H), the layout of x: `dGx` itself when step s is time s
    /// for every row; else a copy, zero for rows past a sequence's length.
    func inputGradientsInTimeOrder() -> Scratch<Scalar> {
        let (T, B) = (plan.T, plan.B), GH = plan.G * plan.H
        if !plan.reverse && !plan.variableLengths { return dGx }
        // With every sequence full length (a reverse direction of a full batch) each row is copied: no fill.
        let dGxTime = Scratch<Scalar>(T * B * GH, zeroed: plan.zeroFill), dGxp = dGx.data
        for s in 0..<T { for b in 0..<B where saved.active(s, b) {
            (dGxTime.data + (saved.time(s, b) * B + b) * GH).update(from: dGxp + (s * B + b) * GH, count: GH)
        } }
        return dGxTime
    }
}
