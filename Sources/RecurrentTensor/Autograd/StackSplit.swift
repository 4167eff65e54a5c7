// Stacking along a new axis, and splitting along an existing one (by sizes, or into n chunks).
//
// `split` is one autograd node with one output per part, so its backward writes every part's
// gradient into a single buffer of the input's shape (zeros where a part got none) instead of
// summing n zero-padded tensors, as n separate slices would.

extension Tensor {
    /// Joins same-shaped tensors along a new axis (PyTorch's `torch.stack`).
    /// - Parameters:
    ///   - tensors: N ≥ 1 tensors of one shape S.
    ///   - axis: where the new axis goes, in 0...S.count; negative counts from the end (-1 appends it).
    /// - Returns: shape S with N inserted at `axis`, e.g. T tensors (B, H) stacked at 0 give (T, B, H).
    @_specialize(where Scalar == Float)
    public static func stack(_ tensors: [Tensor], axis: Int = 0) -> Tensor {
        precondition(!tensors.isEmpty, "stack: no tensors")
        let first = tensors[0]
        let ax = axis < 0 ? axis + first.rank + 1 : axis
        precondition(ax >= 0 && ax <= first.rank, "stack: axis \(axis) out of range for shape \(first.shape)")
        for t in tensors { checkShapes("stack(axis: \(axis))", first.shape, t.shape, t.shape == first.shape) }
        let n = tensors.count
        let outer = first.shape[..<ax].reduce(1, *), inner = first.shape[ax...].reduce(1, *)
        var outShape = first.shape
        outShape.insert(n, at: ax)
        let out = Tensor(zeros: outShape)
        let dst = out.data
        for (k, t) in tensors.enumerated() {
            let src = t.data
            for o in 0..<outer { (dst + (o * n + k) * inner).update(from: src + o * inner, count: inner) }
        }
        let needs = tensors.map(\.requiresGrad)
        return record("stack", inputs: tensors, output: out) { [shape = first.shape] g in
            let gd = g.data
            return (0..<n).map { k -> Tensor? in
                guard needs[k] else { return nil }
                let r = Tensor(zeros: shape)
                for o in 0..<outer { (r.data + o * inner).update(from: gd + (o * n + k) * inner, count: inner) }
                return r
            }
        }
    }

    /// Cuts the tensor along `axis` into consecutive parts of the given sizes (PyTorch's `split` with a list).
    /// - Parameters:
    ///   - sizes: part sizes along the axis; they must add up to its length.
    ///   - axis: the axis to cut; negative counts from the end.
    /// - Returns: one copied tensor per size, each with the axis shortened to that size.
    @_specialize(where Scalar == Float)
    public func split(sizes: [Int], axis: Int = 0) -> [Tensor] {
        let lay = AxisLayout(shape, axis: axis, op: "split")
        precondition(sizes.allSatisfy { $0 >= 0 } && sizes.reduce(0, +) == lay.n,
                     "split: sizes \(sizes) do not add up to \(lay.n), axis \(lay.axis) of shape \(shape)")
        let (outer, n, inner) = (lay.outer, lay.n, lay.inner)
        var starts: [Int] = []
        var begin = 0
        let src = data
        let parts = sizes.map { size -> Tensor in
            var s = shape
            s[lay.axis] = size
            let part = Tensor(zeros: s)
            let chunk = size * inner
            for o in 0..<outer { (part.data + o * chunk).update(from: src + (o * n + begin) * inner, count: chunk) }
            starts.append(begin)
            begin += size
            return part
        }
        return Tensor.record("split", inputs: [self], outputs: parts) { [shape, starts] grads in
            let r = Tensor(zeros: shape)
            for (k, g) in grads.enumerated() {
                guard let g else { continue }
                let chunk = sizes[k] * inner
                for o in 0..<outer { (r.data + (o * n + starts[k]) * inner).update(from: g.data + o * chunk, count: chunk) }
            }
            return [r]
        }
    }

    /// Cuts the tensor along `axis` into `n` parts of ⌈length / n⌉, the last one smaller when the
    /// length does not divide (PyTorch's `chunk`; like it, fewer than `n` parts may come back, and
    /// an empty axis gives `n` empty parts).
    /// An LSTM's (B, 4H) gate pre-activations `chunk(4, axis: 1)` into four (B, H) gates.
    public func chunk(_ n: Int, axis: Int = 0) -> [Tensor] {
        precondition(n > 0, "chunk: number of chunks must be positive, got \(n)")
        let length = AxisLayout(shape, axis: axis, op: "chunk").n
        if length == 0 { return split(sizes: Array(repeating: 0, count: n), axis: axis) }
        let size = (length + n - 1) / n
        let sizes = stride(from: 0, to: length, by: size).map { Swift.min(size, length - $0) }
        return split(sizes: sizes, axis: axis)
    }
}
