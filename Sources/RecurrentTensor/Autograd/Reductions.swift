// Reductions: sum and mean, over everything or along one axis.

extension Tensor {
    /// Sum of all elements (a scalar tensor).
    @_specialize(where Scalar == Float)
    public func sum() -> Tensor {
        var acc: Scalar = 0
        for i in 0..<count { acc += data[i] }
        let out = Tensor(scalar: acc)
        return Tensor.record("sum", inputs: [self], output: out) { [shape] g in [Tensor.full(shape, g.item)] }
    }

    /// Mean of all elements (a scalar tensor).
    public func mean() -> Tensor { sum() * (1 / Scalar(Swift.max(count, 1))) }

    /// Sum along `axis`; the axis is kept with size 1 when `keepDim`.
    @_specialize(where Scalar == Float)
    public func sum(axis: Int, keepDim: Bool = false) -> Tensor {
        let ax = axis < 0 ? axis + rank : axis
        precondition(ax >= 0 && ax < rank, "sum(axis:): axis \(axis) out of range for shape \(shape)")
        let outer = shape[..<ax].reduce(1, *), n = shape[ax], inner = shape[(ax + 1)...].reduce(1, *)
        var kept = shape
        kept[ax] = 1
        let out = Tensor(zeros: kept)
        for o in 0..<outer {
            for j in 0..<n {
                let src = data + (o * n + j) * inner, dst = out.data + o * inner
                for i in 0..<inner { dst[i] += src[i] }
            }
        }
        let result = keepDim ? out : out.reshaped(shape.enumerated().filter { $0.offset != ax }.map(\.element))
        return Tensor.record("sum(axis:)", inputs: [self], output: result.detached()) { [shape] g in
            [g.reshaped(kept).expandedCopy(to: shape)]
        }
    }

    /// Mean along `axis`.
    public func mean(axis: Int, keepDim: Bool = false) -> Tensor {
        let ax = axis < 0 ? axis + rank : axis
        return sum(axis: ax, keepDim: keepDim) * (1 / Scalar(Swift.max(shape[ax], 1)))
    }

    /// Copies a tensor to a broadcast-compatible larger shape (no recording).
    @_specialize(where Scalar == Float)
    func expandedCopy(to target: [Int]) -> Tensor {
        let r = Tensor(zeros: target)
        let src = data, dst = r.data
        forEachBroadcastIndex(target, broadcastStrides(shape, to: target), Tensor.contiguousStrides(target)) { o, i, _ in dst[o] = src[i] }
        return r
    }
}
