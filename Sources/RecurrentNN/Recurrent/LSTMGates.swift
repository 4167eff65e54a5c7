import CRecurrentKernels
import RecurrentTensor

/// LSTM step: gates i, f, g, o (blocks `stride` apart) from the pre-activations xr + hr; the new cell c,
/// tanh c (saved for backward) and m = o ⊙ tanh c (h, or what the projection reads). Backward: the
/// pre-activation gradients from dm = ∂L/∂m and the carried dc, which it updates to ∂L/∂c_{t-1} = dc ⊙ f.
enum LSTMGates {
    @inline(__always)
    static func forward<Scalar: TensorScalar>(_ xr: UnsafeMutablePointer<Scalar>, _ hr: UnsafeMutablePointer<Scalar>,
                                              _ g: UnsafeMutablePointer<Scalar>, _ cp: UnsafeMutablePointer<Scalar>,
                                              _ cn: UnsafeMutablePointer<Scalar>, _ m: UnsafeMutablePointer<Scalar>,
                                              _ tc: UnsafeMutablePointer<Scalar>, _ count: Int, stride H: Int, hStride HS: Int,
                                              kernels: KernelChoice) {
        if Scalar.self == Float.self {
            return forwardFloat(f32(xr), f32(hr), f32(g), f32(cp), f32(cn), f32(m), f32(tc), count, stride: H, hStride: HS,
                                path: kernels.gates)
        }
        forwardReference(xr, hr, g, cp, cn, m, tc, count, stride: H, hStride: HS)
    }

    @inline(__always)
    static func backward<Scalar: TensorScalar>(_ g: UnsafeMutablePointer<Scalar>, _ cp: UnsafeMutablePointer<Scalar>,
                                               _ tc: UnsafeMutablePointer<Scalar>, _ dm: UnsafeMutablePointer<Scalar>,
                                               _ dc: UnsafeMutablePointer<Scalar>, _ dgx: UnsafeMutablePointer<Scalar>,
                                               _ count: Int, stride H: Int, kernels: KernelChoice) {
        if Scalar.self == Float.self {
            return backwardFloat(f32(g), f32(cp), f32(tc), f32(dm), f32(dc), f32(dgx), count, stride: H, path: kernels.gates)
        }
        backwardReference(g, cp, tc, dm, dc, dgx, count, stride: H)
    }

    static func forwardReference<Scalar: TensorScalar>(_ xr: UnsafeMutablePointer<Scalar>, _ hr: UnsafeMutablePointer<Scalar>,
                                                       _ g: UnsafeMutablePointer<Scalar>, _ cp: UnsafeMutablePointer<Scalar>,
                                                       _ cn: UnsafeMutablePointer<Scalar>, _ m: UnsafeMutablePointer<Scalar>,
                                                       _ tc: UnsafeMutablePointer<Scalar>, _ n: Int, stride H: Int, hStride HS: Int) {
        for j in 0..<n {
            let i = Scalar.sigmoid(xr[j] + hr[j])
            let f = Scalar.sigmoid(xr[H + j] + hr[HS + j])
            let gg = Scalar.tanh(xr[2 * H + j] + hr[2 * HS + j])
            let o = Scalar.sigmoid(xr[3 * H + j] + hr[3 * HS + j])
            g[j] = i; g[H + j] = f; g[2 * H + j] = gg; g[3 * H + j] = o
            let c = f * cp[j] + i * gg
            cn[j] = c
            tc[j] = Scalar.tanh(c)
            m[j] = o * tc[j]
        }
    }

    static func backwardReference<Scalar: TensorScalar>(_ g: UnsafeMutablePointer<Scalar>, _ cp: UnsafeMutablePointer<Scalar>,
                                                        _ tc: UnsafeMutablePointer<Scalar>, _ dm: UnsafeMutablePointer<Scalar>,
                                                        _ dc: UnsafeMutablePointer<Scalar>, _ dgx: UnsafeMutablePointer<Scalar>,
                                                        _ n: Int, stride H: Int) {
        for j in 0..<n {
            let i = g[j], f = g[H + j], gg = g[2 * H + j], o = g[3 * H + j]
            let t = tc[j]
            let dcj = dc[j] + dm[j] * o * (1 - t * t)
            dgx[j] = dcj * gg * i * (1 - i)
            dgx[H + j] = dcj * cp[j] * f * (1 - f)
            dgx[2 * H + j] = dcj * i * (1 - gg * gg)
            dgx[3 * H + j] = dm[j] * t * o * (1 - o)
            dc[j] = dcj * f
        }
    }

    static func forwardFloat(_ xr: UnsafeMutablePointer<Float>, _ hr: UnsafeMutablePointer<Float>, _ g: UnsafeMutablePointer<Float>,
                             _ cp: UnsafeMutablePointer<Float>, _ cn: UnsafeMutablePointer<Float>, _ m: UnsafeMutablePointer<Float>,
                             _ tc: UnsafeMutablePointer<Float>, _ count: Int, stride H: Int, hStride HS: Int, path: InstructionSet) {
        switch path {
        case .avx512: return rk_avx512_lstm_row_forward(xr, hr, g, cp, cn, m, tc, count, H, HS)
        case .avx2: return rk_lstm_row_forward(xr, hr, g, cp, cn, m, tc, count, H, HS)
        case .generic: break
        }
        var j = 0
        while j < count {
            let n = count - j
            let i = fastSigmoid(ld(xr + j, n) + ld(hr + j, n))
            let f = fastSigmoid(ld(xr + H + j, n) + ld(hr + HS + j, n))
            let gg = fastTanh(ld(xr + 2 * H + j, n) + ld(hr + 2 * HS + j, n))
            let o = fastSigmoid(ld(xr + 3 * H + j, n) + ld(hr + 3 * HS + j, n))
            st(i, g + j, n); st(f, g + H + j, n); st(gg, g + 2 * H + j, n); st(o, g + 3 * H + j, n)
            let c = f * ld(cp + j, n) + i * gg
            let t = fastTanh(c)
            st(c, cn + j, n); st(t, tc + j, n); st(o * t, m + j, n)
            j += 8
        }
    }

    static func backwardFloat(_ g: UnsafeMutablePointer<Float>, _ cp: UnsafeMutablePointer<Float>, _ tc: UnsafeMutablePointer<Float>,
                              _ dm: UnsafeMutablePointer<Float>, _ dc: UnsafeMutablePointer<Float>, _ dgx: UnsafeMutablePointer<Float>,
                              _ count: Int, stride H: Int, path: InstructionSet) {
        switch path {
        case .avx512: return rk_avx512_lstm_row_backward(g, cp, tc, dm, dc, dgx, count, H)
        case .avx2: return rk_lstm_row_backward(g, cp, tc, dm, dc, dgx, count, H)
        case .generic: break
        }
        var j = 0
        while j < count {
            let n = count - j
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
}
