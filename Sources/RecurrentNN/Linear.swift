import RecurrentTensor

/// y = x·Wᵀ + b over the last axis. Parameters `weight` (out, in) and `bias` (out), as PyTorch.
/// Initialisation as PyTorch's: U(−1/√in, 1/√in) for both (kaiming_uniform with a = √5).
public final class Linear<Scalar: TensorScalar>: UnaryModule<Scalar> {
    public let weight: Tensor<Scalar>
    public let bias: Tensor<Scalar>?
    public let inFeatures: Int, outFeatures: Int

    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, generator: inout RandomGenerator) {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        let bound = Scalar(1) / Scalar(inFeatures).squareRoot()
        weight = .uniform([outFeatures, inFeatures], low: -bound, high: bound, generator: &generator)
        self.bias = bias ? .uniform([outFeatures], low: -bound, high: bound, generator: &generator) : nil
        super.init()
        registerParameter("weight", weight)
        if let b = self.bias { registerParameter("bias", b) }
    }

    /// - Parameter x: (…, in) → (…, out)
    public override func forward(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        let y = x.matmul(weight, transposeOther: true)
        return bias.map { y + $0 } ?? y
    }
}
