// Along-axis ops (softmax, max, indexSelect, split, stack…) all see a contiguous tensor as
// (outer, n, inner) around one axis: element (o, j, i) sits at (o · n + j) · inner + i.

/// A shape split around one axis into (outer, n, inner), with the axis resolved (negative counts from the end).
@usableFromInline
struct AxisLayout {
    /// The resolved axis, in 0..<rank.
    @usableFromInline let axis: Int
    /// Product of the dimensions before the axis.
    @usableFromInline let outer: Int
    /// Size of the axis.
    @usableFromInline let n: Int
    /// Product of the dimensions after the axis (the stride of the axis).
    @usableFromInline let inner: Int

    /// Traps, naming `op`, when `axis` is out of range for `shape`.
    @usableFromInline
    init(_ shape: [Int], axis: Int, op: String) {
        let ax = axis < 0 ? axis + shape.count : axis
        precondition(ax >= 0 && ax < shape.count, "\(op): axis \(axis) out of range for shape \(shape)")
        self.axis = ax
        outer = shape[..<ax].reduce(1, *)
        n = shape[ax]
        inner = shape[(ax + 1)...].reduce(1, *)
    }

    /// `shape` without the axis, or with it set to 1 when `keepDim`.
    @usableFromInline
    func reducedShape(_ shape: [Int], keepDim: Bool) -> [Int] {
        var s = shape
        if keepDim { s[axis] = 1 } else { s.remove(at: axis) }
        return s
    }
}
