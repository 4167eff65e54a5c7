// Broadcasting (NumPy/PyTorch rules): shapes are right-aligned; a dimension of 1 stretches.

/// The shape two shapes broadcast to, or nil when they do not.
public func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
    let n = max(a.count, b.count)
    var out = [Int](repeating: 1, count: n)
    for i in 0..<n {
        let da = i < n - a.count ? 1 : a[i - (n - a.count)]
        let db = i < n - b.count ? 1 : b[i - (n - b.count)]
        if da == db || db == 1 { out[i] = da } else if da == 1 { out[i] = db } else { return nil }
    }
    return out
}

/// Strides for reading a tensor of `shape` as if it had `target` shape (0 on stretched dimensions).
@usableFromInline func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
    let own = Tensor<Float>.contiguousStrides(shape)
    let lead = target.count - shape.count
    return (0..<target.count).map { i in
        i < lead || shape[i - lead] == 1 ? 0 : own[i - lead]
    }
}

/// Calls `body(outIndex, aIndex, bIndex)` for every element of the broadcast shape.
@inlinable
func forEachBroadcastIndex(_ out: [Int], _ sa: [Int], _ sb: [Int], _ body: (Int, Int, Int) -> Void) {
    let n = out.count
    let total = out.reduce(1, *)
    if total == 0 { return }
    if n == 0 { body(0, 0, 0); return }
    var idx = [Int](repeating: 0, count: n)
    var ia = 0, ib = 0
    // The innermost dimension runs as a tight loop; outer ones advance like an odometer.
    let inner = out[n - 1], ai = sa[n - 1], bi = sb[n - 1]
    var o = 0
    while o < total {
        for j in 0..<inner { body(o + j, ia + j * ai, ib + j * bi) }
        o += inner
        var d = n - 2
        while d >= 0 {
            idx[d] += 1
            ia += sa[d]; ib += sb[d]
            if idx[d] < out[d] { break }
            ia -= sa[d] * out[d]; ib -= sb[d] * out[d]
            idx[d] = 0
            d -= 1
        }
    }
}

extension Tensor {
    /// Sums a gradient of a broadcast result back to `target` shape (the backward of broadcasting).
    @_specialize(where Scalar == Float)
    public func sumToShape(_ target: [Int]) -> Tensor {
        if shape == target { return self }
        let result = Tensor(zeros: target)
        let sb = broadcastStrides(target, to: shape)
        let src = data, dst = result.data
        forEachBroadcastIndex(shape, Tensor.contiguousStrides(shape), sb) { o, _, b in dst[b] += src[o] }
        return result
    }
}
