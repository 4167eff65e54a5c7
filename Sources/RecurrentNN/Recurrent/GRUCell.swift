import RecurrentTensor

/// GRU cell, gate order r, z, n as PyTorch's `GRUCell`:
///
///     r = σ(W_ir x + b_ir + W_hr h + b_hr),   z = σ(W_iz x + b_iz + W_hz h + b_hz)
///     n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))      resetAfter = true  (PyTorch, cuDNN; the default)
///     n = tanh(W_in x + b_in + W_hn (r ⊙ h) + b_hn)      resetAfter = false (the original paper; Keras reset_after=False)
///     h′ = (1 − z) ⊙ n + z ⊙ h
///
/// Parameters: weight_ih (3H, I), weight_hh (3H, H), bias_ih (3H), bias_hh (3H), in both variants
/// (W_hn, b_hn are rows 2H..<3H of weight_hh, bias_hh). One autograd node per step. Its state is h,
/// as the `GRU` layer's.
public final class GRUCell<Scalar: TensorScalar>: RNNCellBase<Scalar>, RecurrentCell {
    /// Whether the reset gate multiplies the recurrent projection (true) or the state before it (false).
    public let resetAfter: Bool

    /// - Parameters:
    ///   - inputSize: features I of x.
    ///   - hiddenSize: features H of the state.
    ///   - bias: whether bias_ih and bias_hh exist.
    ///   - resetAfter: `true` for PyTorch's variant, `false` for the original paper's.
    ///   - generator: source of the U(−1/√H, 1/√H) initial values, shared with the modules built after this one.
    public init(inputSize: Int, hiddenSize: Int, bias: Bool = true, resetAfter: Bool = true,
                generator: inout RandomGenerator) {
        self.resetAfter = resetAfter
        super.init(gateCount: 3, inputSize: inputSize, hiddenSize: hiddenSize, bias: bias, generator: &generator)
    }

    /// PyTorch's default initialisation, U(−1/√H, 1/√H), from a generator seeded with `seed`.
    public convenience init(inputSize: Int, hiddenSize: Int, bias: Bool = true, resetAfter: Bool = true, seed: UInt64 = 0) {
        var generator = RandomGenerator(seed: seed)
        self.init(inputSize: inputSize, hiddenSize: hiddenSize, bias: bias, resetAfter: resetAfter, generator: &generator)
    }

    public func output(of state: Tensor<Scalar>) -> Tensor<Scalar> { state }

    /// One step.
    /// - Parameters:
    ///   - x: (B, I)
    ///   - state: h (B, H), or nil for zeros.
    /// - Returns: h′ (B, H)
    public func callAsFunction(_ x: Tensor<Scalar>, state h: Tensor<Scalar>? = nil) -> Tensor<Scalar> {
        let b = checkStep(x, [h], "GRUCell")
        return resetAfter ? stepResetAfter(x, h, batch: b) : stepResetBefore(x, h, batch: b)
    }

    private func stepResetAfter(_ x: Tensor<Scalar>, _ h: Tensor<Scalar>?, batch b: Int) -> Tensor<Scalar> {
        let hn = hiddenSize
        let gi = Tensor<Scalar>(zeros: [b, 3 * hn])               // (B, 3H) x·W_ihᵀ + b_ih, then r, z, n in place
        let gh = Tensor<Scalar>(zeros: [b, 3 * hn])               // (B, 3H) h·W_hhᵀ + b_hh (its n block is saved)
        projectInput(x, into: gi.data)
        projectHidden(h, rows: b, into: gh.data, accumulate: false)
        let out = Tensor<Scalar>(zeros: [b, hn])
        gruResetAfterForward(gi.data, gh.data, h?.data, out.data, batch: b, hidden: hn)

        return Tensor.record("GRUCell", inputs: [x] + (h.map { [$0] } ?? []) + parameterInputs, outputs: [out]) { [self] grads in
            let g = grads[0] ?? Tensor(zeros: [b, hn])
            let dGi = Tensor<Scalar>(zeros: [b, 3 * hn]), dGh = Tensor<Scalar>(zeros: [b, 3 * hn])
            let dh = stateGradient(h)
            gruResetAfterBackward(g.data, gates: gi.data, gh: gh.data, h: h?.data, dGi: dGi.data, dGh: dGh.data,
                                  dh: dh?.data, batch: b, hidden: hn)
            let p = projectionGradients(x: x, h: h, dGi: dGi.data, dGh: dGh.data, dh: dh)
            return [p.x] + (h == nil ? [] : [dh]) + p.parameters
        }[0]
    }

