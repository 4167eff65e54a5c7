import CRecurrentKernels
import RecurrentTensor

// The recurrent steps' products on the small-GEMM kernel of CRecurrentKernels/avx2/SmallGEMMAVX2.c or
// avx512/SmallGEMMAVX512.c (the same panels, bit-identical results): the
// weight operand is packed once per sequence (forward) or per backward walk into 16-row panels, and
// every step then runs C = A·Bᵀ against it on one core without OpenBLAS's sgemm packing both operands at
// every call (rates in docs/BENCHMARKS.md). Used where `KernelChoice.smallGEMM` names an instruction set.

/// Blocks of a weight operand packed for `rk_sgemm_packed` (or its AVX-512 twin), each block B (n, k) with its own panels.
struct PanelPackedWeights {
    /// Whose micro-kernel `product` runs (avx2 or avx512).
    let instructionSet: InstructionSet
    let storage: Scratch<Float>
    /// Start of each block in `storage`, in floats.
    let offsets: [Int]
    let sizes: [(n: Int, k: Int)]

    /// Room for blocks of the given (rows, depth); nothing packed yet. `kernels.smallGEMM` must name an instruction set.
    init(blocks sizes: [(n: Int, k: Int)], _ kernels: KernelChoice) {
        guard let path = kernels.smallGEMM, path != .generic else { preconditionFailure("PanelPackedWeights: no small-GEMM kernel chosen") }
        instructionSet = path
        var offsets: [Int] = [], total = 0
        for (n, k) in sizes { offsets.append(total); total += rk_packed_panel_size(n, k) }
        self.sizes = sizes
        self.offsets = offsets
        storage = Scratch<Float>(Swift.max(total, 1), zeroed: false)
    }

    /// Packs block `index` from `source`, whose element (j, p) (row j of B, depth p) is at
    /// source[j·rowStride + p·depthStride].
    func pack(_ index: Int, from source: UnsafePointer<Float>, rowStride: Int, depthStride: Int) {
        let (n, k) = sizes[index]
        rk_pack_panels(source, rowStride, depthStride, n, k, storage.data + offsets[index])
    }

    /// c (m, n; ldc) = bias + a (m, k; lda) · Bᵀ for block `index`; bias: n values added to every row, or nil.
    @inline(__always)
    func product(_ index: Int, m: Int, a: UnsafePointer<Float>, lda: Int, bias: UnsafePointer<Float>? = nil,
                 c: UnsafeMutablePointer<Float>, ldc: Int) {
        let (n, k) = sizes[index]
        if instructionSet == .avx512 {
            rk_avx512_sgemm_packed(m, n, k, a, lda, storage.data + offsets[index], bias, c, ldc)
        } else {
            rk_sgemm_packed(m, n, k, a, lda, storage.data + offsets[index], bias, c, ldc)
        }
    }
}
