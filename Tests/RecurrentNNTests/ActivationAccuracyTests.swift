import Foundation
import XCTest
@testable import RecurrentNN
@testable import RecurrentTensor

/// The Float gate kernels' sigmoid and tanh (FastActivations.swift and their C twins in avx2/GatesAVX2.c and
/// avx512/GatesAVX512.c) against Double references, in units in the last place of the Float result, over a
/// sweep of evenly spaced bit patterns: every path this processor runs, each at the bounds the sources state.
/// The sweep takes ± every 251st Float bit pattern (about 8.7 million points per range); the bounds were measured on
/// every third (and Benchmarks/Micro/activations.c): sigmoid 2.48 ulp (both), tanh 2.40 (AVX2) and 2.43 (Swift).
final class ActivationAccuracyTests: XCTestCase {
    /// Distance from `value` to `reference` in ulps of the Float nearest the reference.
    static func ulps(_ value: Float, _ reference: Double) -> Double {
        let nearest = Float(reference)
        let ulp = nearest == 0 ? Double(Float.leastNonzeroMagnitude) : Double(nearest.ulp)
        return abs(Double(value) - reference) / ulp
    }

    /// ±m for every `stride`-th Float bit pattern m in [0, limit], through `kernel` (in place); the worst
    /// error and where.
    static func sweep(_ limit: Float, stride: UInt32 = 251, kernel: (UnsafeMutablePointer<Float>, Int) -> Void,
                      reference: (Double) -> Double) -> (ulps: Double, at: Float) {
        let chunk = 4096
        let xs = UnsafeMutablePointer<Float>.allocate(capacity: chunk), ys = UnsafeMutablePointer<Float>.allocate(capacity: chunk)
        defer { xs.deallocate(); ys.deallocate() }
        var worst = (ulps: 0.0, at: Float.nan)
        var bits: UInt32 = 0
        while bits <= limit.bitPattern {
            var count = 0
            while count < chunk && bits <= limit.bitPattern {
                let m = Float(bitPattern: bits)
                xs[count] = m; xs[count + 1] = -m
                count += 2
                bits += stride
            }
            ys.update(from: xs, count: count)
            kernel(ys, count)
            for k in 0..<count {
                let error = ulps(ys[k], reference(Double(xs[k])))
                if !(error <= worst.ulps) { worst = (error, xs[k]) }
            }
        }
        return worst
    }

    static func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }

    /// The gate kernels of `path`: tanh through the Elman step with a zero recurrent term, sigmoid as
    /// the LSTM step's input gate.
    static func tanhKernel(path: InstructionSet, _ p: UnsafeMutablePointer<Float>, _ count: Int) {
        let zeros = UnsafeMutablePointer<Float>.allocate(capacity: count); defer { zeros.deallocate() }
        zeros.initialize(repeating: 0, count: count)
        RNNGates.tanhForward(p, zeros, p, count, path: path)
    }
    static func sigmoidKernel(path: InstructionSet, _ p: UnsafeMutablePointer<Float>, _ count: Int) {
        // One row of 4 gate blocks of `count` units: x in the input gate's block, zeros elsewhere.
        let xr = UnsafeMutablePointer<Float>.allocate(capacity: 4 * count), hr = UnsafeMutablePointer<Float>.allocate(capacity: 4 * count)
        let g = UnsafeMutablePointer<Float>.allocate(capacity: 4 * count), state = UnsafeMutablePointer<Float>.allocate(capacity: 4 * count)
        defer { xr.deallocate(); hr.deallocate(); g.deallocate(); state.deallocate() }
        xr.initialize(repeating: 0, count: 4 * count); hr.initialize(repeating: 0, count: 4 * count)
        state.initialize(repeating: 0, count: 4 * count)
        xr.update(from: p, count: count)
        LSTMGates.forwardFloat(xr, hr, g, state, state + count, state + 2 * count, state + 3 * count, count, stride: count, hStride: count,
                               path: path)
        p.update(from: g, count: count)
    }

    func check(path: InstructionSet) throws {
        guard path.isSupported else {
            throw XCTSkip("\(path) path not run: this processor supports \(InstructionSet.supported.map(\.rawValue))")
        }
        let label = path.rawValue
        let tanhError = Self.sweep(12, kernel: { Self.tanhKernel(path: path, $0, $1) }, reference: Foundation.tanh)
        XCTAssertLessThanOrEqual(tanhError.ulps, 2.5, "\(label) tanh at \(tanhError.at)")
        let sigmoidError = Self.sweep(87, kernel: { Self.sigmoidKernel(path: path, $0, $1) }, reference: Self.sigmoid)
        XCTAssertLessThanOrEqual(sigmoidError.ulps, 2.5, "\(label) sigmoid at \(sigmoidError.at)")
        // Far outside: saturated, finite; NaN stays NaN.
        var special: [Float] = [-.infinity, -1e30, -100, 100, 1e30, .infinity, .nan, -.nan]
        let count = special.count
        special.withUnsafeMutableBufferPointer { Self.tanhKernel(path: path, $0.baseAddress!, count) }
        XCTAssertEqual(Array(special[0..<6]), [-1, -1, -1, 1, 1, 1], label)
        XCTAssertTrue(special[6].isNaN && special[7].isNaN, "\(label) tanh(NaN) = \(special[6]), \(special[7])")
        special = [-.infinity, -1e30, -100, 100, 1e30, .infinity, .nan, -.nan]
        special.withUnsafeMutableBufferPointer { Self.sigmoidKernel(path: path, $0.baseAddress!, count) }
        for (k, v) in special[0..<3].enumerated() { XCTAssertTrue(v >= 0 && v < 1e-37, "\(label) sigmoid → \(v) at \(k)") }
        XCTAssertEqual(Array(special[3..<6]), [1, 1, 1], label)
        XCTAssertTrue(special[6].isNaN && special[7].isNaN, "\(label) sigmoid(NaN) = \(special[6]), \(special[7])")
    }

    func testAVX512Activations() throws { try check(path: .avx512) }
    func testAVX2Activations() throws { try check(path: .avx2) }
    func testSwiftActivations() throws { try check(path: .generic) }

    /// The sweep itself can fail: correctly rounded values pass, the same values 3 ulps off do not.
    func testSweepDetectsAnInaccurateTanh() {
        let exact = Self.sweep(12, stride: 4099, kernel: { p, n in for k in 0..<n { p[k] = Float(Foundation.tanh(Double(p[k]))) } },
                               reference: Foundation.tanh)
        XCTAssertLessThanOrEqual(exact.ulps, 0.5)
        let off = Self.sweep(12, stride: 4099, kernel: { p, n in
            for k in 0..<n { p[k] = Float(Foundation.tanh(Double(p[k]))).nextUp.nextUp.nextUp }
        }, reference: Foundation.tanh)
        XCTAssertGreaterThan(off.ulps, 2.5)
    }
}
