#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The element types a `Tensor` can hold: `Float` (training, speed) and `Double` (gradient checks).
///
/// The elementary functions are requirements rather than free functions so that generic kernels
/// specialise to the libm call of the concrete type (`tanhf` for Float, `tanh` for Double).
public protocol TensorScalar: BinaryFloatingPoint, Sendable, CustomStringConvertible
where Self.RawSignificand: FixedWidthInteger {
    /// eˣ, with the C library's function for the type.
    static func exp(_ x: Self) -> Self
    /// The natural logarithm, with the C library's function for the type.
    static func log(_ x: Self) -> Self
    /// The hyperbolic tangent, with the C library's function for the type.
    static func tanh(_ x: Self) -> Self
    /// xʸ, with the C library's function for the type.
    static func pow(_ x: Self, _ y: Self) -> Self
    /// log(1 + x), accurate for small x.
    static func log1p(_ x: Self) -> Self
    /// Name used in safetensors headers ("F32", "F64").
    static var dtypeName: String { get }

    /// C := alpha · op(A) · op(B) + beta · C, row-major. Implemented in Kernels/GEMM.swift, the only BLAS call site.
    static func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Self,
        a: UnsafePointer<Self>, lda: Int, b: UnsafePointer<Self>, ldb: Int,
        beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)
}

extension Float: TensorScalar {
    @inlinable @inline(__always) public static func exp(_ x: Float) -> Float { expf(x) }
    @inlinable @inline(__always) public static func log(_ x: Float) -> Float { logf(x) }
    @inlinable @inline(__always) public static func tanh(_ x: Float) -> Float { tanhf(x) }
    @inlinable @inline(__always) public static func pow(_ x: Float, _ y: Float) -> Float { powf(x, y) }
    @inlinable @inline(__always) public static func log1p(_ x: Float) -> Float { log1pf(x) }
    public static var dtypeName: String { "F32" }
}

extension Double: TensorScalar {
    @inlinable @inline(__always) public static func exp(_ x: Double) -> Double { _exp(x) }
    @inlinable @inline(__always) public static func log(_ x: Double) -> Double { _log(x) }
    @inlinable @inline(__always) public static func tanh(_ x: Double) -> Double { _tanh(x) }
    @inlinable @inline(__always) public static func pow(_ x: Double, _ y: Double) -> Double { _pow(x, y) }
    @inlinable @inline(__always) public static func log1p(_ x: Double) -> Double { _log1p(x) }
    public static var dtypeName: String { "F64" }
}

// libm's Double functions, renamed so the static requirements above do not call themselves.
@inlinable @inline(__always) func _exp(_ x: Double) -> Double {
    #if canImport(Glibc)
    Glibc.exp(x)
    #else
    Darwin.exp(x)
    #endif
}
@inlinable @inline(__always) func _log(_ x: Double) -> Double {
    #if canImport(Glibc)
    Glibc.log(x)
    #else
    Darwin.log(x)
    #endif
}
@inlinable @inline(__always) func _tanh(_ x: Double) -> Double {
    #if canImport(Glibc)
    Glibc.tanh(x)
    #else
    Darwin.tanh(x)
    #endif
}
@inlinable @inline(__always) func _pow(_ x: Double, _ y: Double) -> Double {
    #if canImport(Glibc)
    Glibc.pow(x, y)
    #else
    Darwin.pow(x, y)
    #endif
}
@inlinable @inline(__always) func _log1p(_ x: Double) -> Double {
    #if canImport(Glibc)
    Glibc.log1p(x)
    #else
    Darwin.log1p(x)
    #endif
}

extension TensorScalar {
    /// Logistic sigmoid, written to stay finite for large |x|.
    @inlinable @inline(__always) public static func sigmoid(_ x: Self) -> Self {
        x >= 0 ? 1 / (1 + exp(-x)) : { let e = exp(x); return e / (1 + e) }()
    }
}