    private func stepResetBefore(_ x: Tensor<Scalar>, _ h: Tensor<Scalar>?, batch b: Int) -> Tensor<Scalar> {
        let hn = hiddenSize
        let whh = weightHH.data, bhh = biasHH?.data
        let whn = whh + 2 * hn * hn                                // W_hn: rows 2H..<3H of weight_hh, (H, H)
        let gi = Tensor<Scalar>(zeros: [b, 3 * hn])               // (B, 3H) x·W_ihᵀ + b_ih, then r, z, n in place
        let gh = Tensor<Scalar>(zeros: [b, 3 * hn])               // (B, 3H) recurrent parts: h·W_h{r,z}ᵀ + b, (r ⊙ h)·W_hnᵀ + b_hn
        projectInput(x, into: gi.data)
        affineForward(rows: b, inFeatures: hn, outFeatures: 2 * hn, a: h?.data, lda: hn, w: whh, ldw: hn, bias: bhh,
                      c: gh.data, ldc: 3 * hn, accumulate: false)
        let rh: Tensor<Scalar>? = h == nil ? nil : Tensor(zeros: [b, hn])   // (B, H) r ⊙ h (zero without h)
        gruResetGates(gi.data, gh.data, h?.data, rh?.data, batch: b, hidden: hn)
        affineForward(rows: b, inFeatures: hn, outFeatures: hn, a: rh?.data, lda: hn, w: whn, ldw: hn, bias: bhh.map { $0 + 2 * hn },
                      c: gh.data + 2 * hn, ldc: 3 * hn, accumulate: false)
        let out = Tensor<Scalar>(zeros: [b, hn])
        gruResetBeforeOutput(gi.data, gh.data, h?.data, out.data, batch: b, hidden: hn)

        return Tensor.record("GRUCell(resetBefore)", inputs: [x] + (h.map { [$0] } ?? []) + parameterInputs, outputs: [out]) { [self] grads in
            let g = grads[0] ?? Tensor(zeros: [b, hn])
            let dGi = Tensor<Scalar>(zeros: [b, 3 * hn]), dGh = Tensor<Scalar>(zeros: [b, 3 * hn])
            let dh = stateGradient(h)
            let p = ProjectionGradients(cell: self, x: x)
            let dWhh = p.weightHH?.data, dbhh = p.biasHH?.data
            // z and n blocks, and the direct z ⊙ h term of dh.
            gruResetBeforeBackwardZN(g.data, gates: gi.data, h: h?.data, dGi: dGi.data, dGh: dGh.data, dh: dh?.data,
                                     batch: b, hidden: hn)
            // n's recurrent projection: ∂L/∂(r ⊙ h) = dn·W_hn, dW_hn += dnᵀ·(r ⊙ h), db_hn += Σ dn.
            let dRh: Tensor<Scalar>? = h == nil ? nil : Tensor(zeros: [b, hn])
            affineBackward(rows: b, inFeatures: hn, outFeatures: hn, dc: dGh.data + 2 * hn, ldd: 3 * hn, a: rh?.data, lda: hn,
                           w: whn, ldw: hn, da: dRh?.data, ldda: hn, dw: dWhh.map { $0 + 2 * hn * hn }, lddw: hn,
                           dbias: dbhh.map { $0 + 2 * hn })
            // r block from ∂L/∂(r ⊙ h), and the r ⊙ ∂L/∂(r ⊙ h) term of dh.
            if let h, let dRh {
                gruResetBeforeBackwardR(dRh.data, gates: gi.data, h: h.data, dGi: dGi.data, dGh: dGh.data, dh: dh?.data,
                                        batch: b, hidden: hn)
            }
            // r, z recurrent projection (rows 0..<2H of weight_hh) and the input projection.
            affineBackward(rows: b, inFeatures: hn, outFeatures: 2 * hn, dc: dGh.data, ldd: 3 * hn, a: h?.data, lda: hn,
                           w: whh, ldw: hn, da: h == nil ? nil : dh?.data, ldda: hn, dw: dWhh, lddw: hn, dbias: dbhh)
            affineBackward(rows: b, inFeatures: inputSize, outFeatures: 3 * hn, dc: dGi.data, ldd: 3 * hn, a: x.data, lda: inputSize,
                           w: weightIH.data, ldw: inputSize, da: p.x?.data, ldda: inputSize, dw: p.weightIH?.data, lddw: inputSize,
                           dbias: p.biasIH?.data)
            return [p.x] + (h == nil ? [] : [dh]) + p.parameters
        }[0]
    }
}

