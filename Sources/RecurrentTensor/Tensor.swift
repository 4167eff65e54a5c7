/// Owned memory for tensor elements, zero-initialised unless a kernel that writes it all asks otherwise. Several tensors (views, or the parameters
/// packed into one flat buffer by `ParameterBuffer`) may share one storage at different offsets.
public final class TensorStorage<Scalar>: @unchecked Sendable {
    /// The first element of the allocation.
    public let base: UnsafeMutablePointer<Scalar>
    /// Number of elements allocated.
    public let capacity: Int

    /// Allocates `capacity` elements, all bits zero (0.0 for the IEEE float types tensors hold).
    /// A byte fill rather than `initialize(repeating:)`: this class is not specialised per element
    /// type, and a per-element generic copy costs more than the computation on many tensors.
    /// `zeroed: false` skips the fill, for kernels that write every element before anything reads it.
    public init(capacity: Int, zeroed: Bool = true) {
        precondition(_isPOD(Scalar.self), "TensorStorage holds trivial scalar types only")
        self.capacity = capacity
        let count = Swift.max(capacity, 1)
        base = .allocate(capacity: count)
        if zeroed {
            UnsafeMutableRawPointer(base).initializeMemory(as: UInt8.self, repeating: 0, count: count * MemoryLayout<Scalar>.stride)
        }
    }

    deinit { base.deallocate() }
}

/// An n-dimensional array of `Float` or `Double` in contiguous row-major order, with reverse-mode autograd.
///
/// `Tensor` has **reference semantics**, like `torch.Tensor`: it is a class, assignment shares it,
/// and ops return new tensors. Element storage is only mutated in place by explicit calls
/// (`withMutableData`, optimizers, `copy(from:)`); those never record gradients.
///
/// Shapes are checked where two tensors meet: a mismatch is a programmer error and traps with a
/// message naming the op and both shapes (as an array index out of range does).
public final class Tensor<Scalar: TensorScalar> {
    /// Dimensions, outermost first. `[]` is a scalar.
    public let shape: [Int]
    /// Number of elements: the product of `shape`.
    public let count: Int
    @usableFromInline var storage: TensorStorage<Scalar>
    @usableFromInline var offset: Int

    /// Set on leaves (parameters, inputs) whose gradient `backward()` should accumulate into `grad`.
    public var requiresGradLeaf: Bool
    /// Accumulated gradient (same shape), filled by `backward()` for leaves and for tensors that `retainGrad()`.
    public var grad: Tensor?
    /// The autograd node that produced this tensor, and which of its outputs this is.
    public internal(set) var gradFn: AutogradNode<Scalar>?
    @usableFromInline var outputIndex: Int = 0
    /// Non-leaf tensors keep their gradient only when asked (PyTorch's `retain_grad`).
    public internal(set) var retainsGrad = false

    // MARK: creation

