import RecurrentTensor

/// The backward of one direction's forward (FusedForward.swift), in two phases.
///
/// Phase 1, `walk`: BPTT as one reverse walk over the steps, t = T−1 … 0: each step turns ∂L/∂h (and ∂L/∂c)
/// into the gate gradients (the cell's gate kernel), then ∂L/∂h_{t-1} = dGates·W_hh. It touches only memory of
/// its own, so the two directions of a bidirectional layer may walk concurrently. Split by units like the
/// forward: each part turns its columns of ∂L/∂h into its units' gate gradients, the parts meet, and each
/// computes its columns of ∂L/∂h_{t-1}.
///
/// Phase 2, `inputGradients`: the weight and input gradients as single GEMMs over all steps, written straight
/// into the leaves' `grad` (ScratchBuffer.swift, `accumulateGradient`), so it runs on one thread at a time.
struct FusedBackward<Scalar: TensorScalar> {
    let plan: FusedPlan
    let saved: FusedHistory<Scalar>
    let dh: Tensor<Scalar>                 // (B, P) ∂L/∂h carried backwards
    let dc: Tensor<Scalar>                 // (B, H) ∂L/∂c carried backwards (LSTM)
    let gOut: UnsafeMutablePointer<Scalar>?    // (T, B, P) ∂L/∂output, or nil
    let dGx: Scratch<Scalar>               // (T, B, G·H) ∂L/∂(pre-activation), input side, step-indexed
    let dGh: Scratch<Scalar>               // (T, B, G·H) recurrent side (differs for GRU's n; else dGx itself)
    let dhProjected: Scratch<Scalar>?      // (T, B, P) ∂L/∂h of active rows, for W_hr
    let dm: Scratch<Scalar>                // (B, H) ∂L/∂(o ⊙ tanh c) with a projection; else dh itself
    let dhNew: Scratch<Scalar>             // (B, P) scratch: the ∂h product
    let direct: Scratch<Scalar>?           // (B, P) GRU's z ⊙ ∂h path to h_{t-1}
    /// The ∂h product's operand on the small-GEMM kernel: W_hh's columns of each part (all P when unsplit)
    /// over its gate rows, block 0 columns [0, mid) (or all), block 1 [mid, H).
    let backPanels: PanelPackedWeights?
    /// Gate rows that read h directly: all but reset-before GRU's n, which reads r ⊙ h.
    let recurrentGates: Int
    let hsp: UnsafeMutablePointer<Scalar>, csp: UnsafeMutablePointer<Scalar>?, tcp: UnsafeMutablePointer<Scalar>?
    let gp: UnsafeMutablePointer<Scalar>, auxp: UnsafeMutablePointer<Scalar>?
    let whh: UnsafeMutablePointer<Scalar>, whr: UnsafeMutablePointer<Scalar>?

    /// - Parameter grads: the gradients of (output, h, c).
    init(_ saved: FusedHistory<Scalar>, grads: [Tensor<Scalar>?]) {
        let plan = saved.plan, (T, B, H, P) = (plan.T, plan.B, plan.H, plan.P), GH = plan.G * H, zeroFill = plan.zeroFill
        let isGRU = plan.kind == .gru || plan.kind == .gruResetBefore, projected = saved.weights.weightHR != nil
        (self.plan, self.saved) = (plan, saved)
        dh = Tensor<Scalar>(zeros: [B, P])
        if let g = grads[1] { dh.copy(from: g) }
        dc = Tensor<Scalar>(zeros: [B, H])
        if plan.kind == .lstm, grads.count > 2, let g = grads[2] { dc.copy(from: g) }
        gOut = grads[0]?.data
        dGx = Scratch<Scalar>(T * B * GH, zeroed: zeroFill)
        dGh = isGRU ? Scratch<Scalar>(T * B * GH, zeroed: zeroFill) : dGx
        dhProjected = projected ? Scratch<Scalar>(T * B * P, zeroed: zeroFill) : nil
        dm = projected ? Scratch<Scalar>(B * H, zeroed: false) : Scratch(viewing: dh)
        dhNew = Scratch<Scalar>(B * P, zeroed: false)
        direct = isGRU ? Scratch<Scalar>(B * P, zeroed: true) : nil
        recurrentGates = plan.kind == .gruResetBefore ? 2 * H : GH
        if plan.product == .smallGEMM {
            if case .units(let mid) = plan.backwardSplit {
                backPanels = PanelPackedWeights(blocks: [(mid, recurrentGates), (H - mid, recurrentGates)], plan.kernels)
            } else {
                backPanels = PanelPackedWeights(blocks: [(P, recurrentGates)], plan.kernels)
            }
        } else {
            backPanels = nil
        }
        (hsp, csp, tcp, gp, auxp) = (saved.hs.data, saved.cs?.data, saved.tanhC?.data, saved.gates.data, saved.aux?.data)
        (whh, whr) = (saved.weights.weightHH.data, saved.weights.weightHR?.data)
    }

    /// Phase 1: the reverse walk. Returns ‖∂L/∂h_t‖ for every t when `recordsNorms`, else [].
    func walk(recordsNorms: Bool) -> [Scalar] {
        let (T, H) = (plan.T, plan.H)
        var squares = [Scalar](repeating: 0, count: recordsNorms ? 2 * T : 0)      // per part, per step
        squares.withUnsafeMutableBufferPointer { sq in
            let squares = recordsNorms ? sq.baseAddress : nil
            if case .units(let mid) = plan.backwardSplit {
                // Phase 0 packs; then per step the gate gradients, a barrier (the product reads both parts'
                // gate gradients), and this part's columns of ∂h_{t-1}.
                PairSchedule(plan).run(phases: 1 + 2 * T, barrierAfter: { $0 >= 1 && ($0 - 1) % 2 == 0 }) { part, phase in
                    let (u0, u1) = part == 0 ? (0, mid) : (mid, H)
                    if phase == 0 { return packWeights(part, mid: mid) }
                    let s = T - 1 - (phase - 1) / 2
                    if (phase - 1) % 2 == 0 { gateGradients(s, u0, u1, part: part, squares: squares) } else { hiddenGradient(s, u0, u1) }
                }
            } else {
                packWeights(0, mid: 0)
                for s in stride(from: T - 1, through: 0, by: -1) {
                    gateGradients(s, 0, H, part: 0, squares: squares)
                    hiddenGradient(s, 0, H)
                }
            }
        }
        return recordsNorms ? (0..<T).map { t in (squares[t] + squares[T + t]).squareRoot() } : []
    }

    func packWeights(_ part: Int, mid: Int) {
        backPanels?.pack(part, from: f32(whh + (part == 0 ? 0 : mid)), rowStride: 1, depthStride: plan.P)
    }
}