// MARK: kernels (gi, gh: (B, 3H) in blocks r, z, n)

/// resetAfter: r, z, n into `gi` in place; h′ = (1 − z) ⊙ n + z ⊙ h. A nil h stands for zeros.
@_specialize(where S == Float)
@_specialize(where S == Double)
func gruResetAfterForward<S: TensorScalar>(_ gi: UnsafeMutablePointer<S>, _ gh: UnsafePointer<S>, _ h: UnsafePointer<S>?,
                                           _ out: UnsafeMutablePointer<S>, batch: Int, hidden hn: Int) {
    for row in 0..<batch {
        let a = gi + row * 3 * hn, c = gh + row * 3 * hn, o = row * hn
        for j in 0..<hn {
            let r = S.sigmoid(a[j] + c[j])
            let z = S.sigmoid(a[hn + j] + c[hn + j])
            let n = S.tanh(a[2 * hn + j] + r * c[2 * hn + j])
            a[j] = r; a[hn + j] = z; a[2 * hn + j] = n
            out[o + j] = (1 - z) * n + z * (h?[o + j] ?? 0)
        }
    }
}

/// resetAfter backward: ∂L/∂gi and ∂L/∂gh (they differ only in the n block, where gh's is r ⊙ ∂L/∂gi),
/// and the direct z ⊙ ∂L/∂h′ term of ∂L/∂h.
@_specialize(where S == Float)
@_specialize(where S == Double)
func gruResetAfterBackward<S: TensorScalar>(_ g: UnsafePointer<S>, gates: UnsafePointer<S>, gh: UnsafePointer<S>,
                                            h: UnsafePointer<S>?, dGi: UnsafeMutablePointer<S>, dGh: UnsafeMutablePointer<S>,
                                            dh: UnsafeMutablePointer<S>?, batch: Int, hidden hn: Int) {
    for row in 0..<batch {
        let a = gates + row * 3 * hn, c = gh + row * 3 * hn, di = dGi + row * 3 * hn, dhh = dGh + row * 3 * hn, o = row * hn
        for j in 0..<hn {
            let r = a[j], z = a[hn + j], n = a[2 * hn + j], gv = g[o + j], hp = h?[o + j] ?? 0
            let dn = gv * (1 - z) * (1 - n * n)
            let dz = gv * (hp - n) * z * (1 - z)
            let dr = dn * c[2 * hn + j] * r * (1 - r)
            di[j] = dr; di[hn + j] = dz; di[2 * hn + j] = dn
            dhh[j] = dr; dhh[hn + j] = dz; dhh[2 * hn + j] = dn * r
            dh?[o + j] += gv * z
        }
    }
}

