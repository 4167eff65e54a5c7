import XCTest
@testable import RecurrentNN
import RecurrentTensor

final class ModuleTests: XCTestCase {
    func testDottedNamesAndLoading() throws {
        var rng = RandomGenerator(seed: 1)
        let model = Sequential<Float>([Linear(inputSize: 3, outputSize: 4, generator: &rng), Activation(.tanh), Linear(inputSize: 4, outputSize: 2, bias: false, generator: &rng)])
        XCTAssertEqual(model.namedParameters().map(\.name), ["0.weight", "0.bias", "2.weight"])
        XCTAssertEqual(model.parameterCount, 3 * 4 + 4 + 4 * 2)
        var state = model.stateDict()
        state["0.bias"] = Tensor([1, 2, 3, 4])
        try model.loadParameters(state)
        XCTAssertEqual(model.namedParameters()[1].tensor.scalars, [1, 2, 3, 4])
        state["2.weight"] = Tensor.zeros([3, 3])
        XCTAssertThrowsError(try model.loadParameters(state)) { error in
            XCTAssertEqual(error as? ModuleError, .shapeMismatch(name: "2.weight", expected: [2, 4], found: [3, 3]))
        }
        state["extra"] = Tensor.zeros([1])
        state["2.weight"] = nil
        XCTAssertThrowsError(try model.loadParameters(state)) { error in
            XCTAssertEqual(error as? ModuleError, .parameterNamesDiffer(missing: ["2.weight"], unexpected: ["extra"]))
        }
    }

    func testLinearInitialisationBound() {
        var rng = RandomGenerator(seed: 2)
        let layer = Linear<Double>(inputSize: 16, outputSize: 32, generator: &rng)
        let bound = 0.25
        XCTAssertTrue(layer.weight.scalars.allSatisfy { abs($0) <= bound })
        XCTAssertGreaterThan(layer.weight.scalars.map(abs).max()!, 0.9 * bound)
    }

    func testGradientsOfModules() {
        var rng = RandomGenerator(seed: 3)
        let x = Tensor<Double>.normal([2, 3, 5], generator: &rng, requiresGrad: true)
        let linear = Linear<Double>(inputSize: 5, outputSize: 4, generator: &rng)
        XCTAssertLessThan(gradientCheck([x] + linear.parameters()) { linear($0[0]) }.maxError, 1e-7)
        let norm = LayerNorm<Double>(features: 5)
        norm.weight.copy(from: Tensor.normal([5], generator: &rng))
        norm.bias.copy(from: Tensor.normal([5], generator: &rng))
        XCTAssertLessThan(gradientCheck([x] + norm.parameters()) { norm($0[0]) }.maxError, 1e-7)
        let embedding = Embedding<Double>(vocabularySize: 6, dimension: 3, paddingIndex: 0, generator: &rng)
        XCTAssertEqual(Array(embedding.weight.scalars[0..<3]), [0, 0, 0])
        XCTAssertLessThan(gradientCheck([embedding.weight]) { _ in embedding([1, 3, 5, 1], shape: [2, 2]) }.maxError, 1e-7)
        let ids = [0, 2]
        embedding.weight.zeroGrad()
        embedding(ids, shape: [2]).sum().backward()
        XCTAssertEqual(Array(embedding.weight.grad!.scalars[0..<3]), [0, 0, 0], "the padding row receives no gradient")
    }

    func testDropoutScalesAndEvalIsIdentity() {
        let drop = Dropout<Double>(0.25, seed: 9)
        let x = Tensor<Double>.ones([10000])
        let y = drop(x)
        let kept = y.scalars.filter { $0 != 0 }
        XCTAssertTrue(kept.allSatisfy { abs($0 - 4.0 / 3.0) < 1e-12 })
        XCTAssertEqual(Double(kept.count) / 10000, 0.75, accuracy: 0.02)
        drop.eval()
        XCTAssertEqual(drop(x).scalars, x.scalars)
    }

    func testParameterBufferIsOneBlockAndSharesWithModule() {
        var rng = RandomGenerator(seed: 4)
        let model = Sequential<Float>([Linear(inputSize: 3, outputSize: 4, generator: &rng), Linear(inputSize: 4, outputSize: 2, generator: &rng)])
        let before = model.parameters().flatMap(\.scalars)
        let buffer = ParameterBuffer(model)
        XCTAssertEqual(Array(buffer.values), before)
        buffer.values[0] = 42
        XCTAssertEqual(model.parameters()[0].scalars[0], 42)
        let x = Tensor<Float>.ones([1, 3])
        model(x).sum().backward()
        XCTAssertEqual(Array(buffer.gradients), model.parameters().flatMap { $0.grad!.scalars })
        XCTAssertNotEqual(buffer.gradients.reduce(0) { $0 + abs($1) }, 0)
        model.zeroGrad()
        XCTAssertTrue(buffer.gradients.allSatisfy { $0 == 0 })
    }
}
