// Ops that move elements without computing: reshape, transpose/permute, slicing, concatenation.

extension Tensor {
    /// Same elements, new shape (one dimension may be -1). Shares storage; a view.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var s = newShape
        if let hole = s.firstIndex(of: -1) {
            let known = s.enumerated().filter { $0.offset != hole }.map(\.element).reduce(1, *)
            precondition(known > 0 && count % known == 0, "reshape: cannot reshape \(shape) to \(newShape)")
            s[hole] = count / known
        }
        checkShapes("reshape", shape, newShape, s.reduce(1, *) == count)
        let out = Tensor(shape: s, storage: storage, offset: offset)
        return Tensor.record("reshape", inputs: [self], output: out) { [shape] g in [g.reshaped(shape)] }
    }

    /// Reorders the axes: result axis i is input axis `axes[i]`.
    @_specialize(where Scalar == Float)
    public func permuted(_ axes: [Int]) -> Tensor {
        precondition(axes.sorted() == Array(0..<rank), "permute: \(axes) is not a permutation of the axes of \(shape)")
        let outShape = axes.map { shape[$0] }
        let inStrides = strides
        let gatherStrides = axes.map { inStrides[$0] }
        let out = Tensor(zeros: outShape)
        let src = data, dst = out.data
        forEachBroadcastIndex(outShape, gatherStrides, Tensor.contiguousStrides(outShape)) { o, i, _ in dst[o] = src[i] }
        var inverse = [Int](repeating: 0, count: rank)
        for (i, a) in axes.enumerated() { inverse[a] = i }
        return Tensor.record("permute", inputs: [self], output: out) { g in [g.permuted(inverse)] }
    }

    /// Swaps two axes (the last two by default).
    public func transposed(_ a: Int = -2, _ b: Int = -1) -> Tensor {
        let (x, y) = (a < 0 ? a + rank : a, b < 0 ? b + rank : b)
        var axes = Array(0..<rank)
        axes.swapAt(x, y)
        return permuted(axes)
    }

    /// Elements `range` along `axis` (PyTorch's `narrow`/slicing), copied.
    @_specialize(where Scalar == Float)
    public func slice(axis: Int, _ range: Range<Int>) -> Tensor {
        let ax = axis < 0 ? axis + rank : axis
        precondition(ax >= 0 && ax < rank, "slice: axis \(axis) out of range for shape \(shape)")
        precondition(range.lowerBound >= 0 && range.upperBound <= shape[ax], "slice: range \(range) out of bounds for axis \(ax) of shape \(shape)")
        let outer = shape[..<ax].reduce(1, *), inner = shape[(ax + 1)...].reduce(1, *)
        var outShape = shape
        outShape[ax] = range.count
        let out = Tensor(zeros: outShape)
        let chunk = range.count * inner
        for o in 0..<outer {
            (out.data + o * chunk).update(from: data + o * shape[ax] * inner + range.lowerBound * inner, count: chunk)
        }
        return Tensor.record("slice", inputs: [self], output: out) { [shape] g in
            let r = Tensor(zeros: shape)
            for o in 0..<outer {
                (r.data + o * shape[ax] * inner + range.lowerBound * inner).update(from: g.data + o * chunk, count: chunk)
            }
            return [r]
        }
    }

    /// Joins tensors along `axis`; all other dimensions must agree.
    /// (Outputs of at least 2¹⁸ elements are copied on two cores.)
    @_specialize(where Scalar == Float)
    public static func concat(_ tensors: [Tensor], axis: Int) -> Tensor {
        concat(tensors, axis: axis, splitMinimumElements: 1 << 18)
    }

    /// `concat`, copying on two cores when the output has at least `splitMinimumElements` elements
    /// (tests pass 0 or `Int.max` to compare the two).
    @_specialize(where Scalar == Float)
    static func concat(_ tensors: [Tensor], axis: Int, splitMinimumElements: Int) -> Tensor {
        precondition(!tensors.isEmpty, "concat: no tensors")
        let first = tensors[0]
        let ax = axis < 0 ? axis + first.rank : axis
        for t in tensors {
            var a = t.shape, b = first.shape
            if a.count == b.count, ax < a.count { a[ax] = 0; b[ax] = 0 }
            checkShapes("concat(axis: \(axis))", first.shape, t.shape, a == b && ax < t.rank)
        }
        let outer = first.shape[..<ax].reduce(1, *), inner = first.shape[(ax + 1)...].reduce(1, *)
        let total = tensors.reduce(0) { $0 + $1.shape[ax] }
        var outShape = first.shape
        outShape[ax] = total
        let out = Tensor.uninitialized(outShape)                 // every element is written below
        let sources = tensors.map { UnsafePointer($0.data) }, widths = tensors.map { $0.shape[ax] * inner }
        let destination = out.data
        /// Outer rows [o0, o1) of every input into their places.
        func copyRows(_ o0: Int, _ o1: Int) {
            var start = 0
            for (source, chunk) in zip(sources, widths) {
                for o in o0..<o1 { (destination + o * total * inner + start).update(from: source + o * chunk, count: chunk) }
                start += chunk
            }
        }
        // A big join (a bidirectional layer's (T, B, 2H) output) copies half its rows on each core rather than
        // on one while the other waits.
        let split = outer >= 2 && out.count >= splitMinimumElements
        let copiedOnTwoCores = split && PairParallel.run { part in part == 0 ? copyRows(0, outer / 2) : copyRows(outer / 2, outer) }
        if !copiedOnTwoCores { copyRows(0, outer) }
        let sizes = tensors.map { $0.shape[ax] }
        return record("concat", inputs: tensors, output: out) { g in
            var begin = 0
            return sizes.map { size in
                defer { begin += size }
                return g.slice(axis: ax, begin..<(begin + size))
            }
        }
    }
}

