import RecurrentTensor

/// Which kernels the fused recurrent layers run on this processor by default, in words, for reports
/// (`recurrent bench` prints it beside the CPU model and the FMA peak).
public enum KernelPath {
    /// The default kernel choice (`KernelChoice.selected`) after `InstructionSet.summary`: e.g.
    /// "avx2: gates, small GEMM, batch-1 GEMV", or "generic (RECURRENT_ISA; detected avx2): Swift SIMD gates, sgemm, Swift GEMV".
    public static var description: String {
        let k = KernelChoice.selected
        let gates = k.gates == .generic ? "Swift SIMD gates" : "gates"
        let products = k.smallGEMM.map { $0 == k.gates ? "small GEMM" : "\($0.rawValue) small GEMM" } ?? "sgemm"
        let gemv = k.gemv == .generic ? "Swift GEMV" : "batch-1 GEMV"
        return "\(InstructionSet.summary): \(gates), \(products), \(gemv)"
    }
}