    /// A zero-filled tensor.
    public init(zeros shape: [Int], requiresGrad: Bool = false) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor: negative dimension in shape \(shape)")
        self.shape = shape
        count = shape.reduce(1, *)
        storage = TensorStorage(capacity: count)
        offset = 0
        requiresGradLeaf = requiresGrad
    }

    /// A tensor whose elements the caller writes, every one, before anything reads them: a kernel's output
    /// that it overwrites entirely (a fused layer's outputs, a weight gradient computed with β = 0). Skips
    /// the zero fill, which for a large output costs a pass over memory on one thread.
    public static func uninitialized(_ shape: [Int]) -> Tensor {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor: negative dimension in shape \(shape)")
        return Tensor(shape: shape, storage: TensorStorage(capacity: shape.reduce(1, *), zeroed: false), offset: 0)
    }

    /// A tensor over existing storage (a view); used by reshape and parameter packing.
    @usableFromInline init(shape: [Int], storage: TensorStorage<Scalar>, offset: Int) {
        self.shape = shape
        count = shape.reduce(1, *)
        precondition(offset + count <= storage.capacity, "Tensor view: \(offset)+\(count) exceeds storage \(storage.capacity)")
        self.storage = storage
        self.offset = offset
        requiresGradLeaf = false
    }

    /// A tensor holding `scalars` in row-major order.
    public convenience init(_ scalars: [Scalar], shape: [Int], requiresGrad: Bool = false) {
        self.init(zeros: shape, requiresGrad: requiresGrad)
        precondition(scalars.count == count, "Tensor(_:shape:): \(scalars.count) scalars for shape \(shape) (\(count) elements)")
        scalars.withUnsafeBufferPointer { src in
            if count > 0 { data.update(from: src.baseAddress!, count: count) }
        }
    }

    /// A 1-D tensor.
    public convenience init(_ scalars: [Scalar], requiresGrad: Bool = false) {
        self.init(scalars, shape: [scalars.count], requiresGrad: requiresGrad)
    }

    /// A scalar (0-D) tensor.
    public convenience init(scalar: Scalar, requiresGrad: Bool = false) {
        self.init([scalar], shape: [], requiresGrad: requiresGrad)
    }

    /// A tensor of zeros.
    public static func zeros(_ shape: [Int], requiresGrad: Bool = false) -> Tensor {
        Tensor(zeros: shape, requiresGrad: requiresGrad)
    }

    /// A tensor of ones.
    public static func ones(_ shape: [Int], requiresGrad: Bool = false) -> Tensor {
        full(shape, 1, requiresGrad: requiresGrad)
    }

    /// A tensor with every element set to `value`.
    public static func full(_ shape: [Int], _ value: Scalar, requiresGrad: Bool = false) -> Tensor {
        let t = Tensor(zeros: shape, requiresGrad: requiresGrad)
        t.data.update(repeating: value, count: t.count)
        return t
    }

    /// 0, step, 2·step, … below `end` (PyTorch's `arange`).
    public static func arange(_ start: Scalar = 0, _ end: Scalar, step: Scalar = 1) -> Tensor {
        precondition(step != 0, "arange: step must not be zero")
        let n = Swift.max(0, Int(((end - start) / step).rounded(.up)))
        let t = Tensor(zeros: [n])
        for i in 0..<n { t.data[i] = start + Scalar(i) * step }
        return t
    }

    /// Uniform in [low, high) from `generator`.
    public static func uniform(_ shape: [Int], low: Scalar = 0, high: Scalar = 1, generator: inout RandomGenerator, requiresGrad: Bool = false) -> Tensor {
        let t = Tensor(zeros: shape, requiresGrad: requiresGrad)
        for i in 0..<t.count { t.data[i] = low + (high - low) * generator.nextUniform(Scalar.self) }
        return t
    }

    /// Normal with the given mean and standard deviation from `generator`.
    public static func normal(_ shape: [Int], mean: Scalar = 0, std: Scalar = 1, generator: inout RandomGenerator, requiresGrad: Bool = false) -> Tensor {
        let t = Tensor(zeros: shape, requiresGrad: requiresGrad)
        for i in 0..<t.count { t.data[i] = mean + std * generator.nextNormal(Scalar.self) }
        return t
    }

    // MARK: access

    /// Number of dimensions: `shape.count`.
    public var rank: Int { shape.count }

    /// Pointer to the first element. Valid while the tensor is alive.
    @inlinable public var data: UnsafeMutablePointer<Scalar> { storage.base + offset }

    /// The elements as an array, row-major.
    public var scalars: [Scalar] { Array(UnsafeBufferPointer(start: data, count: count)) }

    /// The single element of a one-element tensor.
    public var item: Scalar {
        precondition(count == 1, "item: tensor of shape \(shape) has \(count) elements, expected 1")
        return data[0]
    }

    /// Element at a full multi-index.
    public subscript(_ index: Int...) -> Scalar {
        get { data[flatIndex(index)] }
        set { data[flatIndex(index)] = newValue }
    }

    func flatIndex(_ index: [Int]) -> Int {
        precondition(index.count == rank, "subscript: \(index.count) indices for shape \(shape)")
        var flat = 0
        for (i, d) in zip(index, shape) {
            precondition(i >= 0 && i < d, "subscript: index \(index) out of range for shape \(shape)")
            flat = flat * d + i
        }
        return flat
    }

    /// Row-major strides of `shape`.
    public var strides: [Int] { Tensor.contiguousStrides(shape) }

    @usableFromInline static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var s = [Int](repeating: 1, count: shape.count)
        var acc = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) { s[i] = acc; acc *= shape[i] }
        return s
    }

    /// Runs `body` over the elements for in-place writing. Not recorded by autograd.
    public func withMutableData<R>(_ body: (UnsafeMutableBufferPointer<Scalar>) throws -> R) rethrows -> R {
        try body(UnsafeMutableBufferPointer(start: data, count: count))
    }

    /// Copies `other`'s elements into this tensor (same element count). Not recorded by autograd.
    public func copy(from other: Tensor) {
        precondition(other.count == count, "copy(from:): shapes \(shape) and \(other.shape) differ in size")
        data.update(from: other.data, count: count)
    }

    /// A new tensor with its own storage and the same elements, outside any graph.
    public func clone() -> Tensor {
        let t = Tensor(zeros: shape)
        t.copy(from: self)
        return t
    }

    /// Places this tensor's elements in `storage` at `offset` (copying them), so that many tensors
    /// can live in one contiguous block. Used by `ParameterBuffer`.
    public func rebind(to storage: TensorStorage<Scalar>, offset: Int) {
        precondition(offset + count <= storage.capacity, "rebind: \(offset)+\(count) exceeds storage \(storage.capacity)")
        (storage.base + offset).update(from: data, count: count)
        self.storage = storage
        self.offset = offset
    }

    /// True when `self` and `other` share memory.
    public func sharesStorage(with other: Tensor) -> Bool { storage === other.storage }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let shown = scalars.prefix(64).map { "\($0)" }.joined(separator: ", ")
        return "Tensor\(shape)(\(shown)\(count > 64 ? ", …" : ""))"
    }
}

/// Traps with a message naming the op and both shapes; used by every op that combines tensors.
@inlinable
public func checkShapes(_ op: String, _ a: [Int], _ b: [Int], _ ok: Bool) {
    if !ok { preconditionFailure("\(op): incompatible shapes \(a) and \(b)") }
}
