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
    // Every row of every step is written when all sequences are full, so scratch needs no zero fill.
    let zeroFill = !lengths.allSatisfy { $0 == T }
    @inline(__always) func time(_ s: Int, _ b: Int) -> Int { reverse ? lengths[b] - 1 - s : s }

    // (T, B, G·H) input projection of every step, with b_ih: one GEMM.
    let xw = Scratch<Scalar>(T * B * GH, zeroed: false)
    productWithTransposed(m: T * B, n: GH, k: I, a: x.data, lda: I, b: w.weightIH.data, ldb: I, c: xw.data, ldc: GH)
    // Fold b_hh into the same pass where it adds linearly: all of it for RNN and LSTM, r and z for GRU
    // (GRU's b_hn sits inside r ⊙ (W_hn h + b_hn), added per step).
    let foldedHH = kind == .gru || kind == .gruResetBefore ? 2 * H : GH
    if w.biasIH != nil || w.biasHH != nil {
        let bias = [Scalar](unsafeUninitializedCapacity: GH) { buf, n in
            for j in 0..<GH { buf[j] = (w.biasIH?.data[j] ?? 0) + (j < foldedHH ? (w.biasHH?.data[j] ?? 0) : 0) }
            n = GH
        }
        bias.withUnsafeBufferPointer { addRowBias(xw.data, rows: T * B, $0.baseAddress!, width: GH) }
    }

    let hs = Scratch<Scalar>((T + 1) * B * P, zeroed: zeroFill)                          // (T+1, B, P): hs[s] = h before step s
    hs.data.update(from: h0.data, count: B * P)
    let cs = isLSTM ? Scratch<Scalar>((T + 1) * B * H, zeroed: zeroFill) : nil   // (T+1, B, H)
    let tanhC = isLSTM ? Scratch<Scalar>(T * B * H, zeroed: zeroFill) : nil       // (T, B, H) tanh(c_t), for backward
    if let cs, let c0 { cs.data.update(from: c0.data, count: B * H) }
    let gates = Scratch<Scalar>(T * B * GH, zeroed: zeroFill)                          // (T, B, G·H) activated gates
    // (T, B, H): GRU: W_hn h + b_hn (reset after) or r ⊙ h (reset before); LSTM with projection: o ⊙ tanh c.
    let aux = (isGRU || projected) ? Scratch<Scalar>(T * B * H, zeroed: zeroFill) : nil
    let hw = Scratch<Scalar>(B * GH, zeroed: false)                                // (B, G·H) per-step h·W_hhᵀ
    let output = Tensor<Scalar>(zeros: [T, B, P])                           // (T, B, P), time-indexed
    let activeAt = { (s: Int, b: Int) in s < lengths[b] }

    let whh = w.weightHH.data, bhh = w.biasHH?.data
    for s in 0..<T {
        let hPrev = hs.data + s * B * P, hNext = hs.data + (s + 1) * B * P
        let recurrentGates = kind == .gruResetBefore ? 2 * H : GH
        productWithTransposed(m: B, n: recurrentGates, k: P, a: hPrev, lda: P, b: whh, ldb: P, c: hw.data, ldc: GH)
        let bhn = kind == .gru ? bhh.map { $0 + 2 * H } : nil                // GRU's b_hn, (H)
        for b in 0..<B where activeAt(s, b) {
            let xr = xw.data + (time(s, b) * B + b) * GH, hr = hw.data + b * GH
            let g = gates.data + (s * B + b) * GH, hp = hPrev + b * P, hn = hNext + b * P
            if Scalar.self == Float.self {
                // Float: SIMD gate kernels with the vectorised activations (FastActivations.swift).
                switch kind {
                case .rnnTanh:
                    rnnTanhRowForward(f32(xr), f32(hr), f32(hn), H); continue
                case .lstm:
                    let cp = cs!.data + s * B * H + b * H, cn = cs!.data + (s + 1) * B * H + b * H
                    let m = projected ? aux!.data + (s * B + b) * H : hn
                    lstmRowForward(f32(xr), f32(hr), f32(g), f32(cp), f32(cn), f32(m), f32(tanhC!.data + (s * B + b) * H), H); continue
                case .gru:
                    gruRowForward(f32(xr), f32(hr), bhn.map { f32($0) }, f32(g), f32(hp), f32(hn), f32(aux!.data + (s * B + b) * H), H)
                    continue
                default: break
                }
            }
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
                    let tc = Scalar.tanh(c)
                    tanhC!.data[(s * B + b) * H + j] = tc
                    m[j] = o * tc
                }
            case .gru:
                let hnSaved = aux!.data + (s * B + b) * H
                for j in 0..<H {
                    let r = Scalar.sigmoid(xr[j] + hr[j])
                    let z = Scalar.sigmoid(xr[H + j] + hr[H + j])
                    let hnj = hr[2 * H + j] + (bhn?[j] ?? 0)
                    let n = Scalar.tanh(xr[2 * H + j] + r * hnj)
                    g[j] = r; g[H + j] = z; g[2 * H + j] = n
                    hnSaved[j] = hnj
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
        let dGx = Scratch<Scalar>(T * B * GH, zeroed: zeroFill)                         // (T, B, G·H) ∂L/∂(pre-activation), input side
        let dGh = isGRU ? Scratch<Scalar>(T * B * GH, zeroed: zeroFill) : dGx            // (T, B, G·H) recurrent side (differs for GRU's n)
        let dhProjected = projected ? Scratch<Scalar>(T * B * P, zeroed: zeroFill) : nil // (T, B, P) ∂L/∂h of active rows, for W_hr
        let dm = projected ? Scratch<Scalar>(B * H, zeroed: false) : Scratch(viewing: dh)             // (B, H) ∂L/∂(o ⊙ tanh c)
        let dhNew = Scratch<Scalar>(B * P, zeroed: false)                           // (B, P) scratch
        let direct = isGRU ? Scratch<Scalar>(B * P, zeroed: true) : nil            // (B, P) GRU's z ⊙ dh path
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
                    let cp = cs!.data + s * B * H + b * H, tcb = tanhC!.data + (s * B + b) * H
                    let dcb = dc.data + b * H
                    if Scalar.self == Float.self {
                        lstmRowBackward(f32(g), f32(cp), f32(tcb), f32(dmb), f32(dcb), f32(dgx), H)
                        continue
                    }
                    for j in 0..<H {
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
        let dGxTime: Scratch<Scalar>
        if uniform {
            dGxTime = dGx
        } else {
            dGxTime = Scratch<Scalar>(T * B * GH, zeroed: true)
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

/// Step-indexed scratch memory owned by one fused node (kept alive by its backward closure). Unlike
/// `Tensor(zeros:)` it is only zero-filled when asked, with one memset.
final class Scratch<Scalar> {
    let data: UnsafeMutablePointer<Scalar>
    private let owned: Bool
    private let keep: AnyObject?

    @inline(__always)
    init(_ count: Int, zeroed: Bool) {
        data = .allocate(capacity: Swift.max(count, 1))
        if zeroed {
            UnsafeMutableRawPointer(data).initializeMemory(as: UInt8.self, repeating: 0, count: Swift.max(count, 1) * MemoryLayout<Scalar>.stride)
        }
        owned = true
        keep = nil
    }

    /// Borrows a tensor's memory (keeps the tensor alive).
    init(viewing t: Tensor<Scalar>) where Scalar: TensorScalar {
        data = t.data
        owned = false
        keep = t
    }

    deinit { if owned { data.deallocate() } }
}

@inline(__always) func f32<S>(_ p: UnsafeMutablePointer<S>) -> UnsafeMutablePointer<Float> {
    UnsafeMutableRawPointer(p).assumingMemoryBound(to: Float.self)
}

// MARK: Float gate kernels (8 lanes; tails through partial loads)

@inline(__always) func ld(_ p: UnsafeMutablePointer<Float>, _ n: Int) -> Float8 { n == 8 ? load8(p) : loadPartial(p, n) }
@inline(__always) func st(_ v: Float8, _ p: UnsafeMutablePointer<Float>, _ n: Int) { if n == 8 { store8(v, p) } else { storePartial(v, p, n) } }

/// h = tanh(xr + hr) over H.
func rnnTanhRowForward(_ xr: UnsafeMutablePointer<Float>, _ hr: UnsafeMutablePointer<Float>, _ hn: UnsafeMutablePointer<Float>, _ H: Int) {
    var j = 0
    while j < H {
        let n = Swift.min(8, H - j)
        st(fastTanh(ld(xr + j, n) + ld(hr + j, n)), hn + j, n)
        j += 8
    }
}

/// LSTM step for one row: gates i, f, g, o from the pre-activations xr + hr (4H); c, tanh c and m = o ⊙ tanh c.
func lstmRowForward(_ xr: UnsafeMutablePointer<Float>, _ hr: UnsafeMutablePointer<Float>, _ g: UnsafeMutablePointer<Float>,
                    _ cp: UnsafeMutablePointer<Float>, _ cn: UnsafeMutablePointer<Float>, _ m: UnsafeMutablePointer<Float>,
                    _ tc: UnsafeMutablePointer<Float>, _ H: Int) {
    var j = 0
    while j < H {
        let n = Swift.min(8, H - j)
        let i = fastSigmoid(ld(xr + j, n) + ld(hr + j, n))
        let f = fastSigmoid(ld(xr + H + j, n) + ld(hr + H + j, n))
        let gg = fastTanh(ld(xr + 2 * H + j, n) + ld(hr + 2 * H + j, n))
        let o = fastSigmoid(ld(xr + 3 * H + j, n) + ld(hr + 3 * H + j, n))
        st(i, g + j, n); st(f, g + H + j, n); st(gg, g + 2 * H + j, n); st(o, g + 3 * H + j, n)
        let c = f * ld(cp + j, n) + i * gg
        let t = fastTanh(c)
        st(c, cn + j, n); st(t, tc + j, n); st(o * t, m + j, n)
        j += 8
    }
}

/// GRU (reset after) step for one row: r, z, n and h; saves W_hn h + b_hn.
func gruRowForward(_ xr: UnsafeMutablePointer<Float>, _ hr: UnsafeMutablePointer<Float>, _ bhn: UnsafeMutablePointer<Float>?,
                   _ g: UnsafeMutablePointer<Float>, _ hp: UnsafeMutablePointer<Float>, _ hn: UnsafeMutablePointer<Float>,
                   _ hnSaved: UnsafeMutablePointer<Float>, _ H: Int) {
    var j = 0
    while j < H {
        let n = Swift.min(8, H - j)
        let r = fastSigmoid(ld(xr + j, n) + ld(hr + j, n))
        let z = fastSigmoid(ld(xr + H + j, n) + ld(hr + H + j, n))
        let hnj = bhn.map { ld(hr + 2 * H + j, n) + ld($0 + j, n) } ?? ld(hr + 2 * H + j, n)
        let nn = fastTanh(ld(xr + 2 * H + j, n) + r * hnj)
        st(r, g + j, n); st(z, g + H + j, n); st(nn, g + 2 * H + j, n); st(hnj, hnSaved + j, n)
        st((1 - z) * nn + z * ld(hp + j, n), hn + j, n)
        j += 8
    }
}

/// LSTM backward for one row: pre-activation gradients (4H) from dm = ∂L/∂(o ⊙ tanh c) and the carried dc.
func lstmRowBackward(_ g: UnsafeMutablePointer<Float>, _ cp: UnsafeMutablePointer<Float>, _ tc: UnsafeMutablePointer<Float>,
                     _ dm: UnsafeMutablePointer<Float>, _ dc: UnsafeMutablePointer<Float>, _ dgx: UnsafeMutablePointer<Float>, _ H: Int) {
    var j = 0
    while j < H {
        let n = Swift.min(8, H - j)
        let i = ld(g + j, n), f = ld(g + H + j, n), gg = ld(g + 2 * H + j, n), o = ld(g + 3 * H + j, n)
        let t = ld(tc + j, n), dmj = ld(dm + j, n)
        let dcj = ld(dc + j, n) + dmj * o * (1 - t * t)
        st(dcj * gg * i * (1 - i), dgx + j, n)
        st(dcj * ld(cp + j, n) * f * (1 - f), dgx + H + j, n)
        st(dcj * i * (1 - gg * gg), dgx + 2 * H + j, n)
        st(dmj * t * o * (1 - o), dgx + 3 * H + j, n)
        st(dcj * f, dc + j, n)
        j += 8
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
