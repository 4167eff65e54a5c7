// Extrema: max and min along an axis or over all elements, and argmax/argmin (no gradient).
//
// Along an axis, ties go to the first extremal element and the gradient flows to that one element
// only (PyTorch on CPU). NaN counts as the extremum, so it propagates (PyTorch's rule too). The
// full reductions `max()`/`min()` share the gradient evenly among tied elements, as PyTorch's do.

extension Tensor {
    /// For every (outer, inner) position, the index along the axis of the first extremal element.
    /// (outer · inner) indices; the axis is walked outermost so that each step reads `inner` contiguous elements.
    @_specialize(where Scalar == Float)
    func argExtremum(_ lay: AxisLayout, largest: Bool, op: String) -> [Int] {
        precondition(lay.n > 0, "\(op): cannot reduce axis \(lay.axis) of size 0 in shape \(shape)")
        let (outer, n, inner) = (lay.outer, lay.n, lay.inner)
        var indices = [Int](repeating: 0, count: outer * inner)
        var best = [Scalar](repeating: 0, count: inner)
        let src = data
        indices.withUnsafeMutableBufferPointer { idx in
            best.withUnsafeMutableBufferPointer { b in
                for o in 0..<outer {
                    let row = src + o * n * inner, at = idx.baseAddress! + o * inner
                    for i in 0..<inner { b[i] = row[i] }
                    for j in 1..<n {
                        let r = row + j * inner
                        for i in 0..<inner {
                            let v = r[i], cur = b[i]
                            // `!(v <= cur)` is `v > cur` or v is NaN; a NaN already held is kept.
                            let better = largest ? !(v <= cur) : !(v >= cur)
                            if better && !cur.isNaN { b[i] = v; at[i] = j }
                        }
                    }
                }
            }
        }
        return indices
    }

    @_specialize(where Scalar == Float)
    func extremum(axis: Int, keepDim: Bool, largest: Bool) -> Tensor {
        let op = largest ? "max(axis:)" : "min(axis:)"
        let lay = AxisLayout(shape, axis: axis, op: op)
        let indices = argExtremum(lay, largest: largest, op: op)
        let (n, inner) = (lay.n, lay.inner)
        let out = Tensor(zeros: lay.reducedShape(shape, keepDim: keepDim))
        let src = data, dst = out.data
        for (p, j) in indices.enumerated() {
            let (o, i) = p.quotientAndRemainder(dividingBy: inner)
            dst[p] = src[(o * n + j) * inner + i]
        }
        return Tensor.record(op, inputs: [self], output: out) { [shape] g in
            let r = Tensor(zeros: shape)
            let gd = g.data, rd = r.data
            for (p, j) in indices.enumerated() {
                let (o, i) = p.quotientAndRemainder(dividingBy: inner)
                rd[(o * n + j) * inner + i] = gd[p]
            }
            return [r]
        }
    }

    @_specialize(where Scalar == Float)
    func extremum(largest: Bool) -> Tensor {
        let op = largest ? "max()" : "min()"
        precondition(count > 0, "\(op): tensor of shape \(shape) is empty")
        let flat = AxisLayout([count], axis: 0, op: op)
        let value = data[argExtremum(flat, largest: largest, op: op)[0]]
        let out = Tensor(scalar: value)
        return Tensor.record(op, inputs: [self], output: out) { [self] g in
            // Evenly among the elements equal to the extremum (all NaNs when it is NaN).
            let src = data
            let ties = (0..<count).filter { value.isNaN ? src[$0].isNaN : src[$0] == value }
            let r = Tensor(zeros: shape)
            let share = g.item / Scalar(ties.count)
            for t in ties { r.data[t] = share }
            return [r]
        }
    }

    /// Largest element along `axis` (values only; see `argmax(axis:)` for where).
    /// - Parameters:
    ///   - axis: the axis reduced; negative counts from the end.
    ///   - keepDim: keep the axis with size 1 instead of removing it.
    /// The gradient flows to the first largest element of each reduced row.
    public func max(axis: Int, keepDim: Bool = false) -> Tensor {
        extremum(axis: axis, keepDim: keepDim, largest: true)
    }

    /// Smallest element along `axis`; the gradient flows to the first smallest element of each row.
    public func min(axis: Int, keepDim: Bool = false) -> Tensor {
        extremum(axis: axis, keepDim: keepDim, largest: false)
    }

    /// Largest element (a scalar tensor); the gradient is shared evenly among tied elements.
    public func max() -> Tensor { extremum(largest: true) }

    /// Smallest element (a scalar tensor); the gradient is shared evenly among tied elements.
    public func min() -> Tensor { extremum(largest: false) }

    /// Index along `axis` of the first largest element of each row, row-major over the other
    /// axes (the shape of `max(axis:)`'s result). Not differentiable.
    public func argmax(axis: Int) -> [Int] {
        argExtremum(AxisLayout(shape, axis: axis, op: "argmax(axis:)"), largest: true, op: "argmax(axis:)")
    }

    /// Index along `axis` of the first smallest element of each row. Not differentiable.
    public func argmin(axis: Int) -> [Int] {
        argExtremum(AxisLayout(shape, axis: axis, op: "argmin(axis:)"), largest: false, op: "argmin(axis:)")
    }

    /// Row-major flat index of the first largest element.
    public func argmax() -> Int {
        argExtremum(AxisLayout([count], axis: 0, op: "argmax()"), largest: true, op: "argmax()")[0]
    }

    /// Row-major flat index of the first smallest element.
    public func argmin() -> Int {
        argExtremum(AxisLayout([count], axis: 0, op: "argmin()"), largest: false, op: "argmin()")[0]
    }
}
