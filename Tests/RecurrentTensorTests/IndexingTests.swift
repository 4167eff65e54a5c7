import XCTest
@testable import RecurrentTensor

final class IndexingTests: XCTestCase {
    func randn(_ shape: [Int], _ seed: UInt64) -> Tensor<Double> {
        var rng = RandomGenerator(seed: seed)
        return Tensor.normal(shape, generator: &rng, requiresGrad: true)
    }

    func testIndexSelectValues() {
        let x = Tensor<Float>((0..<12).map(Float.init), shape: [3, 4])
        let rows = x.indexSelect(axis: 0, indices: [2, 0, 2])
        XCTAssertEqual(rows.shape, [3, 4])
        XCTAssertEqual(rows.scalars, [8, 9, 10, 11, 0, 1, 2, 3, 8, 9, 10, 11])
        let cols = x.indexSelect(axis: -1, indices: [3, 1])
        XCTAssertEqual(cols.shape, [3, 2])
        XCTAssertEqual(cols.scalars, [3, 1, 7, 5, 11, 9])
        XCTAssertEqual(x.indexSelect(axis: 0, indices: []).shape, [0, 4])
    }

    func testIndexSelectScatterAddsRepeats() {
        let w = Tensor<Double>.zeros([3, 2], requiresGrad: true)
        w.indexSelect(axis: 0, indices: [1, 1, 0, 1]).sum().backward()
        XCTAssertEqual(w.grad?.scalars, [1, 1, 3, 3, 0, 0])
    }

    func testGatherValues() {
        // torch.gather(torch.tensor([[1, 2], [3, 4]]), 1, torch.tensor([[0, 0], [1, 0]])) == [[1, 1], [4, 3]]
        let x = Tensor<Float>([1, 2, 3, 4], shape: [2, 2])
        XCTAssertEqual(x.gather(axis: 1, indices: [0, 0, 1, 0], indexShape: [2, 2]).scalars, [1, 1, 4, 3])
        XCTAssertEqual(x.gather(axis: 0, indices: [1, 0], indexShape: [1, 2]).scalars, [3, 2])
        // Picking the target's log-probability per row, as NLL does: (B, V) at [B, 1].
        let logp = Tensor<Float>((0..<12).map(Float.init), shape: [3, 4])
        let picked = logp.gather(axis: 1, indices: [3, 0, 2], indexShape: [3, 1])
        XCTAssertEqual(picked.shape, [3, 1])
        XCTAssertEqual(picked.scalars, [3, 4, 10])
        // An index tensor smaller than the input on a non-gathered axis.
        let y = Tensor<Float>((0..<24).map(Float.init), shape: [2, 3, 4])
        let g = y.gather(axis: 2, indices: [3, 0, 1, 2], indexShape: [2, 2, 1])
        XCTAssertEqual(g.scalars, [3, 4, 13, 18])
    }

    func testGradients() {
        let x = randn([3, 4, 5], 1)
        XCTAssertLessThan(gradientCheck([x]) { $0[0].indexSelect(axis: 0, indices: [2, 0, 2, 1]) }.maxError, 1e-7)
        XCTAssertLessThan(gradientCheck([x]) { $0[0].indexSelect(axis: 1, indices: [3, 3]) }.maxError, 1e-7)
        XCTAssertLessThan(gradientCheck([x]) { $0[0].indexSelect(axis: -1, indices: [4, 0, 1, 4, 2]) }.maxError, 1e-7)
        var rng = RandomGenerator(seed: 9)
        for axis in 0..<3 {
            let indexShape = [2, 3, 3]
            let idx = (0..<18).map { _ in rng.nextInt(below: x.shape[axis]) }
            XCTAssertLessThan(gradientCheck([x]) { $0[0].gather(axis: axis, indices: idx, indexShape: indexShape) }.maxError, 1e-7)
        }
    }
}
