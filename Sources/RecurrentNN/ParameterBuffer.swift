import RecurrentTensor

/// All parameters of a module in one contiguous block, and all their gradients in another (llm.c style).
///
/// After packing, each parameter tensor is a view into `values` and its `grad` a view into
/// `gradients`, so optimizers, clipping, checkpointing or an all-reduce can treat the model as one
/// flat vector while layers keep addressing parameters by name.
public final class ParameterBuffer<Scalar: TensorScalar> {
    /// The packed parameters, in the order given.
    public let parameters: [Tensor<Scalar>]
    let valueStorage: TensorStorage<Scalar>
    let gradientStorage: TensorStorage<Scalar>
    /// Number of scalars in all the parameters together.
    public let count: Int

    /// Packs `parameters` (their values and any existing gradients) into two flat blocks; each tensor becomes a view into them.
    public init(_ parameters: [Tensor<Scalar>]) {
        self.parameters = parameters
        count = parameters.reduce(0) { $0 + $1.count }
        valueStorage = TensorStorage(capacity: count)
        gradientStorage = TensorStorage(capacity: count)
        var offset = 0
        for p in parameters {
            p.rebind(to: valueStorage, offset: offset)
            let g = Tensor<Scalar>(zeros: p.shape)
            if let existing = p.grad { g.copy(from: existing) }
            g.rebind(to: gradientStorage, offset: offset)
            p.grad = g
            offset += p.count
        }
    }

    /// Packs the parameters of `module`.
    public convenience init(_ module: Module<Scalar>) { self.init(module.parameters()) }

    /// The parameter values as one vector.
    public var values: UnsafeMutableBufferPointer<Scalar> { UnsafeMutableBufferPointer(start: valueStorage.base, count: count) }
    /// The gradients as one vector.
    public var gradients: UnsafeMutableBufferPointer<Scalar> { UnsafeMutableBufferPointer(start: gradientStorage.base, count: count) }
}
