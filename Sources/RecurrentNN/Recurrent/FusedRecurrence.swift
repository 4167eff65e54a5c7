import RecurrentTensor

// One layer, one direction, a whole sequence: one autograd node with hand-written BPTT, the way PyTorch
// treats cuDNN's RNN. In parts:
//   FusedPlan.swift        what to run, chosen once from the shapes and the configuration (FusedConfiguration.swift)
//   FusedSchedule.swift    two parts over two cores, or one after the other, with the same arithmetic
//   FusedForward*.swift    the buffers, the input projection and the steps
//   FusedBackward*.swift   the reverse walk over the steps, then the weight gradients as GEMMs over all steps
//   RNNGates.swift, LSTMGates.swift, GRUGates.swift   per-cell gate kernels, forward and backward side by side
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

/// The forward of one layer in one direction, not yet on the tape, and its backward.
struct FusedSequence<Scalar: TensorScalar> {
    let output: Tensor<Scalar>, h: Tensor<Scalar>, c: Tensor<Scalar>?
    /// What ran (tests check which path they covered).
    let plan: FusedPlan
    /// The node's inputs: x, h0, c0 (LSTM), then the weights in `DirectionWeights.tensors` order.
    let inputs: [Tensor<Scalar>]
    let gradients: FusedSequenceGradients<Scalar>

    var outputs: [Tensor<Scalar>] { [output, h] + (c.map { [$0] } ?? []) }

    /// Records this sequence as one node on the tape.
    func record(_ name: String) {
        let gradients = gradients
        Tensor.record(name, inputs: inputs, outputs: outputs) { grads in gradients.finish(gradients.walk(grads)) }
    }
}

/// The backward of one sequence, kept by its tape node: the saved history, never the outputs (output → node
/// → backward → output would be a reference cycle that keeps every graph alive), in two phases.
struct FusedSequenceGradients<Scalar: TensorScalar> {
    typealias Walked = (pass: FusedBackward<Scalar>, norms: [Scalar])
    let saved: FusedHistory<Scalar>
    let inputCount: Int
    let onHiddenGradientNorm: (([Scalar]) -> Void)?

    /// Phase 1, the BPTT walk over the steps, given the gradients of (output, h, c). It touches only memory of
    /// its own, so the two directions of a bidirectional layer may walk concurrently. Nil without history: no
    /// input of this sequence wants a gradient (only reachable when a bidirectional layer's node is recorded
    /// for the other direction's sake), so there is nothing to compute.
    // The backward's entry points: reached from tape closures made in generic code, so they carry their own
    // specialisations (without them the walk's loops run through the generic witnesses, 2× slower training).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    func walk(_ grads: [Tensor<Scalar>?]) -> Walked? {
        guard saved.plan.keepsHistory else { return nil }
        let pass = FusedBackward(saved, grads: grads)
        return (pass, pass.walk(recordsNorms: onHiddenGradientNorm != nil))
    }

    /// Phase 2, on one thread at a time: the norms' callback, then the gradients for the engine, the leaves'
    /// accumulated straight into their `grad` (GEMMs over all steps).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    func finish(_ walked: Walked?) -> [Tensor<Scalar>?] {
        guard let walked else { return Array(repeating: nil, count: inputCount) }
        onHiddenGradientNorm?(walked.norms)
        return walked.pass.inputGradients()
    }
}

/// Runs `kind` over `x` in one direction and records one node on the tape.
/// - Parameters:
///   - x: (T, B, I)
///   - h0: (B, P)
///   - c0: (B, H), LSTM only
///   - lengths: B lengths in 1...T
///   - onHiddenGradientNorm: called during backward with ‖∂L/∂h_t‖ for each step, indexed by t.
/// - Returns: output (T, B, P), zero past each length; final h (B, P); final c (B, H) for LSTM.
func fusedRecurrence<Scalar: TensorScalar>(
    _ kind: RecurrentCellKind, x: Tensor<Scalar>, h0: Tensor<Scalar>, c0: Tensor<Scalar>?,
    weights w: DirectionWeights<Scalar>, lengths: [Int], reverse: Bool,
    onHiddenGradientNorm: (([Scalar]) -> Void)? = nil
) -> (output: Tensor<Scalar>, h: Tensor<Scalar>, c: Tensor<Scalar>?) {
    let sequence = fusedSequence(kind, x: x, h0: h0, c0: c0, weights: w, lengths: lengths, reverse: reverse,
                                 configuration: .current, recording: isGradEnabled, onHiddenGradientNorm: onHiddenGradientNorm)
    sequence.record("\(kind.rawValue)Sequence")
    return (sequence.output, sequence.h, sequence.c)
}

