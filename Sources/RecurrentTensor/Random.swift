/// The library's one seeded random generator: xoshiro256** seeded through splitmix64.
/// The same seed gives bit-identical streams on every run and machine.
public struct RandomGenerator: RandomNumberGenerator, Sendable {
    @usableFromInline var s: (UInt64, UInt64, UInt64, UInt64)
    /// A second normal deviate kept from Box–Muller.
    @usableFromInline var spareNormal: Double?

    /// A generator whose whole stream is fixed by `seed` (the state is expanded with SplitMix64).
    public init(seed: UInt64) {
        var x = seed
        func splitmix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s = (splitmix(), splitmix(), splitmix(), splitmix())
        spareNormal = nil
    }

    /// The generator's whole state (four words, then whether a spare normal is held, and its bits),
    /// for checkpoints: `RandomGenerator(state:)` continues the exact same stream.
    public var state: [UInt64] {
        [s.0, s.1, s.2, s.3, spareNormal == nil ? 0 : 1, spareNormal?.bitPattern ?? 0]
    }

    /// Restores `state`; nil when it is not a valid state (wrong length, all-zero words).
    public init?(state: [UInt64]) {
        guard state.count == 6, state[0] | state[1] | state[2] | state[3] != 0, state[4] <= 1 else { return nil }
        s = (state[0], state[1], state[2], state[3])
        spareNormal = state[4] == 1 ? Double(bitPattern: state[5]) : nil
    }

    @inlinable public mutating func next() -> UInt64 {
        let result = rotl(s.1 &* 5, 7) &* 9
        let t = s.1 << 17
        s.2 ^= s.0
        s.3 ^= s.1
        s.1 ^= s.2
        s.0 ^= s.3
        s.2 ^= t
        s.3 = rotl(s.3, 45)
        return result
    }

    @inlinable func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// Uniform in [0, 1) with 53 random bits.
    @inlinable public mutating func nextDouble() -> Double {
        Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// Uniform in [0, 1) as `S` (never rounds up to 1 in Float).
    @inlinable public mutating func nextUniform<S: TensorScalar>(_: S.Type) -> S {
        if S.self == Float.self { return S(Float(next() >> 40) * (1.0 / 16_777_216.0)) }
        return S(nextDouble())
    }

    /// Standard normal deviate (Box–Muller, both values used).
    @inlinable public mutating func nextNormal<S: TensorScalar>(_: S.Type) -> S {
        if let z = spareNormal { spareNormal = nil; return S(z) }
        var u1 = nextDouble()
        while u1 <= 0 { u1 = nextDouble() }
        let u2 = nextDouble()
        let r = (-2 * Double.log(u1)).squareRoot()
        let theta = 2 * Double.pi * u2
        spareNormal = r * _sin(theta)
        return S(r * _cos(theta))
    }

    /// Uniform integer in 0..<n.
    @inlinable public mutating func nextInt(below n: Int) -> Int {
        precondition(n > 0, "nextInt(below:): n must be positive, got \(n)")
        return Int(next(upperBound: UInt64(n)))
    }

    /// An index drawn from unnormalised non-negative weights.
    public mutating func nextIndex<S: TensorScalar>(weights: UnsafeBufferPointer<S>) -> Int {
        var total = 0.0
        for w in weights { total += Double(w) }
        var u = nextDouble() * total
        for (i, w) in weights.enumerated() {
            u -= Double(w)
            if u < 0 { return i }
        }
        return weights.count - 1
    }

    /// Fisher–Yates shuffle of 0..<n.
    public mutating func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        if n > 1 { for i in stride(from: n - 1, to: 0, by: -1) { p.swapAt(i, nextInt(below: i + 1)) } }
        return p
    }
}

#if canImport(Glibc)
import Glibc
@usableFromInline func _sin(_ x: Double) -> Double { Glibc.sin(x) }
@usableFromInline func _cos(_ x: Double) -> Double { Glibc.cos(x) }
#elseif canImport(Darwin)
import Darwin
@usableFromInline func _sin(_ x: Double) -> Double { Darwin.sin(x) }
@usableFromInline func _cos(_ x: Double) -> Double { Darwin.cos(x) }
#endif
