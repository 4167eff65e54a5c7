import XCTest
@testable import RecurrentNN
import RecurrentTensor

final class JordanTests: XCTestCase {
    func testFusedJordanGradients() {
        var rng = RandomGenerator(seed: 4)
        for (activation, outputActivation) in [(Nonlinearity.tanh, OutputActivation.tanh), (.relu, .identity), (.tanh, .sigmoid)] {
            let net = Jordan<Double>(inputSize: 3, hiddenSize: 4, outputSize: 2, numLayers: 2, activation: activation,
                                     outputActivation: outputActivation, generator: &rng)
            let x = Tensor<Double>.normal([5, 3, 3], generator: &rng, requiresGrad: true)
            let y0 = Tensor<Double>.normal([2, 3, 2], generator: &rng, requiresGrad: true)
            let result = gradientCheck([x, y0] + net.parameters()) { _ in
                let (out, final) = net(x, initialOutput: y0, lengths: [5, 2, 4])
                return Tensor.concat([out.reshaped([-1]), final.reshaped([-1])], axis: 0)
            }
            XCTAssertLessThan(result.maxError, 1e-7, "\(activation)/\(outputActivation): \(result)")
        }
        let bidirectional = Jordan<Double>(inputSize: 3, hiddenSize: 4, outputSize: 2, numLayers: 2, bidirectional: true, generator: &rng)
        let xd = Tensor<Double>.normal([5, 3, 3], generator: &rng, requiresGrad: true)
        let yd = Tensor<Double>.normal([4, 3, 2], generator: &rng, requiresGrad: true)
        let bidirectionalCheck = gradientCheck([xd, yd] + bidirectional.parameters()) { _ in
            let (out, final) = bidirectional(xd, initialOutput: yd, lengths: [3, 5, 1])
            return Tensor.concat([out.reshaped([-1]), final.reshaped([-1])], axis: 0)
        }
        XCTAssertLessThan(bidirectionalCheck.maxError, 1e-7, "bidirectional: \(bidirectionalCheck)")
        // The reverse direction starts at each sequence's own end: its output at t = length − 1 is one step from y0 = 0.
        let single = Jordan<Double>(inputSize: 3, hiddenSize: 4, outputSize: 2, bidirectional: true, generator: &rng)
        let (both, _) = single(xd, lengths: [3, 5, 1])
        for (b, length) in [3, 5, 1].enumerated() {
            let step = single.layers[1](xd.slice(axis: 0, (length - 1)..<length).slice(axis: 1, b..<(b + 1)).reshaped([1, 3])).y
            for j in 0..<2 { XCTAssertEqual(both[length - 1, b, 2 + j], step[0, j], accuracy: 1e-12) }
        }
        XCTAssertEqual(bidirectional.namedParameters()[5].name, "weight_ih_l0_reverse")
        XCTAssertEqual(bidirectional.namedParameters()[10].tensor.shape, [4, 4], "layer 1 reads both directions")
        let noBias = Jordan<Double>(inputSize: 2, hiddenSize: 3, outputSize: 2, bias: false, batchFirst: true, generator: &rng)
        let xb = Tensor<Double>.normal([2, 4, 2], generator: &rng, requiresGrad: true)
        XCTAssertLessThan(gradientCheck([xb] + noBias.parameters()) { noBias($0[0]).output }.maxError, 1e-7)
    }

    func testFusedJordanAgreesWithCellLoop() {
        var rng = RandomGenerator(seed: 6)
        let net = Jordan<Double>(inputSize: 3, hiddenSize: 5, outputSize: 2, generator: &rng)
        let cell = net.layers[0]
        let x = Tensor<Double>.normal([6, 2, 3], generator: &rng, requiresGrad: true)
        let w = Tensor<Double>.normal([6, 2, 2], generator: &rng)
        let (fused, _) = net(x)
        (fused * w).sum().backward()
        let fusedGrads = [x.grad!.scalars] + net.parameters().map { $0.grad!.scalars }
        net.zeroGrad(); x.zeroGrad()
        var y: Tensor<Double>? = nil
        var steps: [Tensor<Double>] = []
        for t in 0..<6 {
            y = cell(x.slice(axis: 0, t..<(t + 1)).reshaped([2, 3]), y).y
            steps.append(y!.reshaped([1, 2, 2]))
        }
        let looped = Tensor.concat(steps, axis: 0)
        (looped * w).sum().backward()
        let loopGrads = [x.grad!.scalars] + net.parameters().map { $0.grad!.scalars }
        for (a, b) in zip(fused.scalars, looped.scalars) { XCTAssertEqual(a, b, accuracy: 1e-6) }
        for (ga, gb) in zip(fusedGrads, loopGrads) { for (a, b) in zip(ga, gb) { XCTAssertEqual(a, b, accuracy: 1e-6) } }
        XCTAssertEqual(net.namedParameters().map(\.name), ["weight_ih_l0", "bias_ih_l0", "weight_yh_l0", "weight_ho_l0", "bias_ho_l0"])
    }
}
