// Softmax and log-softmax along an axis.
//
// Both subtract the row maximum before exponentiating, so no exp overflows. The backward passes use
// only the saved output and are O(n) per row instead of forming the n×n Jacobian:
//   softmax      y = e^(x−m) / Σ e^(x−m)      dx = y ⊙ (g − Σ g⊙y)
//   logSoftmax   y = x − m − log Σ e^(x−m)    dx = g − e^y · Σ g
// A row of −∞ only (everything masked) gives NaN, as in PyTorch.

extension Tensor {
    /// Calls `body(rowStart)` for every row along the axis of `lay`; a row's elements are
    /// `rowStart + j · lay.inner` for j in 0..<lay.n (contiguous when the axis is the last one).
    @inline(__always)
    func forEachRow(_ lay: AxisLayout, _ body: (Int) -> Void) {
        for o in 0..<lay.outer {
            for i in 0..<lay.inner { body(o * lay.n * lay.inner + i) }
        }
    }

    /// The maximum of the row at `start` (stride `lay.inner`) and Σ e^(x − max) over it.
    @inline(__always)
    func rowMaxAndSumExp(_ start: Int, _ lay: AxisLayout) -> (max: Scalar, sumExp: Scalar) {
        let x = data + start, s = lay.inner
        var m = -Scalar.infinity
        for j in 0..<lay.n where x[j * s] > m { m = x[j * s] }
        var sum: Scalar = 0
        for j in 0..<lay.n { sum += Scalar.exp(x[j * s] - m) }
        return (m, sum)
    }

    /// Softmax along `axis` (the last by default): each row along the axis becomes positive and sums to 1.
    /// - Parameter axis: the axis normalised; negative counts from the end.
    /// - Returns: same shape as `self`.
    @_specialize(where Scalar == Float)
    public func softmax(axis: Int = -1) -> Tensor {
        let lay = AxisLayout(shape, axis: axis, op: "softmax")
        let out = Tensor(zeros: shape)
        let (x, y, s) = (data, out.data, lay.inner)
        forEachRow(lay) { start in
            let (m, sum) = rowMaxAndSumExp(start, lay)
            let inv = 1 / sum
            for j in 0..<lay.n { y[start + j * s] = Scalar.exp(x[start + j * s] - m) * inv }
        }
        let saved = out.detached()  // the output, without the graph edge back to this node
        return Tensor.record("softmax", inputs: [self], output: out) { g in
            let r = Tensor(zeros: saved.shape)
            let (y, gd, dx) = (saved.data, g.data, r.data)
            saved.forEachRow(lay) { start in
                var dot: Scalar = 0
                for j in 0..<lay.n { dot += gd[start + j * s] * y[start + j * s] }
                for j in 0..<lay.n {
                    let k = start + j * s
                    dx[k] = y[k] * (gd[k] - dot)
                }
            }
            return [r]
        }
    }

    /// Log of the softmax along `axis` (the last by default), computed without forming the softmax,
    /// so it stays finite where the softmax underflows to 0.
    /// - Parameter axis: the axis normalised; negative counts from the end.
    /// - Returns: same shape as `self`.
    @_specialize(where Scalar == Float)
    public func logSoftmax(axis: Int = -1) -> Tensor {
        let lay = AxisLayout(shape, axis: axis, op: "logSoftmax")
        let out = Tensor(zeros: shape)
        let (x, y, s) = (data, out.data, lay.inner)
        forEachRow(lay) { start in
            let (m, sum) = rowMaxAndSumExp(start, lay)
            let shift = m + Scalar.log(sum)
            for j in 0..<lay.n { y[start + j * s] = x[start + j * s] - shift }
        }
        let saved = out.detached()
        return Tensor.record("logSoftmax", inputs: [self], output: out) { g in
            let r = Tensor(zeros: saved.shape)
            let (y, gd, dx) = (saved.data, g.data, r.data)
            saved.forEachRow(lay) { start in
                var total: Scalar = 0
                for j in 0..<lay.n { total += gd[start + j * s] }
                for j in 0..<lay.n {
                    let k = start + j * s
                    dx[k] = gd[k] - Scalar.exp(y[k]) * total
                }
            }
            return [r]
        }
    }
}
