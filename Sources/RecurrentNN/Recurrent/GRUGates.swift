import CRecurrentKernels
import RecurrentTensor

/// GRU step, gates r, z, n (blocks `stride` apart). Reset after (PyTorch's): n = tanh(xr_n + r ⊙ (W_hn h + b_hn)),
/// one product per step; saves W_hn h + b_hn. Reset before (the original paper's): n = tanh(xr_n + W_hn (r ⊙ h)
/// + b_hn), a second product mid-step over all units, so its step runs in two halves around it; saves r ⊙ h.
/// h = (1 − z) ⊙ n + z ⊙ h_{t-1}. Backward gives the input-side (dgx) and recurrent-side (dgh) pre-activation
/// gradients and the direct path z ⊙ ∂h to h_{t-1}.
enum GRUGates {
    @inline(__always)
    static func forward<Scalar: TensorScalar>(_ xr: UnsafeMutablePointer<Scalar>, _ hr: UnsafeMutablePointer<Scalar>,
                                              _ bhn: UnsafeMutablePointer<Scalar>?, _ g: UnsafeMutablePointer<Scalar>,
                                              _ hp: UnsafeMutablePointer<Scalar>, _ hn: UnsafeMutablePointer<Scalar>,
                                              _ hnSaved: UnsafeMutablePointer<Scalar>, _ count: Int, stride H: Int, hStride HS: Int,
                                              kernels: KernelChoice) {
        if Scalar.self == Float.self {
            return forwardFloat(f32(xr), f32(hr), bhn.map { f32($0) }, f32(g), f32(hp), f32(hn), f32(hnSaved), count,
                                stride: H, hStride: HS, path: kernels.gates)
        }
        forwardReference(xr, hr, bhn, g, hp, hn, hnSaved, count, stride: H, hStride: HS)
    }

    @inline(__always)
    static func backward<Scalar: TensorScalar>(_ g: UnsafeMutablePointer<Scalar>, _ dm: UnsafeMutablePointer<Scalar>,
                                               _ hp: UnsafeMutablePointer<Scalar>, _ hnSaved: UnsafeMutablePointer<Scalar>,
                                               _ dgx: UnsafeMutablePointer<Scalar>, _ dgh: UnsafeMutablePointer<Scalar>,
                                               _ direct: UnsafeMutablePointer<Scalar>, _ count: Int, stride H: Int) {
        if Scalar.self == Float.self {
            return backwardFloat(f32(g), f32(dm), f32(hp), f32(hnSaved), f32(dgx), f32(dgh), f32(direct), count, stride: H)
        }
        backwardReference(resetAfter: true, g, dm, hp, hnSaved, dgx, dgh, direct, count, stride: H)
    }

    static func forwardReference<Scalar: TensorScalar>(_ xr: UnsafeMutablePointer<Scalar>, _ hr: UnsafeMutablePointer<Scalar>,
                                                       _ bhn: UnsafeMutablePointer<Scalar>?, _ g: UnsafeMutablePointer<Scalar>,
                                                       _ hp: UnsafeMutablePointer<Scalar>, _ hn: UnsafeMutablePointer<Scalar>,
                                                       _ hnSaved: UnsafeMutablePointer<Scalar>, _ n: Int, stride H: Int, hStride HS: Int) {
        for j in 0..<n {
            let r = Scalar.sigmoid(xr[j] + hr[j])
            let z = Scalar.sigmoid(xr[H + j] + hr[HS + j])
            let hnj = hr[2 * HS + j] + (bhn?[j] ?? 0)
            let nn = Scalar.tanh(xr[2 * H + j] + r * hnj)
            g[j] = r; g[H + j] = z; g[2 * H + j] = nn
            hnSaved[j] = hnj
            hn[j] = (1 - z) * nn + z * hp[j]
        }
    }

    /// Reset before, first half (all H units): r, z and r ⊙ h_{t-1} (`rh`, what W_hn reads).
    static func resetBeforeGatesReference<Scalar: TensorScalar>(_ xr: UnsafeMutablePointer<Scalar>, _ hr: UnsafeMutablePointer<Scalar>,
                                                                _ g: UnsafeMutablePointer<Scalar>, _ hp: UnsafeMutablePointer<Scalar>,
                                                                _ rh: UnsafeMutablePointer<Scalar>, _ H: Int) {
        for j in 0..<H {
            let r = Scalar.sigmoid(xr[j] + hr[j])
            g[j] = r; g[H + j] = Scalar.sigmoid(xr[H + j] + hr[H + j])
            rh[j] = r * hp[j]
        }
    }

    /// Reset before, second half, once `hr`'s n block holds W_hn (r ⊙ h): n and h.
    static func resetBeforeNewReference<Scalar: TensorScalar>(_ xr: UnsafeMutablePointer<Scalar>, _ hr: UnsafeMutablePointer<Scalar>,
                                                              _ bhh: UnsafeMutablePointer<Scalar>?, _ g: UnsafeMutablePointer<Scalar>,
                                                              _ hp: UnsafeMutablePointer<Scalar>, _ hn: UnsafeMutablePointer<Scalar>, _ H: Int) {
        for j in 0..<H {
            let nn = Scalar.tanh(xr[2 * H + j] + hr[2 * H + j] + (bhh?[2 * H + j] ?? 0))
            let z = g[H + j]
            g[2 * H + j] = nn
            hn[j] = (1 - z) * nn + z * hp[j]
        }
    }

