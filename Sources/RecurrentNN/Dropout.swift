import RecurrentTensor

/// Inverted dropout: in train mode zeroes each element with probability `p` and scales the rest by
/// 1/(1−p); the identity in eval mode. The mask comes from the module's own seeded generator.
public final class Dropout<Scalar: TensorScalar>: UnaryModule<Scalar> {
    /// Probability of zeroing an element, in [0, 1).
    public let p: Scalar
    /// Generator of the masks; seeded at creation, advanced by every call in train mode.
    public var generator: RandomGenerator

    /// Dropout with probability `p` in [0, 1) and masks drawn from a generator seeded with `seed`.
    public init(_ p: Scalar, seed: UInt64 = 0) {
        precondition(p >= 0 && p < 1, "Dropout: p must be in [0, 1), got \(p)")
        self.p = p
        generator = RandomGenerator(seed: seed)
    }

    /// In train mode, zeroes each element with probability `p` and scales the others by 1/(1 − p); in eval mode, returns `x`.
    public override func forward(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        guard isTraining, p > 0 else { return x }
        return x * dropoutMask(x.shape, p: p, generator: &generator)
    }
}

/// A tensor of 0 and 1/(1−p): Bernoulli(1−p) keep mask, already scaled.
public func dropoutMask<Scalar: TensorScalar>(_ shape: [Int], p: Scalar, generator: inout RandomGenerator) -> Tensor<Scalar> {
    let mask = Tensor<Scalar>(zeros: shape)
    let keep = 1 / (1 - p)
    for i in 0..<mask.count where generator.nextUniform(Scalar.self) >= p { mask.data[i] = keep }
    return mask
}
