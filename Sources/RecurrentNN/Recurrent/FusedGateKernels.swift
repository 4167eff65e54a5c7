import RecurrentTensor

// The gate kernels of the fused layers, one file per cell (RNNGates.swift, LSTMGates.swift, GRUGates.swift),
// forward and backward side by side. Each works on `count` consecutive hidden units of one batch row;
// `stride` (H) is the distance between gate blocks in the gate-wide rows (a part of a split step passes
// pointers offset to its first unit and its own count). The forward kernels read the recurrent product `hr`
// with a stride of its own, `hStride`: H when it is a row of the whole (B, G·H) product, a part's unit count
// when the part computed it alone into its own (B, G·n) buffer (FusedForward.swift).
//
// Each has four versions: AVX-512 and AVX2 + FMA in C (CRecurrentKernels/avx512/GatesAVX512.c, avx2/GatesAVX2.c,
// as `KernelChoice.gates` says), Swift SIMD over 8 lanes (Float, `.generic`; tails through partial loads), and the scalar
// reference (`…Reference`: the Double path, and what the tests compare the fast ones against).

@inline(__always) func f32<S>(_ p: UnsafeMutablePointer<S>) -> UnsafeMutablePointer<Float> {
    UnsafeMutableRawPointer(p).assumingMemoryBound(to: Float.self)
}

@inline(__always) func ld(_ p: UnsafeMutablePointer<Float>, _ n: Int) -> Float8 { n >= 8 ? load8(p) : loadPartial(p, n) }
@inline(__always) func st(_ v: Float8, _ p: UnsafeMutablePointer<Float>, _ n: Int) { if n >= 8 { store8(v, p) } else { storePartial(v, p, n) } }
