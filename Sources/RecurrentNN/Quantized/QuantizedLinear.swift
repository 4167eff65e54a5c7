import RecurrentTensor

/// An inference-only `Linear`: y = x·Wᵀ + b with W stored at a `Precision` (QuantizedMatrix.swift). No
/// parameters and no gradients; build it from a trained `Linear` with `quantized(_:)`.
public final class QuantizedLinear: @unchecked Sendable {
    /// W (O, I) and b at the chosen precision.
    public let matrix: QuantizedMatrix
    /// Features I of x and O of y.
    public var inputSize: Int { matrix.depth }
    /// Features O of y.
    public var outputSize: Int { matrix.rows }
    /// The precision of the products.
    public var precision: Precision { matrix.precision }

    init(_ matrix: QuantizedMatrix) { self.matrix = matrix }

    /// - Parameter x: (…, I), not requiring a gradient.
    /// - Returns: (…, O).
    /// - Throws: `QuantizationError.inferenceOnly` when x requires a gradient.
    public func callAsFunction(_ x: Tensor<Float>) throws(QuantizationError) -> Tensor<Float> {
        guard !x.requiresGrad else { throw .inferenceOnly }
        precondition(x.shape.last == inputSize, "QuantizedLinear: expects (…, \(inputSize)) inputs, got \(x.shape)")
        let m = x.count / inputSize
        let y = Tensor<Float>.uninitialized(Array(x.shape.dropLast()) + [outputSize])
        matrix.product(m: m, a: x.data, lda: inputSize, c: y.data, ldc: outputSize, scratch: QuantizedScratch())
        return y
    }
}

extension Linear where Scalar == Float {
    /// This layer for inference at `precision` (weights copied: later changes to this layer do not reach it).
    /// - Throws: `QuantizationError.unsupported` for an int8 input wider than `QuantizedMatrix.maximumInt8Depth`.
    public func quantized(_ precision: Precision) throws -> QuantizedLinear {
        try QuantizedLinear(QuantizedMatrix(weight: weight, bias: bias, precision: precision))
    }

    func quantized(_ precision: Precision, kernel: QuantizedKernel) throws -> QuantizedLinear {
        try QuantizedLinear(QuantizedMatrix(weight: Array(UnsafeBufferPointer(start: weight.data, count: weight.count)), rows: outputSize,
                                            depth: inputSize, bias: bias.map { Array(UnsafeBufferPointer(start: $0.data, count: $0.count)) },
                                            precision: precision, kernel: kernel))
    }
}
