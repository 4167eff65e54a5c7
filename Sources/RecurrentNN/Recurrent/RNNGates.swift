import CRecurrentKernels
import RecurrentTensor

/// Elman step: h = act(xr + hr), act tanh or ReLU; backward ∂pre from ∂h and h.
enum RNNGates {
    @inline(__always)
    static func forward<Scalar: TensorScalar>(relu: Bool, _ xr: UnsafeMutablePointer<Scalar>, _ hr: UnsafeMutablePointer<Scalar>,
                                              _ hn: UnsafeMutablePointer<Scalar>, _ count: Int, kernels: KernelChoice) {
        if Scalar.self == Float.self && !relu { return tanhForward(f32(xr), f32(hr), f32(hn), count, path: kernels.gates) }
        forwardReference(relu: relu, xr, hr, hn, count)
    }

    /// ∂pre = ∂h ⊙ act′, from the saved output h (`y`).
    @inline(__always)
    static func backward<Scalar: TensorScalar>(relu: Bool, _ dh: UnsafeMutablePointer<Scalar>, _ y: UnsafeMutablePointer<Scalar>,
                                               _ dgx: UnsafeMutablePointer<Scalar>, _ count: Int) {
        if Scalar.self == Float.self && !relu { return tanhBackward(f32(dh), f32(y), f32(dgx), count) }
        backwardReference(relu: relu, dh, y, dgx, count)
    }

    static func forwardReference<Scalar: TensorScalar>(relu: Bool, _ xr: UnsafeMutablePointer<Scalar>, _ hr: UnsafeMutablePointer<Scalar>,
                                                       _ hn: UnsafeMutablePointer<Scalar>, _ n: Int) {
        if relu {
            for j in 0..<n { hn[j] = Swift.max(xr[j] + hr[j], 0) }
        } else {
            for j in 0..<n { hn[j] = Scalar.tanh(xr[j] + hr[j]) }
        }
    }

    static func backwardReference<Scalar: TensorScalar>(relu: Bool, _ dh: UnsafeMutablePointer<Scalar>, _ y: UnsafeMutablePointer<Scalar>,
                                                        _ dgx: UnsafeMutablePointer<Scalar>, _ n: Int) {
        if relu {
            for j in 0..<n { dgx[j] = y[j] > 0 ? dh[j] : 0 }
        } else {
            for j in 0..<n { dgx[j] = dh[j] * (1 - y[j] * y[j]) }
        }
    }

    /// h = tanh(xr + hr), Float.
    static func tanhForward(_ xr: UnsafeMutablePointer<Float>, _ hr: UnsafeMutablePointer<Float>, _ hn: UnsafeMutablePointer<Float>,
                            _ count: Int, path: InstructionSet) {
        switch path {
        case .avx512: return rk_avx512_tanh_row_forward(xr, hr, hn, count)
        case .avx2: return rk_tanh_row_forward(xr, hr, hn, count)
        case .generic: break
        }
        var j = 0
        while j < count {
            let n = count - j
            st(fastTanh(ld(xr + j, n) + ld(hr + j, n)), hn + j, n)
            j += 8
        }
    }

    /// ∂pre = dh ⊙ (1 − h²), Float.
    static func tanhBackward(_ dh: UnsafeMutablePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ dgx: UnsafeMutablePointer<Float>,
                             _ count: Int) {
        var j = 0
        while j < count {
            let n = count - j
            let h = ld(y + j, n)
            st(ld(dh + j, n) * (1 - h * h), dgx + j, n)
            j += 8
        }
    }
}
