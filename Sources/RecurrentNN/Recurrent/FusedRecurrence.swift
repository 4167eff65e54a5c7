import RecurrentTensor

// One layer, one direction, a whole sequence: one autograd node with hand-written BPTT.
//
// Forward: the input projection of every step in one GEMM, then per step one GEMM for h_{t-1}·W_hhᵀ
// and one pass of the gate kernel; every value backward needs is kept in step-indexed (T, B, ·)
// buffers allocated before the loop. Backward: one reverse walk over the steps computing the gate
// gradients, then the weight gradients as single GEMMs over all steps.
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

/// Runs `kind` over `x` in one direction and records one node on the tape.
/// - Parameters:
///   - x: (T, B, I)
///   - h0: (B, P)
///   - c0: (B, H), LSTM only
///   - lengths: B lengths in 1...T
///   - onHiddenGradientNorm: called during backward with ‖∂L/∂h_t‖ for each step, indexed by t.
/// - Returns: output (T, B, P), zero past each length; final h (B, P); final c (B, H) for LSTM.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
func fusedRecurrence<Scalar: TensorScalar>(
    _ kind: RecurrentCellKind, x: Tensor<Scalar>, h0: Tensor<Scalar>, c0: Tensor<Scalar>?,
    weights w: DirectionWeights<Scalar>, lengths: [Int], reverse: Bool,
    onHiddenGradientNorm: (([Scalar]) -> Void)? = nil
) -> (output: Tensor<Scalar>, h: Tensor<Scalar>, c: Tensor<Scalar>?) {
    let (T, B, I) = (x.shape[0], x.shape[1], x.shape[2])
    let G = kind.gateCount, GH = w.weightIH.shape[0], H = GH / G, P = w.weightHH.shape[1]
    checkShapes("fusedRecurrence input·W_ihᵀ", x.shape, w.weightIH.shape, w.weightIH.shape[1] == I)
    checkShapes("fusedRecurrence h0", h0.shape, [B, P], h0.shape == [B, P])
    let isLSTM = kind == .lstm, isGRU = kind == .gru || kind == .gruResetBefore
    let projected = w.weightHR != nil
    let uniform = !reverse && lengths.allSatisfy { $0 == T }
    @inline(__always) func time(_ s: Int, _ b: Int) -> Int { reverse ? lengths[b] - 1 - s : s }

    // (T, B, G·H) input projection of every step, with b_ih: one GEMM.
    let xw = Tensor<Scalar>(zeros: [T, B, GH])
    Scalar.gemm(transA: false, transB: true, m: T * B, n: GH, k: I, alpha: 1, a: x.data, lda: I,
                b: w.weightIH.data, ldb: I, beta: 0, c: xw.data, ldc: GH)
    if let bias = w.biasIH { addRowBias(xw.data, rows: T * B, bias.data, width: GH) }

    let hs = Tensor<Scalar>(zeros: [T + 1, B, P])                           // (T+1, B, P): hs[s] = h before step s
    hs.data.update(from: h0.data, count: B * P)
    let cs = isLSTM ? Tensor<Scalar>(zeros: [T + 1, B, H]) : nil           // (T+1, B, H)
    if let cs, let c0 { cs.data.update(from: c0.data, count: B * H) }
    let gates = Tensor<Scalar>(zeros: [T, B, GH])                           // (T, B, G·H) activated gates
    // (T, B, H): GRU: W_hn h + b_hn (reset after) or r ⊙ h (reset before); LSTM with projection: o ⊙ tanh c.
    let aux = (isGRU || projected) ? Tensor<Scalar>(zeros: [T, B, H]) : nil
    let hw = Tensor<Scalar>(zeros: [B, GH])                                 // (B, G·H) per-step h·W_hhᵀ
    let output = Tensor<Scalar>(zeros: [T, B, P])                           // (T, B, P), time-indexed
    let activeAt = { (s: Int, b: Int) in s < lengths[b] }

    let whh = w.weightHH.data, bhh = w.biasHH?.data
    for s in 0..<T {
        let hPrev = hs.data + s * B * P, hNext = hs.data + (s + 1) * B * P
        let recurrentGates = kind == .gruResetBefore ? 2 * H : GH
        Scalar.gemm(transA: false, transB: true, m: B, n: recurrentGates, k: P, alpha: 1, a: hPrev, lda: P,
                    b: whh, ldb: P, beta: 0, c: hw.data, ldc: GH)
        if let bhh {
            for b in 0..<B { let row = hw.data + b * GH; for j in 0..<recurrentGates { row[j] += bhh[j] } }
        }
        for b in 0..<B where activeAt(s, b) {
            let xr = xw.data + (time(s, b) * B + b) * GH, hr = hw.data + b * GH
            let g = gates.data + (s * B + b) * GH, hp = hPrev + b * P, hn = hNext + b * P
            switch kind {
            case .rnnTanh:
                for j in 0..<H { hn[j] = Scalar.tanh(xr[j] + hr[j]) }
            case .rnnRelu:
                for j in 0..<H { hn[j] = Swift.max(xr[j] + hr[j], 0) }
            case .lstm:
                let cp = cs!.data + s * B * H + b * H, cn = cs!.data + (s + 1) * B * H + b * H
                let m = projected ? aux!.data + (s * B + b) * H : hn
                for j in 0..<H {
                    let i = Scalar.sigmoid(xr[j] + hr[j])
                    let f = Scalar.sigmoid(xr[H + j] + hr[H + j])
                    let gg = Scalar.tanh(xr[2 * H + j] + hr[2 * H + j])
                    let o = Scalar.sigmoid(xr[3 * H + j] + hr[3 * H + j])
                    g[j] = i; g[H + j] = f; g[2 * H + j] = gg; g[3 * H + j] = o
                    let c = f * cp[j] + i * gg
                    cn[j] = c
                    m[j] = o * Scalar.tanh(c)
                }
            case .gru:
                let hnSaved = aux!.data + (s * B + b) * H
                for j in 0..<H {
                    let r = Scalar.sigmoid(xr[j] + hr[j])
                    let z = Scalar.sigmoid(xr[H + j] + hr[H + j])
                    let n = Scalar.tanh(xr[2 * H + j] + r * hr[2 * H + j])
                    g[j] = r; g[H + j] = z; g[2 * H + j] = n
                    hnSaved[j] = hr[2 * H + j]
                    hn[j] = (1 - z) * n + z * hp[j]
                }
            case .gruResetBefore:
                let rh = aux!.data + (s * B + b) * H
                for j in 0..<H {
                    let r = Scalar.sigmoid(xr[j] + hr[j])
                    g[j] = r; g[H + j] = Scalar.sigmoid(xr[H + j] + hr[H + j])
                    rh[j] = r * hp[j]
                }
            }
        }
        if kind == .gruResetBefore {
            // n needs W_hn (r ⊙ h): a second GEMM once every row's r is known. Inactive rows of aux are zero.
            let rh = aux!.data + s * B * H
            Scalar.gemm(transA: false, transB: true, m: B, n: H, k: H, alpha: 1, a: rh, lda: H,
                        b: whh + 2 * H * P, ldb: P, beta: 0, c: hw.data + 2 * H, ldc: GH)
            for b in 0..<B where activeAt(s, b) {
                let xr = xw.data + (time(s, b) * B + b) * GH, hr = hw.data + b * GH
                let g = gates.data + (s * B + b) * GH, hp = hPrev + b * P, hn = hNext + b * P
                for j in 0..<H {
                    let n = Scalar.tanh(xr[2 * H + j] + hr[2 * H + j] + (bhh?[2 * H + j] ?? 0))
                    let z = g[H + j]
                    g[2 * H + j] = n
                    hn[j] = (1 - z) * n + z * hp[j]
                }
            }
        }
        if let whr = w.weightHR {
            // h = m · W_hrᵀ: (B, H)·(H, P)
            Scalar.gemm(transA: false, transB: true, m: B, n: P, k: H, alpha: 1, a: aux!.data + s * B * H, lda: H,
                        b: whr.data, ldb: H, beta: 0, c: hNext, ldc: P)
        }
        for b in 0..<B {
            if activeAt(s, b) {
                (output.data + (time(s, b) * B + b) * P).update(from: hNext + b * P, count: P)
            } else {
                (hNext + b * P).update(from: hPrev + b * P, count: P)
                if let cs { (cs.data + (s + 1) * B * H + b * H).update(from: cs.data + s * B * H + b * H, count: H) }
            }
        }
    }

    let hFinal = Tensor<Scalar>(zeros: [B, P])
    hFinal.data.update(from: hs.data + T * B * P, count: B * P)
    let cFinal = cs.map { cs -> Tensor<Scalar> in
        let c = Tensor<Scalar>(zeros: [B, H]); c.data.update(from: cs.data + T * B * H, count: B * H); return c
    }

    let inputs = [x, h0] + (c0.map { [$0] } ?? []) + w.tensors
    let outputs = [output, hFinal] + (cFinal.map { [$0] } ?? [])
    Tensor.record("\(kind.rawValue)Sequence", inputs: inputs, outputs: outputs) { grads in
        // ---- BPTT: one reverse walk over the steps ----
        let dh = Tensor<Scalar>(zeros: [B, P])                               // (B, P) ∂L/∂h carried backwards
        if let g = grads[1] { dh.copy(from: g) }
        let dc = Tensor<Scalar>(zeros: [B, H])                               // (B, H) ∂L/∂c carried backwards
        if isLSTM, grads.count > 2, let g = grads[2] { dc.copy(from: g) }
        let gOut = grads[0]?.data
        let dGx = Tensor<Scalar>(zeros: [T, B, GH])                          // (T, B, G·H) ∂L/∂(pre-activation), input side
        let dGh = isGRU ? Tensor<Scalar>(zeros: [T, B, GH]) : dGx             // (T, B, G·H) recurrent side (differs for GRU's n)
        let dhProjected = projected ? Tensor<Scalar>(zeros: [T, B, P]) : nil // (T, B, P) ∂L/∂h of active rows, for W_hr
        let dm = projected ? Tensor<Scalar>(zeros: [B, H]) : dh              // (B, H) ∂L/∂(o ⊙ tanh c)
        let dhNew = Tensor<Scalar>(zeros: [B, P])                            // (B, P) scratch
        let direct = isGRU ? Tensor<Scalar>(zeros: [B, P]) : nil             // (B, P) GRU's z ⊙ dh path
        var norms = onHiddenGradientNorm != nil ? [Scalar](repeating: 0, count: T) : []

        for s in stride(from: T - 1, through: 0, by: -1) {
            for b in 0..<B where activeAt(s, b) {
                guard let gOut else { break }
                let src = gOut + (time(s, b) * B + b) * P, dst = dh.data + b * P
                for j in 0..<P { dst[j] += src[j] }
            }
            if onHiddenGradientNorm != nil {
                var sq: Scalar = 0
                for b in 0..<B where activeAt(s, b) { for j in 0..<P { sq += dh.data[b * P + j] * dh.data[b * P + j] } }
                norms[reverse ? T - 1 - s : s] = sq.squareRoot()
            }
            if let whr = w.weightHR, let dhProjected {
                for b in 0..<B where activeAt(s, b) {
                    (dhProjected.data + (s * B + b) * P).update(from: dh.data + b * P, count: P)
                }
                // dm = dh · W_hr: (B, P)·(P, H)
                Scalar.gemm(transA: false, transB: false, m: B, n: H, k: P, alpha: 1, a: dh.data, lda: P,
                            b: whr.data, ldb: H, beta: 0, c: dm.data, ldc: H)
            }
            let hPrev = hs.data + s * B * P
            for b in 0..<B where activeAt(s, b) {
                let g = gates.data + (s * B + b) * GH, dgx = dGx.data + (s * B + b) * GH, dgh = dGh.data + (s * B + b) * GH
                let dmb = dm.data + b * H, hp = hPrev + b * P
                switch kind {
                case .rnnTanh:
                    let y = hs.data + (s + 1) * B * P + b * P
                    for j in 0..<H { dgx[j] = dmb[j] * (1 - y[j] * y[j]) }
                case .rnnRelu:
                    let y = hs.data + (s + 1) * B * P + b * P
                    for j in 0..<H { dgx[j] = y[j] > 0 ? dmb[j] : 0 }
                case .lstm:
                    let cp = cs!.data + s * B * H + b * H, cn = cs!.data + (s + 1) * B * H + b * H
                    let dcb = dc.data + b * H
                    for j in 0..<H {
                        let i = g[j], f = g[H + j], gg = g[2 * H + j], o = g[3 * H + j]
                        let tc = Scalar.tanh(cn[j])
                        let dcj = dcb[j] + dmb[j] * o * (1 - tc * tc)
                        dgx[j] = dcj * gg * i * (1 - i)
                        dgx[H + j] = dcj * cp[j] * f * (1 - f)
                        dgx[2 * H + j] = dcj * i * (1 - gg * gg)
                        dgx[3 * H + j] = dmb[j] * tc * o * (1 - o)
                        dcb[j] = dcj * f
                    }
                case .gru, .gruResetBefore:
                    let hnSaved = aux!.data + (s * B + b) * H, dd = direct!.data + b * P
                    for j in 0..<H {
                        let r = g[j], z = g[H + j], n = g[2 * H + j]
                        let dn = dmb[j] * (1 - z)
                        let dnp = dn * (1 - n * n)
                        let dzp = dmb[j] * (hp[j] - n) * z * (1 - z)
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
                Scalar.gemm(transA: false, transB: false, m: B, n: H, k: H, alpha: 1, a: dGh.data + s * B * GH + 2 * H, lda: GH,
                            b: whh + 2 * H * P, ldb: P, beta: 0, c: dhNew.data, ldc: P)
                for b in 0..<B where activeAt(s, b) {
                    let g = gates.data + (s * B + b) * GH, dgx = dGx.data + (s * B + b) * GH, dgh = dGh.data + (s * B + b) * GH
                    let drh = dhNew.data + b * P, hp = hPrev + b * P, dd = direct!.data + b * P
                    for j in 0..<H {
                        let r = g[j]
                        let drp = drh[j] * hp[j] * r * (1 - r)
                        dgx[j] = drp; dgh[j] = drp
                        dd[j] += drh[j] * r
                    }
                }
            }
            // ∂L/∂h_{s-1} = dGates_h · W_hh: (B, G·H)·(G·H, P), over the gates that read h directly.
            let recurrentGates = kind == .gruResetBefore ? 2 * H : GH
            Scalar.gemm(transA: false, transB: false, m: B, n: P, k: recurrentGates, alpha: 1, a: dGh.data + s * B * GH, lda: GH,
                        b: whh, ldb: P, beta: 0, c: dhNew.data, ldc: P)
            for b in 0..<B where activeAt(s, b) {
                let dst = dh.data + b * P, src = dhNew.data + b * P
                if let direct {
                    let dd = direct.data + b * P
                    for j in 0..<P { dst[j] = src[j] + dd[j] }
                } else {
                    dst.update(from: src, count: P)
                }
            }
        }
        onHiddenGradientNorm?(norms)

        // ---- Weight and input gradients: single GEMMs over all steps ----
        // Input-side gate gradients in time order (T, B, G·H): the layout of x.
        let dGxTime: Tensor<Scalar>
        if uniform {
            dGxTime = dGx
        } else {
            dGxTime = Tensor<Scalar>(zeros: [T, B, GH])
            for s in 0..<T { for b in 0..<B where activeAt(s, b) {
                (dGxTime.data + (time(s, b) * B + b) * GH).update(from: dGx.data + (s * B + b) * GH, count: GH)
            } }
        }
        let gx = Tensor<Scalar>(zeros: [T, B, I])      // (T·B, G·H)·(G·H, I)
        Scalar.gemm(transA: false, transB: false, m: T * B, n: I, k: GH, alpha: 1, a: dGxTime.data, lda: GH,
                    b: w.weightIH.data, ldb: I, beta: 0, c: gx.data, ldc: I)
        let gWih = Tensor<Scalar>(zeros: [GH, I])      // (G·H, T·B)·(T·B, I)
        Scalar.gemm(transA: true, transB: false, m: GH, n: I, k: T * B, alpha: 1, a: dGxTime.data, lda: GH,
                    b: x.data, ldb: I, beta: 0, c: gWih.data, ldc: I)
        let gWhh = Tensor<Scalar>(zeros: [GH, P])      // (G·H, T·B)·(T·B, P) against h_{s-1}
        let directGates = kind == .gruResetBefore ? 2 * H : GH
        Scalar.gemm(transA: true, transB: false, m: directGates, n: P, k: T * B, alpha: 1, a: dGh.data, lda: GH,
                    b: hs.data, ldb: P, beta: 0, c: gWhh.data, ldc: P)
        if kind == .gruResetBefore {                   // W_hn reads r ⊙ h
            Scalar.gemm(transA: true, transB: false, m: H, n: P, k: T * B, alpha: 1, a: dGh.data + 2 * H, lda: GH,
                        b: aux!.data, ldb: H, beta: 0, c: gWhh.data + 2 * H * P, ldc: P)
        }
        var result: [Tensor<Scalar>?] = [gx, dh]
        if c0 != nil { result.append(dc) }
        result += [gWih, gWhh]
        if w.biasIH != nil { result.append(columnSums(dGxTime.data, rows: T * B, width: GH)) }
        if w.biasHH != nil { result.append(columnSums(dGh.data, rows: T * B, width: GH)) }
        if let dhProjected {
            let gWhr = Tensor<Scalar>(zeros: [P, H])   // (P, T·B)·(T·B, H)
            Scalar.gemm(transA: true, transB: false, m: P, n: H, k: T * B, alpha: 1, a: dhProjected.data, lda: P,
                        b: aux!.data, ldb: H, beta: 0, c: gWhr.data, ldc: H)
            result.append(gWhr)
        }
        return result
    }
    return (output, hFinal, cFinal)
}

/// rows × width matrix += bias on every row.
@inline(__always)
func addRowBias<Scalar: TensorScalar>(_ m: UnsafeMutablePointer<Scalar>, rows: Int, _ bias: UnsafePointer<Scalar>, width: Int) {
    for r in 0..<rows { let row = m + r * width; for j in 0..<width { row[j] += bias[j] } }
}

/// Sum over the rows of a rows × width matrix, as a (width) tensor.
func columnSums<Scalar: TensorScalar>(_ m: UnsafePointer<Scalar>, rows: Int, width: Int) -> Tensor<Scalar> {
    let out = Tensor<Scalar>(zeros: [width])
    for r in 0..<rows { let row = m + r * width; for j in 0..<width { out.data[j] += row[j] } }
    return out
}
