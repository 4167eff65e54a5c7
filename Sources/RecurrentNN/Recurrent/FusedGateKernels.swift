import CRecurrentKernels
import RecurrentTensor

// Float gate kernels of the fused layers (8 lanes; tails through partial loads), forward and backward
// side by side. Each works on `count` consecutive hidden units of one batch row; `stride` is the
// distance between gate blocks in the gate-wide rows (H: a part of a split step passes pointers
// offset to its first unit and its own count). The forward kernels read the recurrent product `hr`
// with a stride of its own, `hStride`: H when it is a row of the whole (B, G·H) product, a part's own
// unit count when the part computed it alone into its packed (B, G·n) buffer (FusedRecurrence.swift). Naive references: the scalar loops in
// FusedRecurrence.swift (the Double path), which the tests compare against.

/// Whether the AVX2 + FMA versions (CRecurrentKernels/GatesAVX2.c) run instead of the Swift ones below.
/// Tests turn it off to compare the two.
nonisolated(unsafe) var gateKernelsUseAVX2 = rk_has_avx2_fma() != 0

@inline(__always) func f32<S>(_ p: UnsafeMutablePointer<S>) -> UnsafeMutablePointer<Float> {
    UnsafeMutableRawPointer(p).assumingMemoryBound(to: Float.self)
}

@inline(__always) func ld(_ p: UnsafeMutablePointer<Float>, _ n: Int) -> Float8 { n >= 8 ? load8(p) : loadPartial(p, n) }
@inline(__always) func st(_ v: Float8, _ p: UnsafeMutablePointer<Float>, _ n: Int) { if n >= 8 { store8(v, p) } else { storePartial(v, p, n) } }

/// h = tanh(xr + hr).
func rnnTanhRowForward(_ xr: UnsafeMutablePointer<Float>, _ hr: UnsafeMutablePointer<Float>, _ hn: UnsafeMutablePointer<Float>, _ count: Int) {
    if gateKernelsUseAVX2 { return rk_tanh_row_forward(xr, hr, hn, count) }
    var j = 0
    while j < count {
        let n = count - j
        st(fastTanh(ld(xr + j, n) + ld(hr + j, n)), hn + j, n)
        j += 8
    }
}

/// ∂pre = dh ⊙ (1 − h²).
func rnnTanhRowBackward(_ dh: UnsafeMutablePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ dgx: UnsafeMutablePointer<Float>, _ count: Int) {
    var j = 0
    while j < count {
        let n = count - j
        let h = ld(y + j, n)
        st(ld(dh + j, n) * (1 - h * h), dgx + j, n)
        j += 8
    }
}

/// LSTM step: gates i, f, g, o from the pre-activations xr + hr; c, tanh c and m = o ⊙ tanh c.
func lstmRowForward(_ xr: UnsafeMutablePointer<Float>, _ hr: UnsafeMutablePointer<Float>, _ g: UnsafeMutablePointer<Float>,
                    _ cp: UnsafeMutablePointer<Float>, _ cn: UnsafeMutablePointer<Float>, _ m: UnsafeMutablePointer<Float>,
                    _ tc: UnsafeMutablePointer<Float>, _ count: Int, stride H: Int, hStride HS: Int) {
    if gateKernelsUseAVX2 { return rk_lstm_row_forward(xr, hr, g, cp, cn, m, tc, count, H, HS) }
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

/// LSTM backward: pre-activation gradients from dm = ∂L/∂(o ⊙ tanh c) and the carried dc (updated to dc ⊙ f).
func lstmRowBackward(_ g: UnsafeMutablePointer<Float>, _ cp: UnsafeMutablePointer<Float>, _ tc: UnsafeMutablePointer<Float>,
                     _ dm: UnsafeMutablePointer<Float>, _ dc: UnsafeMutablePointer<Float>, _ dgx: UnsafeMutablePointer<Float>,
                     _ count: Int, stride H: Int) {
    if gateKernelsUseAVX2 { return rk_lstm_row_backward(g, cp, tc, dm, dc, dgx, count, H) }
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

/// GRU (reset after) step: r, z, n and h; saves W_hn h + b_hn.
func gruRowForward(_ xr: UnsafeMutablePointer<Float>, _ hr: UnsafeMutablePointer<Float>, _ bhn: UnsafeMutablePointer<Float>?,
                   _ g: UnsafeMutablePointer<Float>, _ hp: UnsafeMutablePointer<Float>, _ hn: UnsafeMutablePointer<Float>,
                   _ hnSaved: UnsafeMutablePointer<Float>, _ count: Int, stride H: Int, hStride HS: Int) {
    if gateKernelsUseAVX2 { return rk_gru_row_forward(xr, hr, bhn, g, hp, hn, hnSaved, count, H, HS) }
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

/// GRU (reset after) backward: input-side (dgx) and recurrent-side (dgh) pre-activation gradients and
/// the direct path z ⊙ dh to h_{t-1}.
func gruRowBackward(_ g: UnsafeMutablePointer<Float>, _ dm: UnsafeMutablePointer<Float>, _ hp: UnsafeMutablePointer<Float>,
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
