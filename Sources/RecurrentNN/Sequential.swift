import RecurrentTensor

/// Applies modules in order; children are named "0", "1", … as in PyTorch.
public final class Sequential<Scalar: TensorScalar>: UnaryModule<Scalar> {
    public let layers: [UnaryModule<Scalar>]

    public init(_ layers: [UnaryModule<Scalar>]) {
        self.layers = layers
        super.init()
        for (i, layer) in layers.enumerated() { registerModule("\(i)", layer) }
    }

    public override func forward(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        layers.reduce(x) { $1.forward($0) }
    }
}

/// Pointwise activation as a module, for use in `Sequential`.
public final class Activation<Scalar: TensorScalar>: UnaryModule<Scalar> {
    public enum Kind: String, Sendable { case tanh, sigmoid, relu }
    public let kind: Kind

    public init(_ kind: Kind) { self.kind = kind }

    public override func forward(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        switch kind {
        case .tanh: x.tanh()
        case .sigmoid: x.sigmoid()
        case .relu: x.relu()
        }
    }
}
