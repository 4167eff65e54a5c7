import Foundation

// Elementary operators in the forms the layers use. Shapes in comments use DESIGN.md's alphabet.
extension ONNXGraphBuilder {
    /// a + b, broadcasting (Add).
    public func add(_ a: ONNXValue, _ b: ONNXValue) -> ONNXValue { op("Add", a, b) }
    /// a − b, broadcasting (Sub).
    public func sub(_ a: ONNXValue, _ b: ONNXValue) -> ONNXValue { op("Sub", a, b) }
    /// a ⊙ b, broadcasting (Mul).
    public func mul(_ a: ONNXValue, _ b: ONNXValue) -> ONNXValue { op("Mul", a, b) }
    /// a / b, broadcasting (Div).
    public func div(_ a: ONNXValue, _ b: ONNXValue) -> ONNXValue { op("Div", a, b) }
    /// Matrix product of the last two axes, batched over the others (MatMul, NumPy's rules).
    public func matmul(_ a: ONNXValue, _ b: ONNXValue) -> ONNXValue { op("MatMul", a, b) }
    /// Elementwise tanh.
    public func tanh(_ x: ONNXValue) -> ONNXValue { op("Tanh", x) }
    /// Elementwise logistic sigmoid.
    public func sigmoid(_ x: ONNXValue) -> ONNXValue { op("Sigmoid", x) }
    /// Elementwise max(x, 0).
    public func relu(_ x: ONNXValue) -> ONNXValue { op("Relu", x) }

    /// A float scalar constant (broadcasts against anything).
    public func scalar(_ value: Float, name hint: String = "scalar") -> ONNXValue { constant([value], shape: [], name: hint) }

    /// The axes of x permuted: output axis k is input axis perm[k].
    public func transpose(_ x: ONNXValue, _ perm: [Int]) -> ONNXValue {
        op("Transpose", x, attributes: [.ints("perm", perm)])
    }

    /// Reshape to `shape` (ONNX's rules: 0 copies the input's dimension, −1 is inferred).
    public func reshape(_ x: ONNXValue, _ shape: [Int64]) -> ONNXValue {
        op("Reshape", x, constant(int64: shape))
    }

    /// x without the size-1 axes `axes`.
    public func squeeze(_ x: ONNXValue, axes: [Int64]) -> ONNXValue { op("Squeeze", x, constant(int64: axes)) }
    /// x with size-1 axes inserted at `axes` (positions in the result).
    public func unsqueeze(_ x: ONNXValue, axes: [Int64]) -> ONNXValue { op("Unsqueeze", x, constant(int64: axes)) }

    /// x[start..<end] along `axis`.
    public func slice(_ x: ONNXValue, axis: Int, _ range: Range<Int>) -> ONNXValue {
        op("Slice", x, constant(int64: [Int64(range.lowerBound)]), constant(int64: [Int64(range.upperBound)]), constant(int64: [Int64(axis)]))
    }

    /// The values joined along `axis` (one value is returned as it is).
    public func concat(_ xs: [ONNXValue], axis: Int) -> ONNXValue {
        xs.count == 1 ? xs[0] : node("Concat", xs, attributes: [.int("axis", axis)])[0]
    }

    /// The sum over `axis` (ReduceSum, axes as an input since opset 13).
    public func reduceSum(_ x: ONNXValue, axis: Int, keepDims: Bool = false) -> ONNXValue {
        op("ReduceSum", x, constant(int64: [Int64(axis)]), attributes: [.int("keepdims", keepDims ? 1 : 0)])
    }

    /// ReduceMax with the axes as an attribute (opset < 18).
    public func reduceMax(_ x: ONNXValue, axis: Int, keepDims: Bool = false) -> ONNXValue {
        op("ReduceMax", x, attributes: [.ints("axes", [axis]), .int("keepdims", keepDims ? 1 : 0)])
    }

    /// softmax along `axis` (opset ≥ 13: that one axis only).
    public func softmax(_ x: ONNXValue, axis: Int) -> ONNXValue { op("Softmax", x, attributes: [.int("axis", axis)]) }

    /// x converted to `type`.
    public func cast(_ x: ONNXValue, to type: ONNXElementType) -> ONNXValue {
        op("Cast", x, attributes: [.int("to", Int(type.proto.rawValue))])
    }

    /// `condition ? a : b`, broadcasting.
    public func `where`(_ condition: ONNXValue, _ a: ONNXValue, _ b: ONNXValue) -> ONNXValue { op("Where", condition, a, b) }

    /// The size of `x`'s dimension `axis` as an int64 scalar.
    public func dimension(_ x: ONNXValue, axis: Int) -> ONNXValue {
        op("Gather", op("Shape", x), constant(int64: [Int64(axis)], shape: []), attributes: [.int("axis", 0)])
    }

    /// (N) int64: 0, 1, …, N−1 for an int64 scalar N.
    public func range(_ count: ONNXValue) -> ONNXValue {
        op("Range", constant(int64: [0], shape: []), count, constant(int64: [1], shape: []))
    }

    /// (T, B) bool: whether step t of row b is within `lengths` (B, int64), T being `x`'s dimension `stepAxis`.
    /// - Parameters:
    ///   - batchMajor: false gives (T, B), true gives (B, T).
    public func validSteps(lengths: ONNXValue, stepsOf x: ONNXValue, stepAxis: Int, batchMajor: Bool = false) -> ONNXValue {
        let steps = range(dimension(x, axis: stepAxis))                                    // (T)
        return batchMajor
            ? op("Less", unsqueeze(steps, axes: [0]), unsqueeze(lengths, axes: [1]))        // (1, T) < (B, 1) → (B, T)
            : op("Less", unsqueeze(steps, axes: [1]), unsqueeze(lengths, axes: [0]))        // (T, 1) < (1, B) → (T, B)
    }
}
