// Vectorised Float exp, sigmoid and tanh for the fused recurrent gate kernels (8 lanes; SSE2 on the
// default x86-64 target, NEON on arm64). Float only: the Double path keeps libm, so gradient checks
// in Double see the exact functions.
//
// Accuracy against Double (ActivationAccuracyTests; every third Float, GatesAVX2.c's kernels): sigmoid
// ≤ 2.5 ulp on [-87, 87] (≤ 9e-8 absolute), tanh ≤ 2.5 ulp on [-12, 12].

/// Eight Floats, the width of one AVX2 register, the unit of the fast activation kernels.
public typealias Float8 = SIMD8<Float>

/// e^x, Cephes' expf polynomial after Cody–Waite reduction; x clamped to [-87.3, 88.3] (no denormals,
/// no infinities: callers only need sigmoid and tanh).
@inlinable @inline(__always)
public func fastExp(_ x: Float8) -> Float8 {
    // Compare-and-select rather than `clamped`, which stays an out-of-line generic call.
    var x = x.replacing(with: Float8(repeating: -87.3), where: x .< -87.3)
    x = x.replacing(with: Float8(repeating: 88.3), where: x .> 88.3)
    // Round x·log2(e) to nearest with the 1.5·2²³ trick; the integer sits in t's low mantissa bits.
    let magic = Float8(repeating: 12_582_912)
    let t = x * 1.442_695_04 + magic
    let n = t - magic
    var r = x - n * 0.693_359_375
    r = r - n * -2.121_944_4e-4
    let r2 = r * r
    return (expPolynomial(r, r2) * r2 + r + 1) * powerOfTwo(t)
}

// Cephes' expf coefficients: e^r ≈ 1 + r + r²·p(r), p(r) = p5 + p4 r + … + p0 r⁵ on |r| ≤ ln2/2.
// (Computed properties, not stored globals: they fold to constants inside inlined callers.)
@inlinable var expP0: Float { 1.987_569_15e-4 }
@inlinable var expP1: Float { 1.398_199_95e-3 }
@inlinable var expP2: Float { 8.333_451_9e-3 }
@inlinable var expP3: Float { 4.166_579_59e-2 }
@inlinable var expP4: Float { 1.666_666_55e-1 }
@inlinable var expP5: Float { 5.000_000_12e-1 }

/// p(r) in Estrin's order: (p5 + p4 r) + r² ((p3 + p2 r) + r² (p1 + p0 r)). The same terms as Horner's
/// order, in three dependent levels instead of five: the gate kernels are bound by the length of each
/// activation's dependency chain, not by its count of operations (GatesAVX2.c).
@inlinable @inline(__always)
func expPolynomial(_ r: Float8, _ r2: Float8) -> Float8 {
    let q0 = expP4 * r + expP5, q1 = expP2 * r + expP3, q2 = expP0 * r + expP1
    return (q2 * r2 + q1) * r2 + q0
}

/// 2ⁿ from t = x·log2(e) + 1.5·2²³, whose low mantissa bits hold n.
@inlinable @inline(__always)
func powerOfTwo(_ t: Float8) -> Float8 {
    let bits = unsafeBitCast(t, to: SIMD8<UInt32>.self)
    return unsafeBitCast((bits &- (0x4B40_0000 - 127)) &<< 23, to: Float8.self)
}

/// 1 / (1 + e^-x). e^-x = 2ⁿ·e^r with r = −s, s = x + n·ln 2: the polynomial is evaluated at −s by
/// negating its odd coefficients, so −x is never formed (the AVX2 kernel's order of operations).
@inlinable @inline(__always)
public func fastSigmoid(_ x: Float8) -> Float8 {
    var x = x.replacing(with: Float8(repeating: -88.3), where: x .< -88.3)
    x = x.replacing(with: Float8(repeating: 87.3), where: x .> 87.3)
    let magic = Float8(repeating: 12_582_912)
    let t = x * -1.442_695_04 + magic                            // n = round(−x·log2 e)
    let n = t - magic
    var s = n * 0.693_359_375 + x
    s = n * -2.121_944_4e-4 + s
    let s2 = s * s
    let q0 = -expP4 * s + expP5, q1 = -expP2 * s + expP3, q2 = -expP0 * s + expP1
    let p = (q2 * s2 + q1) * s2 + q0                             // p(−s)
    let e = (p * s2 - s + 1) * powerOfTwo(t)
    return 1 / (1 + e)
}

