// Indexing by integer positions: indexSelect (whole slices along an axis, PyTorch's `index_select`)
// and gather (one element per output position, PyTorch's `torch.gather`). Both backward passes
// scatter-add, so an index that appears twice receives both gradients.
//
// Indices are programmer-supplied (token ids have been validated against the vocabulary where they
// entered): an index out of range traps with the op, the index and the shape.

extension Tensor {
    /// Slices along `axis` at the given positions, in order (PyTorch's `index_select`); an embedding
    /// lookup is `weight.indexSelect(axis: 0, indices: tokens)`.
    /// - Parameters:
    ///   - axis: the axis indexed; negative counts from the end.
    ///   - indices: positions in 0..<shape[axis]; repeats allowed.
    /// - Returns: `self`'s shape with shape[axis] replaced by `indices.count`.
    @_specialize(where Scalar == Float)
    public func indexSelect(axis: Int, indices: [Int]) -> Tensor {
        let lay = AxisLayout(shape, axis: axis, op: "indexSelect")
        let (outer, n, inner, m) = (lay.outer, lay.n, lay.inner, indices.count)
        for k in indices {
            precondition(k >= 0 && k < n, "indexSelect: index \(k) out of range for axis \(lay.axis) of shape \(shape)")
        }
        var outShape = shape
        outShape[lay.axis] = m
        let out = Tensor(zeros: outShape)
        let src = data, dst = out.data
        for o in 0..<outer {
            for (p, k) in indices.enumerated() {
                (dst + (o * m + p) * inner).update(from: src + (o * n + k) * inner, count: inner)
            }
        }
        return Tensor.record("indexSelect", inputs: [self], output: out) { [shape] g in
            let r = Tensor(zeros: shape)
            let gd = g.data, rd = r.data
            for o in 0..<outer {
                for (p, k) in indices.enumerated() {
                    let from = gd + (o * m + p) * inner, to = rd + (o * n + k) * inner
                    for i in 0..<inner { to[i] += from[i] }
                }
            }
            return [r]
        }
    }

    /// Picks one element along `axis` for every position of an index tensor (PyTorch's `torch.gather`):
    /// for a 3-D tensor and axis 1, `out[a][b][c] = self[a][indices[a][b][c]][c]`.
    /// - Parameters:
    ///   - axis: the axis indexed; negative counts from the end.
    ///   - indices: row-major positions in 0..<shape[axis], `indexShape.reduce(1, *)` of them.
    ///   - indexShape: the index tensor's shape: same rank as `self`, and no larger than `self` on
    ///     every other axis. Log-probabilities (B, V) gathered at targets with indexShape [B, 1] give (B, 1).
    /// - Returns: shape `indexShape`.
    @_specialize(where Scalar == Float)
    public func gather(axis: Int, indices: [Int], indexShape: [Int]) -> Tensor {
        let lay = AxisLayout(shape, axis: axis, op: "gather")
        let ax = lay.axis
        checkShapes("gather(axis: \(axis)) index", shape, indexShape,
                    indexShape.count == rank && (0..<rank).allSatisfy { $0 == ax || indexShape[$0] <= shape[$0] })
        precondition(indices.count == indexShape.reduce(1, *),
                     "gather: \(indices.count) indices for index shape \(indexShape)")
        for k in indices {
            precondition(k >= 0 && k < lay.n, "gather: index \(k) out of range for axis \(ax) of shape \(shape)")
        }
        // Offset in `self` of each output position with the axis coordinate zeroed; the index adds k · stride.
        var baseStrides = strides
        let axisStride = baseStrides[ax]
        baseStrides[ax] = 0
        let zeros = [Int](repeating: 0, count: rank)
        let out = Tensor(zeros: indexShape)
        let src = data, dst = out.data
        indices.withUnsafeBufferPointer { idx in
            forEachBroadcastIndex(indexShape, baseStrides, zeros) { o, base, _ in
                dst[o] = src[base + idx[o] * axisStride]
            }
        }
        return Tensor.record("gather", inputs: [self], output: out) { [shape] g in
            let r = Tensor(zeros: shape)
            let gd = g.data, rd = r.data
            indices.withUnsafeBufferPointer { idx in
                forEachBroadcastIndex(indexShape, baseStrides, zeros) { o, base, _ in
                    rd[base + idx[o] * axisStride] += gd[o]
                }
            }
            return [r]
        }
    }
}
