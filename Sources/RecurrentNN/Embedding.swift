import RecurrentTensor

/// A lookup table: token ids → vectors. `weight` (V, D) ~ N(0, 1) as PyTorch; the row at
/// `paddingIndex` starts at zero and never receives a gradient.
public final class Embedding<Scalar: TensorScalar>: Module<Scalar> {
    /// The table, (V, D): row i is the vector of id i.
    public let weight: Tensor<Scalar>
    /// The id whose vector stays zero and receives no gradient, or nil.
    public let paddingIndex: Int?
    /// V, the number of ids.
    public var vocabularySize: Int { weight.shape[0] }
    /// D, the width of each vector.
    public var dimension: Int { weight.shape[1] }

    /// Whether `weight` is trained (the default). Set it to false to keep pretrained vectors fixed: the
    /// lookup then records nothing on the tape and `weight` receives no gradient (PyTorch's
    /// `Embedding.from_pretrained(…, freeze=True)`, which clears `weight.requires_grad`). Its gradient is
    /// zeroed here, so an optimizer without weight decay leaves it unchanged; with weight decay, leave it
    /// out of the optimizer's parameters (`parameters().filter(\.requiresGrad)`).
    public var isTrainable: Bool {
        get { weight.requiresGrad }
        set {
            weight.requiresGrad = newValue
            if !newValue { weight.zeroGrad() }
        }
    }

    /// - Parameters:
    ///   - vocabularySize: rows V (token ids 0..<V).
    ///   - dimension: features D of each vector.
    ///   - paddingIndex: the id whose vector stays zero and gets no gradient (PyTorch's `padding_idx`).
    ///   - generator: source of the N(0, 1) initial values, shared with the modules built after this one.
    public init(vocabularySize: Int, dimension: Int, paddingIndex: Int? = nil, generator: inout RandomGenerator) {
        precondition(vocabularySize > 0 && dimension > 0, "Embedding: sizes must be positive, got vocabulary \(vocabularySize), dimension \(dimension)")
        precondition(paddingIndex.map { $0 >= 0 && $0 < vocabularySize } ?? true, "Embedding: padding index \(paddingIndex!) outside 0..<\(vocabularySize)")
        weight = .normal([vocabularySize, dimension], generator: &generator)
        self.paddingIndex = paddingIndex
        super.init()
        if let pad = paddingIndex { (weight.data + pad * dimension).update(repeating: 0, count: dimension) }
        registerParameter("weight", weight)
    }

    /// PyTorch's default initialisation, N(0, 1), from a generator seeded with `seed`.
    public convenience init(vocabularySize: Int, dimension: Int, paddingIndex: Int? = nil, seed: UInt64 = 0) {
        var generator = RandomGenerator(seed: seed)
        self.init(vocabularySize: vocabularySize, dimension: dimension, paddingIndex: paddingIndex, generator: &generator)
    }

    /// - Parameters:
    ///   - ids: token ids in row-major order of `shape`, each in 0..<V (checked: ids come from data).
    ///   - shape: the shape of the id array, e.g. (T, B).
    /// - Returns: (shape…, D)
    public func callAsFunction(_ ids: [Int], shape: [Int]) -> Tensor<Scalar> {
        precondition(ids.count == shape.reduce(1, *), "Embedding: \(ids.count) ids for shape \(shape)")
        let d = dimension, v = vocabularySize
        let out = Tensor<Scalar>(zeros: shape + [d])
        for (n, id) in ids.enumerated() {
            precondition(id >= 0 && id < v, "Embedding: id \(id) outside the vocabulary 0..<\(v)")
            (out.data + n * d).update(from: weight.data + id * d, count: d)
        }
        return Tensor.record("embedding", inputs: [weight], output: out) { [weight, paddingIndex] g in
            let gw = Tensor<Scalar>(zeros: weight.shape)
            for (n, id) in ids.enumerated() where id != paddingIndex {
                let dst = gw.data + id * d, src = g.data + n * d
                for j in 0..<d { dst[j] += src[j] }
            }
            return [gw]
        }
    }
}