/// The forward of `fusedRecurrence`, with its backward returned rather than recorded (see `FusedSequence`).
/// `configuration` and `recording` (`isGradEnabled`) are read by the caller on its own thread: this may run
/// on the pair's helper thread (a bidirectional layer's second direction), which sees no task-locals.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
func fusedSequence<Scalar: TensorScalar>(
    _ kind: RecurrentCellKind, x: Tensor<Scalar>, h0: Tensor<Scalar>, c0: Tensor<Scalar>?,
    weights w: DirectionWeights<Scalar>, lengths: [Int], reverse: Bool,
    configuration: FusedConfiguration, recording: Bool,
    onHiddenGradientNorm: (([Scalar]) -> Void)? = nil
) -> FusedSequence<Scalar> {
    let (T, B, I) = (x.shape[0], x.shape[1], x.shape[2])
    let GH = w.weightIH.shape[0], H = GH / kind.gateCount, P = w.weightHH.shape[1]
    checkShapes("fusedRecurrence input·W_ihᵀ", x.shape, w.weightIH.shape, w.weightIH.shape[1] == I)
    checkShapes("fusedRecurrence h0", h0.shape, [B, P], h0.shape == [B, P])
    let inputs = [x, h0] + (c0.map { [$0] } ?? []) + w.tensors
    // Inference (no node will be recorded, by `Tensor.record`'s own test, so backward never runs) keeps no
    // per-step history.
    let plan = FusedPlan(kind, scalar: Scalar.self, T: T, B: B, I: I, H: H, P: P, projected: w.weightHR != nil, lengths: lengths,
                         reverse: reverse, recording: recording && inputs.contains { $0.requiresGrad },
                         singleThreadedBLAS: BLASThreads.isSingleThreaded, configuration: configuration)
    let forward = FusedForward(plan, x: x, h0: h0, c0: c0, weights: w, lengths: lengths)
    forward.run()
    let (hFinal, cFinal) = forward.finalStates()
    let gradients = FusedSequenceGradients(saved: forward.saved, inputCount: inputs.count, onHiddenGradientNorm: onHiddenGradientNorm)
    return FusedSequence(output: forward.output, h: hFinal, c: cFinal, plan: plan, inputs: inputs, gradients: gradients)
}

/// destination (width) = beta · destination + Σ over the rows of m (rows × width, leading dimension `ld`).
func addColumnSums<Scalar: TensorScalar>(_ m: UnsafePointer<Scalar>, rows: Int, width: Int, ld: Int,
                                         into destination: UnsafeMutablePointer<Scalar>, beta: Scalar) {
    if beta == 0 { destination.update(repeating: 0, count: width) }
    for r in 0..<rows {
        let row = m + r * ld
        for j in 0..<width { destination[j] += row[j] }
    }
}

/// C (m, n) = A (m, k) · Bᵀ for B stored (n, k): sgemm, or for a single Float row (batch-1 steps)
/// the SIMD matrix–vector kernel (`avx2`: its AVX2 version), where OpenBLAS's sgemm is several times slower.
@inline(__always)
func productWithTransposed<Scalar: TensorScalar>(m: Int, n: Int, k: Int, a: UnsafePointer<Scalar>, lda: Int,
                                                 b: UnsafePointer<Scalar>, ldb: Int, c: UnsafeMutablePointer<Scalar>, ldc: Int,
                                                 instructionSet: InstructionSet) {
    if m == 1, Scalar.self == Float.self {
        sgemvRows(UnsafeRawPointer(b).assumingMemoryBound(to: Float.self), ldw: ldb, UnsafeRawPointer(a).assumingMemoryBound(to: Float.self),
                  f32(c), n: n, k: k, accumulate: false, instructionSet: instructionSet)
    } else {
        Scalar.gemm(transA: false, transB: true, m: m, n: n, k: k, alpha: 1, a: a, lda: lda, b: b, ldb: ldb, beta: 0, c: c, ldc: ldc)
    }
}
