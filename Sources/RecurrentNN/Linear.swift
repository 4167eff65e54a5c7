import RecurrentTensor

/// y = x·Wᵀ + b over the last axis. Parameters `weight` (O, I) and `bias` (O), as PyTorch.
/// Initialisation as PyTorch's: U(−1/√I, 1/√I) for both (kaiming_uniform with a = √5).
public final class Linear<Scalar: TensorScalar>: UnaryModule<Scalar> {
    /// W, (O, I) (PyTorch's layout: y = x Wᵀ + b).
    public let weight: Tensor<Scalar>
    /// b, (O), or nil without bias.
    public let bias: Tensor<Scalar>?
    /// Features I of x and O of y.
    public let inputSize: Int, outputSize: Int

    /// - Parameters:
    ///   - inputSize: features I of x.
    ///   - outputSize: features O of y.
    ///   - bias: whether `bias` exists.
    ///   - generator: source of the initial values, shared with the modules built after this one.
    public init(inputSize: Int, outputSize: Int, bias: Bool = true, generator: inout RandomGenerator) {
        precondition(inputSize > 0 && outputSize > 0, "Linear: sizes must be positive, got input \(inputSize), output \(outputSize)")
        self.inputSize = inputSize
        self.outputSize = outputSize
        let bound = Scalar(1) / Scalar(inputSize).squareRoot()
        weight = .uniform([outputSize, inputSize], low: -bound, high: bound, generator: &generator)
        self.bias = bias ? .uniform([outputSize], low: -bound, high: bound, generator: &generator) : nil
        super.init()
        registerParameter("weight", weight)
        if let b = self.bias { registerParameter("bias", b) }
    }

    /// PyTorch's default initialisation from a generator seeded with `seed`.
    public convenience init(inputSize: Int, outputSize: Int, bias: Bool = true, seed: UInt64 = 0) {
        var generator = RandomGenerator(seed: seed)
        self.init(inputSize: inputSize, outputSize: outputSize, bias: bias, generator: &generator)
    }

    /// - Parameter x: (…, I) → (…, O)
    public override func forward(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        let y = x.matmul(weight, transposeOther: true)
        return bias.map { y + $0 } ?? y
    }
}