    /// Both variants' backward but for reset before's r, which needs ∂L/∂(r ⊙ h) from a product over all
    /// units (`resetBeforeResetGradientReference`).
    static func backwardReference<Scalar: TensorScalar>(resetAfter: Bool, _ g: UnsafeMutablePointer<Scalar>,
                                                        _ dm: UnsafeMutablePointer<Scalar>, _ hp: UnsafeMutablePointer<Scalar>,
                                                        _ hnSaved: UnsafeMutablePointer<Scalar>, _ dgx: UnsafeMutablePointer<Scalar>,
                                                        _ dgh: UnsafeMutablePointer<Scalar>, _ dd: UnsafeMutablePointer<Scalar>,
                                                        _ n: Int, stride H: Int) {
        for j in 0..<n {
            let r = g[j], z = g[H + j], nn = g[2 * H + j]
            let dn = dm[j] * (1 - z)
            let dnp = dn * (1 - nn * nn)
            let dzp = dm[j] * (hp[j] - nn) * z * (1 - z)
            dgx[H + j] = dzp; dgh[H + j] = dzp
            dgx[2 * H + j] = dnp
            dd[j] = dm[j] * z
            if resetAfter {
                let drp = dnp * hnSaved[j] * r * (1 - r)
                dgx[j] = drp; dgh[j] = drp
                dgh[2 * H + j] = dnp * r
            } else {
                dgh[2 * H + j] = dnp
            }
        }
    }

    /// Reset before: r's gradient from ∂L/∂(r ⊙ h) (`drh`), and r's share of ∂h_{t-1} added to `dd`.
    static func resetBeforeResetGradientReference<Scalar: TensorScalar>(_ g: UnsafeMutablePointer<Scalar>,
                                                                        _ drh: UnsafeMutablePointer<Scalar>,
                                                                        _ hp: UnsafeMutablePointer<Scalar>,
                                                                        _ dgx: UnsafeMutablePointer<Scalar>,
                                                                        _ dgh: UnsafeMutablePointer<Scalar>,
                                                                        _ dd: UnsafeMutablePointer<Scalar>, _ H: Int) {
        for j in 0..<H {
            let r = g[j]
            let drp = drh[j] * hp[j] * r * (1 - r)
            dgx[j] = drp; dgh[j] = drp
            dd[j] += drh[j] * r
        }
    }

    static func forwardFloat(_ xr: UnsafeMutablePointer<Float>, _ hr: UnsafeMutablePointer<Float>, _ bhn: UnsafeMutablePointer<Float>?,
                             _ g: UnsafeMutablePointer<Float>, _ hp: UnsafeMutablePointer<Float>, _ hn: UnsafeMutablePointer<Float>,
                             _ hnSaved: UnsafeMutablePointer<Float>, _ count: Int, stride H: Int, hStride HS: Int, path: InstructionSet) {
        switch path {
        case .avx512: return rk_avx512_gru_row_forward(xr, hr, bhn, g, hp, hn, hnSaved, count, H, HS)
        case .avx2: return rk_gru_row_forward(xr, hr, bhn, g, hp, hn, hnSaved, count, H, HS)
        case .generic: break
        }
        var j = 0
        while j < count {
            let n = count - j
            let r = fastSigmoid(ld(xr + j, n) + ld(hr + j, n))
            let z = fastSigmoid(ld(xr + H + j, n) + ld(hr + HS + j, n))
            let hnj = bhn.map { ld(hr + 2 * HS + j, n) + ld($0 + j, n) } ?? ld(hr + 2 * HS + j, n)
            let nn = fastTanh(ld(xr + 2 * H + j, n) + r * hnj)
            st(r, g + j, n); st(z, g + H + j, n); st(nn, g + 2 * H + j, n); st(hnj, hnSaved + j, n)
            st((1 - z) * nn + z * ld(hp + j, n), hn + j, n)
            j += 8
        }
    }

    static func backwardFloat(_ g: UnsafeMutablePointer<Float>, _ dm: UnsafeMutablePointer<Float>, _ hp: UnsafeMutablePointer<Float>,
                              _ hnSaved: UnsafeMutablePointer<Float>, _ dgx: UnsafeMutablePointer<Float>, _ dgh: UnsafeMutablePointer<Float>,
                              _ direct: UnsafeMutablePointer<Float>, _ count: Int, stride H: Int) {
        var j = 0
        while j < count {
            let n = count - j
            let r = ld(g + j, n), z = ld(g + H + j, n), nn = ld(g + 2 * H + j, n), d = ld(dm + j, n)
            let dnp = d * (1 - z) * (1 - nn * nn)
            let dzp = d * (ld(hp + j, n) - nn) * z * (1 - z)
            let drp = dnp * ld(hnSaved + j, n) * r * (1 - r)
            st(drp, dgx + j, n); st(drp, dgh + j, n)
            st(dzp, dgx + H + j, n); st(dzp, dgh + H + j, n)
            st(dnp, dgx + 2 * H + j, n); st(dnp * r, dgh + 2 * H + j, n)
            st(d * z, direct + j, n)
            j += 8
        }
    }
}
