import RecurrentTensor

/// Applies modules in order; children are named "0", "1", … as in PyTorch.
public final class Sequential<Scalar: TensorScalar>: UnaryModule<Scalar> {
    /// The modules, applied in this order.
    public let layers: [UnaryModule<Scalar>]

    /// Chains `layers`, registered as children "0", "1", ….
    public init(_ layers: [UnaryModule<Scalar>]) {
        self.layers = layers
        super.init()
        for (i, layer) in layers.enumerated() { registerModule("\(i)", layer) }
    }

    /// Applies every layer in turn.
    public override func forward(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        layers.reduce(x) { $1.forward($0) }
    }
}

/// Pointwise activation as a module, for use in `Sequential`.
public final class Activation<Scalar: TensorScalar>: UnaryModule<Scalar> {
    /// Which activation.
    public enum Kind: String, Sendable {
        /// The hyperbolic tangent.
        case tanh
        /// The logistic sigmoid, 1 / (1 + e^−x).
        case sigmoid
        /// max(0, x).
        case relu
    }
    /// The activation this module applies.
    public let kind: Kind

    /// The activation `kind` as a module.
    public init(_ kind: Kind) { self.kind = kind }

    /// Applies the activation element-wise.
    public override func forward(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        switch kind {
        case .tanh: x.tanh()
        case .sigmoid: x.sigmoid()
        case .relu: x.relu()
        }
    }
}
