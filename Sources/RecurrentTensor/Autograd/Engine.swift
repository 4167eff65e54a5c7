// Define-by-run reverse-mode autograd, PyTorch's semantics.
//
// Every differentiable op that sees an input needing a gradient records one `AutogradNode`: its inputs
// and a closure computing the vector-Jacobian product. The closure is written next to the op's
// forward, in the op's own file. A node may have several outputs (a fused recurrent layer returns
// the output sequence and the final states); `backward()` visits nodes in reverse topological order,
// gathering each node's output gradients before calling its closure once.

/// One recorded op: inputs, number of outputs, and the backward (vector-Jacobian product).
public final class AutogradNode<Scalar: TensorScalar> {
    /// Op name, for error messages and graph inspection.
    public let name: String
    /// The tensors the op read, in the order its backward returns their gradients.
    public let inputs: [Tensor<Scalar>]
    let outputCount: Int
    /// Maps the gradients of the outputs (nil where an output received none) to the gradients of the
    /// inputs (nil where an input needs none). Runs with gradient recording off.
    let backward: ([Tensor<Scalar>?]) -> [Tensor<Scalar>?]
    /// Gradients of the outputs, gathered during a backward pass.
    var outputGrads: [Tensor<Scalar>?]

    init(name: String, inputs: [Tensor<Scalar>], outputCount: Int, backward: @escaping ([Tensor<Scalar>?]) -> [Tensor<Scalar>?]) {
        self.name = name
        self.inputs = inputs
        self.outputCount = outputCount
        self.backward = backward
        outputGrads = Array(repeating: nil, count: outputCount)
    }
}

/// Whether ops record autograd nodes: off inside `withoutGrad { }`, and so during backward.
/// Task-local (per thread outside tasks): concurrent tasks and threads never see each other's setting.
public var isGradEnabled: Bool { GradMode.enabled }

enum GradMode {
    @TaskLocal static var enabled = true
}

/// Runs `body` without recording gradients (PyTorch's `torch.no_grad()`).
@discardableResult
public func withoutGrad<R>(_ body: () throws -> R) rethrows -> R {
    try GradMode.$enabled.withValue(false, operation: body)
}

extension Tensor {
    /// True for leaves marked `requiresGrad` and for results of ops recorded on the tape.
    public var requiresGrad: Bool {
        get { requiresGradLeaf || gradFn != nil }
        set {
            precondition(gradFn == nil, "requiresGrad can only be set on leaf tensors")
            requiresGradLeaf = newValue
        }
    }

    /// True when no recorded op produced this tensor.
    public var isLeaf: Bool { gradFn == nil }

    /// A tensor sharing this one's storage, cut from the graph (PyTorch's `detach()`).
    public func detached() -> Tensor {
        Tensor(shape: shape, storage: storage, offset: offset)
    }

    /// Keep `grad` for this non-leaf tensor during `backward()`.
    public func retainGrad() { retainsGrad = true }

    /// Zeroes the accumulated gradient in place (its storage may be a view into a flat buffer).
    public func zeroGrad() {
        if let g = grad { g.data.update(repeating: 0, count: g.count) }
    }

    /// Records `outputs` as produced by one op over `inputs`, when recording is on and some input
    /// needs a gradient. Returns the outputs for chaining. This is how every op, fused or not,
    /// enters the graph.
    @discardableResult
    public static func record(
        _ name: String, inputs: [Tensor], outputs: [Tensor],
        backward: @escaping ([Tensor?]) -> [Tensor?]
    ) -> [Tensor] {
        guard isGradEnabled, inputs.contains(where: { $0.requiresGrad }) else { return outputs }
        let node = AutogradNode(name: name, inputs: inputs, outputCount: outputs.count, backward: backward)
        for (i, out) in outputs.enumerated() {
            out.gradFn = node
            out.outputIndex = i
        }
        return outputs
    }

    /// Single-output form of `record`.
    @inlinable
    public static func record(_ name: String, inputs: [Tensor], output: Tensor, backward: @escaping (Tensor) -> [Tensor?]) -> Tensor {
        // Captures the shape, not `output`: output → gradFn → this closure → output would be a
        // reference cycle that keeps every graph alive after backward.
        record(name, inputs: inputs, outputs: [output]) { [shape = output.shape] grads in
            backward(grads[0] ?? Tensor.zeros(shape))
        }[0]
    }

    /// Backpropagates from this tensor: accumulates d(self)/d(leaf) · `gradient` into every leaf's
    /// `grad` (PyTorch's `backward()`). `gradient` defaults to 1 and is required unless `self` has one element.
    public func backward(_ gradient: Tensor? = nil) {
        let seed = gradient ?? {
            precondition(count == 1, "backward(): output of shape \(shape) is not a scalar; pass a gradient")
            return Tensor.ones(shape)
        }()
        checkShapes("backward", shape, seed.shape, seed.count == count)
        guard let root = gradFn else {
            if requiresGradLeaf { accumulateGrad(seed) }
            return
        }

        // Reverse topological order of the nodes reachable from the root (iterative DFS: graphs of
        // long sequences built step by step would overflow a recursive one).
        var order: [AutogradNode<Scalar>] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(AutogradNode<Scalar>, Int)] = [(root, 0)]
        visited.insert(ObjectIdentifier(root))
        while let (node, next) = stack.popLast() {
            if next < node.inputs.count {
                stack.append((node, next + 1))
                if let child = node.inputs[next].gradFn, visited.insert(ObjectIdentifier(child)).inserted {
                    stack.append((child, 0))
                }
            } else {
                order.append(node)
            }
        }

        root.outputGrads[outputIndex] = seed
        if retainsGrad { accumulateGrad(seed) }
        withoutGrad {
            for node in order.reversed() {
                let grads = node.outputGrads
                node.outputGrads = Array(repeating: nil, count: node.outputCount)
                guard grads.contains(where: { $0 != nil }) else { continue }
                let inputGrads = node.backward(grads)
                precondition(inputGrads.count == node.inputs.count, "\(node.name) backward returned \(inputGrads.count) gradients for \(node.inputs.count) inputs")
                for (input, g) in zip(node.inputs, inputGrads) {
                    guard let g, input.requiresGrad else { continue }
                    checkShapes("\(node.name) backward", input.shape, g.shape, input.shape == g.shape)
                    if let producer = input.gradFn {
                        let slot = input.outputIndex
                        producer.outputGrads[slot] = producer.outputGrads[slot].map { $0.adding(g) } ?? g
                        if input.retainsGrad { input.accumulateGrad(g) }
                    } else {
                        input.accumulateGrad(g)
                    }
                }
            }
        }
    }

    /// grad += g (allocates grad on first use).
    @_specialize(where Scalar == Float)
    func accumulateGrad(_ g: Tensor) {
        if let existing = grad {
            let d = existing.data, s = g.data
            for i in 0..<count { d[i] += s[i] }
        } else {
            grad = g.clone()
        }
    }

    /// Elementwise sum of same-shaped tensors without recording (used to merge gradients).
    @_specialize(where Scalar == Float)
    func adding(_ other: Tensor) -> Tensor {
        let r = clone()
        let d = r.data, s = other.data
        for i in 0..<count { d[i] += s[i] }
        return r
    }
}
