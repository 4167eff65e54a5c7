// Reductions: sum and mean, over everything or along one axis.

extension Tensor {
    /// Sum of all elements (a scalar tensor).
    @_specialize(where Scalar == Float)
    public func sum() -> Tensor {
        // Eight running sums, then theirs: eight independent addition chains instead of one, each add
        // waiting on the last (a 409,600-element loss took 0.55 ms on one thread, the rest of the step idle).
        let p = data, n = count, n8 = n & ~7
        var a0: Scalar = 0, a1: Scalar = 0, a2: Scalar = 0, a3: Scalar = 0, a4: Scalar = 0, a5: Scalar = 0, a6: Scalar = 0, a7: Scalar = 0
        var i = 0
        while i < n8 {
            a0 += p[i]; a1 += p[i + 1]; a2 += p[i + 2]; a3 += p[i + 3]
            a4 += p[i + 4]; a5 += p[i + 5]; a6 += p[i + 6]; a7 += p[i + 7]
            i += 8
        }
        var acc = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7))
        while i < n { acc += p[i]; i += 1 }
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
