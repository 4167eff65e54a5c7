/// Which kernels the fused recurrent layers run on this processor by default, in words, for reports
/// (`recurrent bench` prints it beside the CPU model and the FMA peak).
public enum KernelPath {
    /// The default kernel choice (`KernelChoice.detected`): e.g. "avx2+fma (gates, small GEMM, batch-1 GEMV)",
    /// or "generic (Swift SIMD gates, sgemm)" on a processor without AVX2 + FMA.
    public static var description: String { describe(.detected) }

    static func describe(_ k: KernelChoice) -> String {
        let avx2 = [k.avx2Gates ? "gates" : nil, k.smallGEMM ? "small GEMM" : nil, k.avx2GEMV ? "batch-1 GEMV" : nil].compactMap { $0 }
        return avx2.isEmpty ? "generic (Swift SIMD gates, sgemm)" : "avx2+fma (\(avx2.joined(separator: ", ")))"
    }
}
