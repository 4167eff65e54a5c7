import XCTest
@testable import RecurrentTensor

final class ExtremaTests: XCTestCase {
    func testMaxMinAlongAxisValues() {
        let x = Tensor<Float>([1, 5, 2, 7, 0, 7, -1, 3, 3], shape: [3, 3])
        XCTAssertEqual(x.max(axis: 1).scalars, [5, 7, 3])
        XCTAssertEqual(x.max(axis: 1).shape, [3])
        XCTAssertEqual(x.max(axis: 0, keepDim: true).shape, [1, 3])
        XCTAssertEqual(x.max(axis: 0).scalars, [7, 5, 7])
        XCTAssertEqual(x.min(axis: -1).scalars, [1, 0, -1])
        XCTAssertEqual(x.argmax(axis: 1), [1, 0, 1])  // first on ties
        XCTAssertEqual(x.argmin(axis: 0), [2, 1, 0])
        XCTAssertEqual(x.argmax(), 3)
        XCTAssertEqual(x.argmin(), 6)
        XCTAssertEqual(x.max().item, 7)
        XCTAssertEqual(x.min().item, -1)
        let y = Tensor<Float>((0..<24).map { Float(($0 * 7) % 11) }, shape: [2, 3, 4])
        XCTAssertEqual(y.max(axis: 1).shape, [2, 4])
        for a in 0..<2 { for c in 0..<4 {
            XCTAssertEqual(y.max(axis: 1)[a, c], (0..<3).map { y[a, $0, c] }.max()!)
        } }
    }

    func testNaNPropagates() {
        let x = Tensor<Double>([1, .nan, 3, 4], shape: [2, 2])
        XCTAssertTrue(x.max(axis: 1)[0].isNaN)
        XCTAssertEqual(x.max(axis: 1)[1], 4)
        XCTAssertTrue(x.min().item.isNaN)
        XCTAssertEqual(x.argmax(axis: 0), [1, 0])  // column 1 holds the NaN at row 0
    }

    func testGradientGoesToFirstArgmaxOnTies() {
        let x = Tensor<Double>([2, 1, 2, 0, 3, 3], shape: [2, 3], requiresGrad: true)
        (x.max(axis: 1) * Tensor([10, 20])).sum().backward()
        XCTAssertEqual(x.grad?.scalars, [10, 0, 0, 0, 20, 0])
        // The full reduction shares the gradient among ties, as torch.max() does.
        let y = Tensor<Double>([3, 1, 3, 3], requiresGrad: true)
        (y.max() * 6.0).backward()
        XCTAssertEqual(y.grad?.scalars, [2, 0, 2, 2])
    }

    func testGradients() {
        var rng = RandomGenerator(seed: 11)
        let x = Tensor<Double>.normal([3, 4, 5], generator: &rng, requiresGrad: true)
        for axis in [0, 1, 2, -1] {
            XCTAssertLessThan(gradientCheck([x]) { $0[0].max(axis: axis) }.maxError, 1e-7)
            XCTAssertLessThan(gradientCheck([x]) { $0[0].min(axis: axis, keepDim: true) }.maxError, 1e-7)
        }
        XCTAssertLessThan(gradientCheck([x]) { $0[0].max() }.maxError, 1e-7)
        XCTAssertLessThan(gradientCheck([x]) { $0[0].min() }.maxError, 1e-7)
    }
}