/// resetBefore, first half: r, z into `gi` in place and r ⊙ h (skipped without h).
@_specialize(where S == Float)
@_specialize(where S == Double)
func gruResetGates<S: TensorScalar>(_ gi: UnsafeMutablePointer<S>, _ gh: UnsafePointer<S>, _ h: UnsafePointer<S>?,
                                    _ rh: UnsafeMutablePointer<S>?, batch: Int, hidden hn: Int) {
    for row in 0..<batch {
        let a = gi + row * 3 * hn, c = gh + row * 3 * hn, o = row * hn
        for j in 0..<hn {
            let r = S.sigmoid(a[j] + c[j])
            a[j] = r
            a[hn + j] = S.sigmoid(a[hn + j] + c[hn + j])
            if let h, let rh { rh[o + j] = r * h[o + j] }
        }
    }
}

/// resetBefore, second half: n into `gi` in place, h′ = (1 − z) ⊙ n + z ⊙ h.
@_specialize(where S == Float)
@_specialize(where S == Double)
func gruResetBeforeOutput<S: TensorScalar>(_ gi: UnsafeMutablePointer<S>, _ gh: UnsafePointer<S>, _ h: UnsafePointer<S>?,
                                           _ out: UnsafeMutablePointer<S>, batch: Int, hidden hn: Int) {
    for row in 0..<batch {
        let a = gi + row * 3 * hn, c = gh + row * 3 * hn, o = row * hn
        for j in 0..<hn {
            let z = a[hn + j]
            let n = S.tanh(a[2 * hn + j] + c[2 * hn + j])
            a[2 * hn + j] = n
            out[o + j] = (1 - z) * n + z * (h?[o + j] ?? 0)
        }
    }
}

/// resetBefore backward, z and n blocks of ∂L/∂gi and ∂L/∂gh, and the z ⊙ ∂L/∂h′ term of ∂L/∂h.
@_specialize(where S == Float)
@_specialize(where S == Double)
func gruResetBeforeBackwardZN<S: TensorScalar>(_ g: UnsafePointer<S>, gates: UnsafePointer<S>, h: UnsafePointer<S>?,
                                               dGi: UnsafeMutablePointer<S>, dGh: UnsafeMutablePointer<S>,
                                               dh: UnsafeMutablePointer<S>?, batch: Int, hidden hn: Int) {
    for row in 0..<batch {
        let a = gates + row * 3 * hn, di = dGi + row * 3 * hn, dhh = dGh + row * 3 * hn, o = row * hn
        for j in 0..<hn {
            let z = a[hn + j], n = a[2 * hn + j], gv = g[o + j], hp = h?[o + j] ?? 0
            let dn = gv * (1 - z) * (1 - n * n)
            let dz = gv * (hp - n) * z * (1 - z)
            di[hn + j] = dz; di[2 * hn + j] = dn
            dhh[hn + j] = dz; dhh[2 * hn + j] = dn
            dh?[o + j] += gv * z
        }
    }
}

/// resetBefore backward, r block from ∂L/∂(r ⊙ h), and the r ⊙ ∂L/∂(r ⊙ h) term of ∂L/∂h.
@_specialize(where S == Float)
@_specialize(where S == Double)
func gruResetBeforeBackwardR<S: TensorScalar>(_ dRh: UnsafePointer<S>, gates: UnsafePointer<S>, h: UnsafePointer<S>,
                                              dGi: UnsafeMutablePointer<S>, dGh: UnsafeMutablePointer<S>,
                                              dh: UnsafeMutablePointer<S>?, batch: Int, hidden hn: Int) {
    for row in 0..<batch {
        let a = gates + row * 3 * hn, di = dGi + row * 3 * hn, dhh = dGh + row * 3 * hn, o = row * hn
        for j in 0..<hn {
            let r = a[j], d = dRh[o + j]
            let dr = d * h[o + j] * r * (1 - r)
            di[j] = dr
            dhh[j] = dr
            dh?[o + j] += d * r
        }
    }
}
