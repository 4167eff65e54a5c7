import XCTest
@testable import RecurrentTensor

final class StackSplitTests: XCTestCase {
    func randn(_ shape: [Int], _ seed: UInt64) -> Tensor<Double> {
        var rng = RandomGenerator(seed: seed)
        return Tensor.normal(shape, generator: &rng, requiresGrad: true)
    }

    func testStackValues() {
        let a = Tensor<Float>([1, 2, 3, 4], shape: [2, 2]), b = Tensor<Float>([5, 6, 7, 8], shape: [2, 2])
        let s0 = Tensor.stack([a, b])
        XCTAssertEqual(s0.shape, [2, 2, 2])
        XCTAssertEqual(s0.scalars, [1, 2, 3, 4, 5, 6, 7, 8])
        let s1 = Tensor.stack([a, b], axis: 1)
        XCTAssertEqual(s1.shape, [2, 2, 2])
        XCTAssertEqual(s1.scalars, [1, 2, 5, 6, 3, 4, 7, 8])
        let s2 = Tensor.stack([a, b], axis: -1)
        XCTAssertEqual(s2.shape, [2, 2, 2])
        XCTAssertEqual(s2.scalars, [1, 5, 2, 6, 3, 7, 4, 8])
        XCTAssertEqual(Tensor.stack([Tensor<Float>(scalar: 1), Tensor<Float>(scalar: 2)]).shape, [2])
    }

    func testSplitAndChunkValues() {
        let x = Tensor<Float>((0..<12).map(Float.init), shape: [2, 6])
        let parts = x.split(sizes: [1, 3, 2], axis: 1)
        XCTAssertEqual(parts.map(\.shape), [[2, 1], [2, 3], [2, 2]])
        XCTAssertEqual(parts[0].scalars, [0, 6])
        XCTAssertEqual(parts[1].scalars, [1, 2, 3, 7, 8, 9])
        XCTAssertEqual(parts[2].scalars, [4, 5, 10, 11])
        let rows = x.split(sizes: [1, 1], axis: 0)
        XCTAssertEqual(rows[1].scalars, [6, 7, 8, 9, 10, 11])
        // PyTorch's chunk: ⌈6/4⌉ = 2 per chunk, so only 3 chunks come back.
        XCTAssertEqual(x.chunk(4, axis: -1).map(\.shape), [[2, 2], [2, 2], [2, 2]])
        XCTAssertEqual(x.chunk(3, axis: 1)[2].scalars, [4, 5, 10, 11])
        XCTAssertEqual(Tensor<Float>.zeros([5]).chunk(2).map(\.shape), [[3], [2]])
        // An empty axis gives n empty parts, as torch.zeros(2, 0).chunk(3, 1) does.
        XCTAssertEqual(Tensor<Float>.zeros([2, 0]).chunk(3, axis: 1).map(\.shape), [[2, 0], [2, 0], [2, 0]])
    }

    func testSplitThenConcatRoundTrips() {
        let x = randn([3, 4, 5], 1)
        let back = Tensor.concat(x.split(sizes: [2, 0, 3], axis: 2), axis: 2)
        XCTAssertEqual(back.scalars, x.scalars)
    }

    /// Big joins copy half their rows on each core: the same values, for every axis, uneven widths and an empty part.
    func testConcatOnTwoCoresEqualsOneCore() {
        var rng = RandomGenerator(seed: 4)
        let parts = [[7, 3, 5], [7, 3, 2], [7, 3, 0], [7, 3, 4]].map { Tensor<Float>.normal($0, generator: &rng) }
        for axis in [0, 1, 2] {
            let inputs = parts.map { axis == 2 ? $0 : $0.transposed(axis, 2) }
            let one = Tensor.concat(inputs, axis: axis, splitMinimumElements: Int.max)
            let two = Tensor.concat(inputs, axis: axis, splitMinimumElements: 0)
            XCTAssertEqual(one.shape, two.shape)
            XCTAssertEqual(one.scalars, two.scalars, "axis \(axis)")
        }
        let joined = Tensor.concat([parts[0], parts[1]], axis: 2, splitMinimumElements: 0)
        XCTAssertEqual(Array(joined.scalars[0..<7]), Array(parts[0].scalars[0..<5] + parts[1].scalars[0..<2]))
    }

    func testGradients() {
        let a = randn([2, 3], 1), b = randn([2, 3], 2), c = randn([2, 3], 3)
        for axis in [0, 1, 2, -1] {
            XCTAssertLessThan(gradientCheck([a, b, c]) { Tensor.stack($0, axis: axis) }.maxError, 1e-7)
        }
        let x = randn([3, 8, 2], 4)
        XCTAssertLessThan(gradientCheck([x]) { x in
            let p = x[0].split(sizes: [3, 1, 4], axis: 1)
            return Tensor.concat([p[2] * 2.0, p[0].tanh()], axis: 1)  // p[1] gets no gradient
        }.maxError, 1e-7)
        XCTAssertLessThan(gradientCheck([x]) { x in
            let g = x[0].chunk(4, axis: 1)
            return g[0].sigmoid() * g[1].tanh() + g[2] * g[3]
        }.maxError, 1e-7)
    }

    func testSplitIsOneNode() {
        let x = randn([2, 8], 5)
        let parts = x.chunk(4, axis: 1)
        XCTAssertTrue(parts.allSatisfy { $0.gradFn === parts[0].gradFn })
        (parts[1] * 3.0).sum().backward()
        XCTAssertEqual(x.grad?.scalars, [0, 0, 3, 3, 0, 0, 0, 0, 0, 0, 3, 3, 0, 0, 0, 0])
    }
}
