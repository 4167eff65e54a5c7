// Vectorised Float exp, sigmoid and tanh for the fused recurrent gate kernels (8 lanes; SSE2 on the
// default x86-64 target, NEON on arm64). Float only: the Double path keeps libm, so gradient checks
// in Double see the exact functions.
//
// Accuracy against libm (Double, rounded) over [-20, 20], every 16th Float: exp ≤ 1 ulp, sigmoid ≤ 2 ulp,
// tanh ≤ 2 ulp (≤ 6e-8 absolute).

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
    var p = Float8(repeating: 1.987_569_15e-4)
    p = p * r + 1.398_199_95e-3
    p = p * r + 8.333_451_9e-3
    p = p * r + 4.166_579_59e-2
    p = p * r + 1.666_666_55e-1
    p = p * r + 5.000_000_12e-1
    p = p * (r * r) + r + 1
    let bits = unsafeBitCast(t, to: SIMD8<UInt32>.self)
    let scale = (bits &- 0x4B40_0000 &+ 127) &<< 23
    return p * unsafeBitCast(scale, to: Float8.self)
}

/// 1 / (1 + e^-x)
@inlinable @inline(__always)
public func fastSigmoid(_ x: Float8) -> Float8 {
    1 / (1 + fastExp(-x))
}

/// tanh x: odd Taylor polynomial to x¹⁵ for |x| < 0.4, 1 − 2 / (e^{2|x|} + 1) with the sign above.
@inlinable @inline(__always)
public func fastTanh(_ x: Float8) -> Float8 {
    let a = x.replacing(with: -x, where: x .< 0)             // |x|
    let big = 1 - 2 / (fastExp(2 * a) + 1)
    let x2 = x * x
    var p = Float8(repeating: -929_569.0 / 638_512_875.0)
    p = p * x2 + 21_844.0 / 6_081_075.0
    p = p * x2 + -1_382.0 / 155_925.0
    p = p * x2 + 62.0 / 2_835.0
    p = p * x2 + -17.0 / 315.0
    p = p * x2 + 2.0 / 15.0
    p = p * x2 + -1.0 / 3.0
    let small = x + x * x2 * p
    let signedBig = big.replacing(with: -big, where: x .< 0)
    return signedBig.replacing(with: small, where: a .< 0.4)
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

@inlinable @inline(__always)
public func load8(_ p: UnsafePointer<Float>) -> Float8 {
    UnsafeRawPointer(p).loadUnaligned(as: Float8.self)
}

@inlinable @inline(__always)
public func store8(_ v: Float8, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: Float8.self)
}

/// Scalar entry points with exactly the vector kernels' results (lane 0), for tails and tests.
@inlinable public func fastTanh(_ x: Float) -> Float { fastTanh(Float8(repeating: x))[0] }
@inlinable public func fastSigmoid(_ x: Float) -> Float { fastSigmoid(Float8(repeating: x))[0] }
@inlinable public func fastExp(_ x: Float) -> Float { fastExp(Float8(repeating: x))[0] }
