import XCTest
@testable import RecurrentTensor

final class CoreOpsTests: XCTestCase {
    func randn(_ shape: [Int], _ seed: UInt64) -> Tensor<Double> {
        var rng = RandomGenerator(seed: seed)
        return Tensor.normal(shape, generator: &rng, requiresGrad: true)
    }

    func testBroadcastAddValues() {
        let a = Tensor<Float>([1, 2, 3, 4, 5, 6], shape: [2, 3])
        let b = Tensor<Float>([10, 20, 30], shape: [3])
        XCTAssertEqual((a + b).scalars, [11, 22, 33, 14, 25, 36])
        let c = Tensor<Float>([100, 200], shape: [2, 1])
        XCTAssertEqual((a + c).scalars, [101, 102, 103, 204, 205, 206])
    }

    func testMatmulMatchesNaiveGEMM() {
        var rng = RandomGenerator(seed: 1)
        let a = Tensor<Double>.normal([5, 7], generator: &rng), b = Tensor<Double>.normal([7, 3], generator: &rng)
        let c = a.matmul(b)
        let ref = Tensor<Double>.zeros([5, 3])
        gemmNaive(transA: false, transB: false, m: 5, n: 3, k: 7, alpha: 1, a: a.data, lda: 7, b: b.data, ldb: 3, beta: 0, c: ref.data, ldc: 3)
        for (x, y) in zip(c.scalars, ref.scalars) { XCTAssertEqual(x, y, accuracy: 1e-12) }
    }

    func testGradientsOfArithmetic() {
        let a = randn([3, 4], 1), b = randn([4], 2), c = randn([3, 1], 3)
        XCTAssertLessThan(gradientCheck([a, b]) { $0[0] + $0[1] }.maxError, 1e-7)
        XCTAssertLessThan(gradientCheck([a, b]) { $0[0] - $0[1] }.maxError, 1e-7)
        XCTAssertLessThan(gradientCheck([a, c]) { $0[0] * $0[1] }.maxError, 1e-7)
        let pos = Tensor<Double>((0..<4).map { 1.5 + Double($0) }, shape: [4], requiresGrad: true)
        XCTAssertLessThan(gradientCheck([a, pos]) { $0[0] / $0[1] }.maxError, 1e-7)
        XCTAssertLessThan(gradientCheck([a]) { -($0[0] * 3.0 + 1.0) }.maxError, 1e-7)
        XCTAssertLessThan(gradientCheck([pos]) { $0[0].pow(2.5) + $0[0].sqrt() }.maxError, 1e-7)
    }

    func testGradientsOfActivations() {
        let a = randn([2, 5], 4)
        XCTAssertLessThan(gradientCheck([a]) { $0[0].tanh() }.maxError, 1e-7)
        XCTAssertLessThan(gradientCheck([a]) { $0[0].sigmoid() }.maxError, 1e-7)
        XCTAssertLessThan(gradientCheck([a]) { $0[0].relu() }.maxError, 1e-7)
        XCTAssertLessThan(gradientCheck([a]) { $0[0].exp() }.maxError, 1e-7)
        XCTAssertLessThan(gradientCheck([a]) { ($0[0] * $0[0] + 0.5).log() }.maxError, 1e-7)
    }

    func testGradientsOfMatmulAndShapes() {
        let a = randn([2, 3, 4], 5), w = randn([4, 6], 6), wt = randn([6, 4], 7)
        XCTAssertLessThan(gradientCheck([a, w]) { $0[0].matmul($0[1]) }.maxError, 1e-7)
        XCTAssertLessThan(gradientCheck([a, wt]) { $0[0].matmul($0[1], transposeOther: true) }.maxError, 1e-7)
        let b = randn([2, 4, 5], 8)
        XCTAssertLessThan(gradientCheck([a, b]) { $0[0].bmm($0[1]) }.maxError, 1e-7)
        XCTAssertLessThan(gradientCheck([a]) { $0[0].reshaped([4, -1]) * 2.0 }.maxError, 1e-7)
        XCTAssertLessThan(gradientCheck([a]) { $0[0].permuted([2, 0, 1]) }.maxError, 1e-7)
        XCTAssertLessThan(gradientCheck([a]) { $0[0].slice(axis: 1, 1..<3) }.maxError, 1e-7)
        XCTAssertLessThan(gradientCheck([a, b]) { Tensor.concat([$0[0], $0[1].transposed()], axis: 1) }.maxError, 1e-7)
        XCTAssertLessThan(gradientCheck([a]) { $0[0].sum(axis: 1) }.maxError, 1e-7)
        XCTAssertLessThan(gradientCheck([a]) { $0[0].mean(axis: 2, keepDim: true) }.maxError, 1e-7)
        XCTAssertLessThan(gradientCheck([a]) { $0[0].mean() }.maxError, 1e-7)
    }

    func testGradAccumulatesAndDetachCuts() {
        let x = Tensor<Double>([1, 2, 3], requiresGrad: true)
        (x * x).sum().backward()
        (x * x).sum().backward()
        XCTAssertEqual(x.grad?.scalars, [4, 8, 12])
        x.zeroGrad()
        (x * x.detached()).sum().backward()
        XCTAssertEqual(x.grad?.scalars, [1, 2, 3])
        let y = withoutGrad { x * 2.0 }
        XCTAssertFalse(y.requiresGrad)
    }

    func testSameSeedSameStream() {
        var a = RandomGenerator(seed: 42), b = RandomGenerator(seed: 42)
        XCTAssertEqual(Tensor<Float>.normal([100], generator: &a).scalars, Tensor<Float>.normal([100], generator: &b).scalars)
        var c = RandomGenerator(seed: 3)
        let u = Tensor<Double>.uniform([20000], low: -1, high: 1, generator: &c)
        XCTAssertEqual(u.mean().item, 0, accuracy: 0.02)
        XCTAssertTrue(u.scalars.allSatisfy { $0 >= -1 && $0 < 1 })
    }
}
