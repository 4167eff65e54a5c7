import XCTest
@testable import RecurrentTensor

final class SelectionTests: XCTestCase {
    func randn(_ shape: [Int], _ seed: UInt64) -> Tensor<Double> {
        var rng = RandomGenerator(seed: seed)
        return Tensor.normal(shape, generator: &rng, requiresGrad: true)
    }

    func testMaskedFillValues() {
        let x = Tensor<Float>([1, 2, 3, 4, 5, 6], shape: [2, 3])
        XCTAssertEqual(x.maskedFill(mask: [true, false, false, false, false, true], value: 0).scalars, [0, 2, 3, 4, 5, 0])
        XCTAssertEqual(x.maskedFill(mask: [false, true, true], maskShape: [3], value: -1).scalars, [1, -1, -1, 4, -1, -1])
        XCTAssertEqual(x.maskedFill(mask: [true, false], maskShape: [2, 1], value: 9).scalars, [9, 9, 9, 4, 5, 6])
        let masked = x.maskedFill(mask: Tensor<Float>([0, 1], shape: [2, 1]), value: -.infinity)
        XCTAssertEqual(masked.scalars, [1, 2, 3, -.infinity, -.infinity, -.infinity])
        XCTAssertEqual(masked.softmax().scalars[0], Foundation.exp(1) / (Foundation.exp(1) + Foundation.exp(2) + Foundation.exp(3)), accuracy: 1e-6)
    }

    func testWhereValues() {
        let a = Tensor<Float>([1, 2, 3, 4], shape: [2, 2]), b = Tensor<Float>([10, 20], shape: [2])
        XCTAssertEqual(Tensor.where(condition: [true, false, false, true], a, b).scalars, [1, 20, 10, 4])
        XCTAssertEqual(Tensor.where(condition: [false, true], Tensor<Float>(scalar: 0), b).scalars, [10, 0])
        XCTAssertEqual(Tensor.where([false, true, true, false], a, b).scalars, [10, 2, 3, 20])  // torch.where spelling
    }

    func testClampValues() {
        let x = Tensor<Float>([-3, -1, 0, 0.5, 1, 2.5])
        XCTAssertEqual(x.clamp(min: -1, max: 1).scalars, [-1, -1, 0, 0.5, 1, 1])
        XCTAssertEqual(x.clamp(min: 0).scalars, [0, 0, 0, 0.5, 1, 2.5])
        XCTAssertEqual(x.clamp(max: 0).scalars, [-3, -1, 0, 0, 0, 0])
        XCTAssertEqual(x.clamp(min: 2, max: 1).scalars, [1, 1, 1, 1, 1, 1])  // min > max: all max, as PyTorch
        XCTAssertTrue(Tensor<Float>([.nan]).clamp(min: 0, max: 1).item.isNaN)
    }

    func testClampGradientIncludesBounds() {
        let x = Tensor<Double>([-2, -1, 0, 1, 2], requiresGrad: true)
        x.clamp(min: -1, max: 1).sum().backward()
        XCTAssertEqual(x.grad?.scalars, [0, 1, 1, 1, 0])
    }

    func testGradients() {
        let x = randn([3, 4], 1), y = randn([4], 2)
        var rng = RandomGenerator(seed: 3)
        let mask = (0..<12).map { _ in rng.nextInt(below: 2) == 1 }
        XCTAssertLessThan(gradientCheck([x]) { $0[0].maskedFill(mask: mask, value: 7) }.maxError, 1e-7)
        XCTAssertLessThan(gradientCheck([x]) { $0[0].maskedFill(mask: [true, false, false], maskShape: [3, 1], value: 0) }.maxError, 1e-7)
        XCTAssertLessThan(gradientCheck([x, y]) { Tensor.where(condition: mask, $0[0], $0[1]) }.maxError, 1e-7)
        XCTAssertLessThan(gradientCheck([x, y]) { Tensor.where(condition: mask, $0[1].tanh(), $0[0] * $0[0]) }.maxError, 1e-7)
        // Bounds chosen away from every element, where the derivative is defined.
        let z = Tensor<Double>([-1.5, -0.7, -0.2, 0.1, 0.45, 0.9, 1.3, 2.2], requiresGrad: true)
        XCTAssertLessThan(gradientCheck([z]) { $0[0].clamp(min: -0.5, max: 1) }.maxError, 1e-7)
        XCTAssertLessThan(gradientCheck([z]) { $0[0].clamp(min: 0) }.maxError, 1e-7)
        XCTAssertLessThan(gradientCheck([z]) { $0[0].clamp(max: 0.3) }.maxError, 1e-7)
    }
}
