import XCTest
@testable import RecurrentTensor

final class SoftmaxTests: XCTestCase {
    func testValuesAndStability() {
        let x = Tensor<Double>([1, 2, 3, 1000, 1000, -1000], shape: [2, 3])
        let s = x.softmax()
        let e = [1.0, 2, 3].map { Foundation.exp($0) }
        let z = e.reduce(0, +)
        for j in 0..<3 { XCTAssertEqual(s[0, j], e[j] / z, accuracy: 1e-15) }
        XCTAssertEqual(s[1, 0], 0.5, accuracy: 1e-15)
        XCTAssertEqual(s[1, 2], 0)
        let ls = x.logSoftmax()
        XCTAssertEqual(ls[1, 0], -Foundation.log(2.0), accuracy: 1e-12)
        XCTAssertEqual(ls[1, 2], -2000 - Foundation.log(2.0), accuracy: 1e-9)  // finite where softmax underflows
        XCTAssertEqual(Tensor<Float>([1e4, 0, -1e4]).softmax().scalars, [1, 0, 0])
    }

    func testAxesAndRowsSumToOne() {
        var rng = RandomGenerator(seed: 3)
        let x = Tensor<Float>.normal([2, 3, 4], generator: &rng)
        for axis in [0, 1, 2] {
            let sums = x.softmax(axis: axis).sum(axis: axis)
            for v in sums.scalars { XCTAssertEqual(v, 1, accuracy: 1e-6) }
            let viaLog = x.logSoftmax(axis: axis).exp()
            for (a, b) in zip(viaLog.scalars, x.softmax(axis: axis).scalars) { XCTAssertEqual(a, b, accuracy: 1e-6) }
        }
    }

    func testFullyMaskedRowIsNaN() {
        let x = Tensor<Double>([-.infinity, -.infinity], shape: [1, 2])
        XCTAssertTrue(x.softmax().scalars.allSatisfy(\.isNaN))
    }

    func testGradients() {
        var rng = RandomGenerator(seed: 5)
        let x = Tensor<Double>.normal([3, 4, 5], generator: &rng, requiresGrad: true)
        for axis in [0, 1, 2, -1] {
            XCTAssertLessThan(gradientCheck([x]) { $0[0].softmax(axis: axis) }.maxError, 1e-7)
            XCTAssertLessThan(gradientCheck([x]) { $0[0].logSoftmax(axis: axis) }.maxError, 1e-7)
        }
        let big = Tensor<Double>([30, -20, 5, 0.5, 40, 41], shape: [2, 3], requiresGrad: true)
        XCTAssertLessThan(gradientCheck([big]) { $0[0].logSoftmax() }.maxError, 1e-7)
    }
}
