// Elementwise selection: maskedFill, where, clamp. Each backward routes the incoming gradient by the
// same condition the forward used: to the element that was kept, zero where a constant was put.

extension Tensor {
    /// `mask` (of `maskShape`, broadcast to `shape`) expanded to one flag per element of `self`.
    @_specialize(where Scalar == Float)
    func expandedMask(_ mask: [Bool], maskShape: [Int], op: String) -> [Bool] {
        precondition(mask.count == maskShape.reduce(1, *), "\(op): \(mask.count) mask flags for mask shape \(maskShape)")
        if maskShape == shape { return mask }
        checkShapes(op, shape, maskShape, broadcastShape(shape, maskShape) == shape)
        var flags = [Bool](repeating: false, count: count)
        mask.withUnsafeBufferPointer { m in
            flags.withUnsafeMutableBufferPointer { f in
                forEachBroadcastIndex(shape, broadcastStrides(maskShape, to: shape), broadcastStrides(shape, to: shape)) { o, i, _ in
                    f[o] = m[i]
                }
            }
        }
        return flags
    }

    /// Sets the elements where `mask` is true to `value` (PyTorch's `masked_fill`); the gradient
    /// is zero there. Attention masks padded keys with `maskedFill(mask: pad, maskShape: [B, 1, T], value: -.infinity)`.
    /// - Parameters:
    ///   - mask: row-major flags, true where `value` goes.
    ///   - maskShape: the mask's shape, broadcastable to `shape`; nil means `shape`.
    ///   - value: the constant written.
    /// - Returns: same shape as `self`.
    @_specialize(where Scalar == Float)
    public func maskedFill(mask: [Bool], maskShape: [Int]? = nil, value: Scalar) -> Tensor {
        let flags = expandedMask(mask, maskShape: maskShape ?? shape, op: "maskedFill")
        let out = Tensor(zeros: shape)
        let src = data, dst = out.data
        for i in 0..<count { dst[i] = flags[i] ? value : src[i] }
        return Tensor.record("maskedFill", inputs: [self], output: out) { g in
            let r = Tensor(zeros: g.shape)
            let gd = g.data, rd = r.data
            for i in 0..<flags.count where !flags[i] { rd[i] = gd[i] }
            return [r]
        }
    }

    /// `maskedFill` with the mask as a tensor, true where nonzero, broadcastable to `shape`. The mask gets no gradient.
    public func maskedFill(mask: Tensor, value: Scalar) -> Tensor {
        maskedFill(mask: mask.scalars.map { $0 != 0 }, maskShape: mask.shape, value: value)
    }

    /// Elementwise choice (PyTorch's `torch.where`): `a` where `condition` is true, `b` elsewhere.
    /// - Parameters:
    ///   - condition: row-major flags, one per element of the result.
    ///   - a: taken where true; broadcast to the result's shape.
    ///   - b: taken where false; broadcast to the result's shape.
    /// - Returns: shape `broadcastShape(a.shape, b.shape)`. Each gradient flows only where its operand was taken.
    @_specialize(where Scalar == Float)
    public static func `where`(condition: [Bool], _ a: Tensor, _ b: Tensor) -> Tensor {
        guard let outShape = broadcastShape(a.shape, b.shape) else {
            preconditionFailure("where: incompatible shapes \(a.shape) and \(b.shape)")
        }
        let n = outShape.reduce(1, *)
        precondition(condition.count == n, "where: \(condition.count) condition flags for result shape \(outShape)")
        let out = Tensor(zeros: outShape)
        let pa = a.data, pb = b.data, dst = out.data
        condition.withUnsafeBufferPointer { c in
            forEachBroadcastIndex(outShape, broadcastStrides(a.shape, to: outShape), broadcastStrides(b.shape, to: outShape)) { o, i, j in
                dst[o] = c[o] ? pa[i] : pb[j]
            }
        }
        return record("where", inputs: [a, b], output: out) { g in
            let gd = g.data
            func routed(_ taken: Bool) -> Tensor {
                let r = Tensor(zeros: outShape)
                let rd = r.data
                for i in 0..<n where condition[i] == taken { rd[i] = gd[i] }
                return r
            }
            return [a.requiresGrad ? routed(true).sumToShape(a.shape) : nil,
                    b.requiresGrad ? routed(false).sumToShape(b.shape) : nil]
        }
    }

    /// `where(condition:_:_:)` spelled as PyTorch's `torch.where(condition, a, b)`.
    public static func `where`(_ condition: [Bool], _ a: Tensor, _ b: Tensor) -> Tensor {
        `where`(condition: condition, a, b)
    }

    /// Limits every element to [min, max] (either bound may be omitted), PyTorch's `clamp`.
    /// The gradient passes where min ≤ x ≤ max (bounds included, as PyTorch) and is zero outside.
    /// When min > max every element becomes max. NaN stays NaN.
    @_specialize(where Scalar == Float)
    public func clamp(min lower: Scalar? = nil, max upper: Scalar? = nil) -> Tensor {
        let lo = lower ?? -Scalar.infinity, hi = upper ?? Scalar.infinity
        let out = map { x in
            let v = x < lo ? lo : x
            return v > hi ? hi : v
        }
        return Tensor.record("clamp", inputs: [self], output: out) { [self] g in
            [Tensor.broadcastMap("clampBackward", g, self, { gi, x in x >= lo && x <= hi ? gi : 0 })]
        }
    }
}