/// tanh x = E / (E + 2) with x's sign, E = e^{2a} − 1, a = min(|x|, 9.1): no cancellation anywhere, so one
/// formula for every x (GatesAVX2.c's `rk_tanh`, which explains the steps). e^{2a} = 2ⁿ·e^r, r = 2h with
/// h = a − n·(ln 2)/2; e^r − 1 = 2z, z = h + h²·P(h), P(h) = 2 p(2h) (p's coefficients times powers of two);
/// E = 2ⁿ·(1 + 2z) − 1 = (2·2ⁿ)·z + (2ⁿ − 1), whose product is exact (a power of two), so one rounding as with FMA.
@inlinable @inline(__always)
public func fastTanh(_ x: Float8) -> Float8 {
    var a = x.replacing(with: -x, where: x .< 0)                 // |x|
    a = a.replacing(with: Float8(repeating: 9.1), where: a .> 9.1)
    let magic = Float8(repeating: 12_582_912)
    let t = a * 2.885_390_08 + magic                             // n = round(2a·log2 e)
    let n = t - magic
    var h = a - n * 0.346_679_687_5
    h = h - n * -1.060_972_2e-4
    let h2 = h * h
    let q0 = (4 * expP4) * h + 2 * expP5, q1 = (16 * expP2) * h + 8 * expP3, q2 = (64 * expP0) * h + 32 * expP1
    let z = ((q2 * h2 + q1) * h2 + q0) * h2 + h                  // (e^r − 1) / 2
    let s = powerOfTwo(t)
    let e = (s + s) * z + (s - 1)
    let r = e / (e + 2)                                          // ≥ 0: x's sign bit goes on as it is (−0 stays −0)
    let sign = unsafeBitCast(x, to: SIMD8<UInt32>.self) & 0x8000_0000
    return unsafeBitCast(unsafeBitCast(r, to: SIMD8<UInt32>.self) | sign, to: Float8.self)
}

/// Loads `count` (< 8) floats into the low lanes, zeros elsewhere.
@inlinable @inline(__always)
public func loadPartial(_ p: UnsafePointer<Float>, _ count: Int) -> Float8 {
    var v = Float8()
    for i in 0..<count { v[i] = p[i] }
    return v
}

/// Stores the low `count` (< 8) lanes.
@inlinable @inline(__always)
public func storePartial(_ v: Float8, _ p: UnsafeMutablePointer<Float>, _ count: Int) {
    for i in 0..<count { p[i] = v[i] }
}

/// Loads eight consecutive Floats from `p`.
@inlinable @inline(__always)
public func load8(_ p: UnsafePointer<Float>) -> Float8 {
    UnsafeRawPointer(p).loadUnaligned(as: Float8.self)
}

/// Stores eight Floats to `p`.
@inlinable @inline(__always)
public func store8(_ v: Float8, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: Float8.self)
}

/// Scalar entry points with exactly the vector kernels' results (lane 0), for tails and tests.
@inlinable public func fastTanh(_ x: Float) -> Float { fastTanh(Float8(repeating: x))[0] }
/// The fast sigmoid of one value (the vector kernel on a splatted lane).
@inlinable public func fastSigmoid(_ x: Float) -> Float { fastSigmoid(Float8(repeating: x))[0] }
/// The fast eˣ of one value (the vector kernel on a splatted lane).
@inlinable public func fastExp(_ x: Float) -> Float { fastExp(Float8(repeating: x))[0] }
