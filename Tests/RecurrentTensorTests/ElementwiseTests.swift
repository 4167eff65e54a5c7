import XCTest
@testable import RecurrentTensor

final class ElementwiseTests: XCTestCase {
    func testSquare() {
        XCTAssertEqual(Tensor<Float>([-3, 0.5, 2]).square().scalars, [9, 0.25, 4])
        var rng = RandomGenerator(seed: 1)
        let x = Tensor<Double>.normal([3, 4], generator: &rng, requiresGrad: true)
        XCTAssertLessThan(gradientCheck([x]) { $0[0].square() }.maxError, 1e-7)
    }
}
