import Foundation
import XCTest
@testable import RecurrentNN
import RecurrentTensor

/// The Jordan network: gradient checks of the cell and the fused layer, the fused layer against a
/// loop over `JordanCell`, and both against the torch step loop in Tests/Fixtures/cells/jordan.json.
final class JordanTests: XCTestCase {
    struct Config {
        var inputSize = 3, hiddenSize = 4, outputSize = 2, numLayers = 1
        var bias = true, batchFirst = false, bidirectional = false
        var activation = Nonlinearity.tanh, outputActivation = OutputActivation.tanh
        var batch = 3, steps = 4
        var lengths: [Int]? = nil
        var initialY = false
    }

    static let configs: [(String, Config)] = [
        ("one layer", Config()),
        ("2 layers, lengths, y0", Config(numLayers: 2, lengths: [4, 2, 3], initialY: true)),
        ("relu, sigmoid, no bias", Config(bias: false, activation: .relu, outputActivation: .sigmoid)),
        ("identity output, batchFirst, y0", Config(batchFirst: true, outputActivation: .identity, initialY: true)),
        ("bidirectional, lengths", Config(bidirectional: true, lengths: [3, 4, 1])),
        ("bidirectional, 2 layers, lengths, y0, batchFirst", Config(numLayers: 2, batchFirst: true, bidirectional: true,
                                                                     outputActivation: .identity, lengths: [2, 4, 0], initialY: true)),
    ]

    func make(_ c: Config, seed: UInt64) -> (Jordan<Double>, Tensor<Double>, Tensor<Double>) {
        var rng = RandomGenerator(seed: seed)
        let net = Jordan<Double>(inputSize: c.inputSize, hiddenSize: c.hiddenSize, outputSize: c.outputSize, numLayers: c.numLayers,
                                 bias: c.bias, batchFirst: c.batchFirst, bidirectional: c.bidirectional,
                                 activation: c.activation, outputActivation: c.outputActivation, generator: &rng)
        let x = Tensor<Double>.normal(c.batchFirst ? [c.batch, c.steps, c.inputSize] : [c.steps, c.batch, c.inputSize],
                                      generator: &rng, requiresGrad: true)
        let y0 = Tensor<Double>.normal([c.numLayers * net.directions, c.batch, c.outputSize], generator: &rng, requiresGrad: true)
        return (net, x, y0)
    }

    /// Output and final y as one tensor, for `gradientCheck`.
    func flat(_ r: (output: Tensor<Double>, state: Tensor<Double>)) -> Tensor<Double> {
        Tensor.concat([r.output.reshaped([-1]), r.state.reshaped([-1])], axis: 0)
    }

    // MARK: gradient checks

    func testJordanCellGradients() {
        for (activation, outputActivation) in [(Nonlinearity.tanh, OutputActivation.tanh), (.relu, .sigmoid), (.tanh, .identity)] {
            for bias in [true, false] {
                var rng = RandomGenerator(seed: 21)
                let cell = JordanCell<Double>(inputSize: 3, hiddenSize: 4, outputSize: 2, bias: bias, activation: activation,
                                              outputActivation: outputActivation, generator: &rng)
                let x = Tensor<Double>.normal([3, 2, 3], generator: &rng, requiresGrad: true)
                let y0 = Tensor<Double>.normal([2, 2], generator: &rng, requiresGrad: true)
                let result = gradientCheck([x, y0] + cell.parameters()) { v in
                    var y: Tensor<Double>? = v[1]
                    return Tensor.concat((0..<3).map { t in
                        let step = cell.step(v[0].slice(axis: 0, t..<(t + 1)).reshaped([2, 3]), state: y)
                        y = step.y
                        return Tensor.concat([step.h, step.y], axis: 1)
                    }, axis: 0)
                }
                XCTAssertLessThan(result.maxError, 1e-7, "JordanCell \(activation)/\(outputActivation) bias \(bias): \(result)")
            }
        }
    }

    func testFusedJordanGradients() {
        for (name, c) in Self.configs {
            let (net, x, y0) = make(c, seed: 22)
            let inputs = [x] + (c.initialY ? [y0] : []) + net.parameters()
            let result = gradientCheck(inputs) { v in
                self.flat(net(v[0], state: c.initialY ? v[1] : nil, lengths: c.lengths))
            }
            XCTAssertLessThan(result.maxError, 1e-7, "Jordan [\(name)]: \(result)")
        }
    }

    // MARK: fused layer against a loop over JordanCell

    /// The network written as loops over `JordanCell`s (sharing the layer's parameters), one sequence
    /// at a time over its valid steps, padded with zeros: no batching, no masking.
    func loopReference(_ net: Jordan<Double>, _ input: Tensor<Double>, initialY: Tensor<Double>?, lengths: [Int]?)
        -> (output: Tensor<Double>, state: Tensor<Double>) {
        let x = net.batchFirst ? input.transposed(0, 1) : input           // (T, B, I)
        let (t, b) = (x.shape[0], x.shape[1])
        let (d, o) = (net.directions, net.outputSize)
        var perSequence: [Tensor<Double>] = []                            // B × (T, 1, D·O)
        var finals = [[Tensor<Double>]](repeating: [], count: net.numLayers * d)  // [layer·D + dir][b] (1, O)
        for row in 0..<b {
            let n = lengths?[row] ?? t
            var seq = (0..<n).map { x.slice(axis: 0, $0..<($0 + 1)).slice(axis: 1, row..<(row + 1)).reshaped([1, -1]) }
            for k in 0..<net.numLayers {
                var outs = [[Tensor<Double>]](repeating: [], count: d)
                for dir in 0..<d {
                    let cell = net.cell(layer: k, direction: dir)
                    var y: Tensor<Double>? = initialY?.slice(axis: 0, (k * d + dir)..<(k * d + dir + 1))
                        .slice(axis: 1, row..<(row + 1)).reshaped([1, o])
                    var ys = [Tensor<Double>?](repeating: nil, count: n)
                    for step in 0..<n {
                        let time = dir == 1 ? n - 1 - step : step
                        y = cell(seq[time], state: y)
                        ys[time] = y
                    }
                    finals[k * d + dir].append(y ?? Tensor.zeros([1, o]))
                    outs[dir] = ys.map { $0! }
                }
                seq = (0..<n).map { time in d == 1 ? outs[0][time] : Tensor.concat([outs[0][time], outs[1][time]], axis: 1) }
            }
            let padded = seq + Array(repeating: Tensor<Double>.zeros([1, d * o]), count: t - n)
            perSequence.append(Tensor.concat(padded, axis: 0).reshaped([t, 1, d * o]))
        }
        let output = Tensor.concat(perSequence, axis: 1)                  // (T, B, D·O)
        let finalY = Tensor.concat(finals.map { Tensor.concat($0, axis: 0).reshaped([1, b, o]) }, axis: 0)
        return (net.batchFirst ? output.transposed(0, 1) : output, finalY)
    }

    func testFusedJordanMatchesCellLoop() {
        for (name, c) in Self.configs {
            let (net, x, y0) = make(c, seed: 23)
            let y0Used = c.initialY ? y0 : nil
            let leaves = [x, y0] + net.parameters()
            var rng = RandomGenerator(seed: 24)

            func run(_ f: () -> (output: Tensor<Double>, state: Tensor<Double>)) -> (values: [Double], grads: [[Double]]) {
                for l in leaves { l.grad = nil }
                let r = f()
                let wOut = Tensor<Double>.normal(r.output.shape, generator: &rng), wFinal = Tensor<Double>.normal(r.state.shape, generator: &rng)
                ((r.output * wOut).sum() + (r.state * wFinal).sum()).backward()
                return (r.output.scalars + r.state.scalars, leaves.map { $0.grad?.scalars ?? [Double](repeating: 0, count: $0.count) })
            }
            let saved = rng
            let fused = run { net(x, state: y0Used, lengths: c.lengths) }
            rng = saved
            let loop = run { loopReference(net, x, initialY: y0Used, lengths: c.lengths) }
            XCTAssertEqual(fused.values.count, loop.values.count, name)
            let valueError = zip(fused.values, loop.values).map { abs($0 - $1) }.max() ?? 0
            XCTAssertLessThan(valueError, 1e-6, "Jordan [\(name)] outputs")
            for (i, (a, b)) in zip(fused.grads, loop.grads).enumerated() {
                let error = zip(a, b).map { abs($0 - $1) }.max() ?? 0
                XCTAssertLessThan(error, 1e-6, "Jordan [\(name)] gradient of leaf \(i)")
            }
            // Lengths: outputs past a sequence's end are zero.
            if let lengths = c.lengths {
                let out = net(x, state: y0Used, lengths: lengths).output
                let tb = c.batchFirst ? out : out.transposed(0, 1)       // (B, T, D·O)
                for (row, n) in lengths.enumerated() where n < c.steps {
                    XCTAssertTrue(tb.slice(axis: 0, row..<(row + 1)).slice(axis: 1, n..<c.steps).scalars.allSatisfy { $0 == 0 }, name)
                }
            }
        }
    }

    // MARK: module conventions

    func testParameterNamesAndSharedCell() {
        var rng = RandomGenerator(seed: 25)
        let net = Jordan<Float>(inputSize: 5, hiddenSize: 8, outputSize: 3, numLayers: 2, bidirectional: true, generator: &rng)
        let names = net.namedParameters().map(\.name)
        XCTAssertEqual(names.prefix(10), ["weight_ih_l0", "weight_yh_l0", "weight_ho_l0", "bias_ih_l0", "bias_ho_l0",
                                          "weight_ih_l0_reverse", "weight_yh_l0_reverse", "weight_ho_l0_reverse",
                                          "bias_ih_l0_reverse", "bias_ho_l0_reverse"])
        XCTAssertEqual(names.count, 20)
        let shapes = Dictionary(uniqueKeysWithValues: net.namedParameters().map { ($0.name, $0.tensor.shape) })
        XCTAssertEqual(shapes["weight_ih_l0"], [8, 5])
        XCTAssertEqual(shapes["weight_ih_l1_reverse"], [8, 6])
        XCTAssertEqual(shapes["weight_yh_l1"], [8, 3])
        XCTAssertEqual(shapes["weight_ho_l1"], [3, 8])
        XCTAssertEqual(shapes["bias_ho_l0"], [3])
        let cell = net.cell(layer: 1, direction: 1)
        XCTAssertEqual(cell.namedParameters().map(\.name), ["weight_ih", "weight_yh", "weight_ho", "bias_ih", "bias_ho"])
        XCTAssertTrue(cell.weightIH === net.namedParameters().first { $0.name == "weight_ih_l1_reverse" }!.tensor)

        let out = net(Tensor<Float>.ones([7, 2, 5]))
        XCTAssertEqual(out.output.shape, [7, 2, 6])
        XCTAssertEqual(out.state.shape, [4, 2, 3])
    }

    /// Dropout between stacked layers: in train mode layer 1 reads layer 0's output times the mask drawn from
    /// `dropoutGenerator` (PyTorch's inverted dropout); in eval mode nothing is dropped. Only a positive
    /// dropout draws from the caller's generator (one seed, after the weights).
    func testDropoutBetweenLayers() throws {
        var rng = RandomGenerator(seed: 31)
        let net = Jordan<Double>(inputSize: 3, hiddenSize: 5, outputSize: 4, numLayers: 2, dropout: 0.5, bidirectional: true, generator: &rng)
        let x = Tensor<Double>.normal([6, 2, 3], generator: &rng)
        // The same two layers as separate networks, to apply the mask by hand.
        var unused = RandomGenerator(seed: 0)
        let first = Jordan<Double>(inputSize: 3, hiddenSize: 5, outputSize: 4, bidirectional: true, generator: &unused)
        let second = Jordan<Double>(inputSize: 8, hiddenSize: 5, outputSize: 4, bidirectional: true, generator: &unused)
        let named = Dictionary(uniqueKeysWithValues: net.namedParameters().map { ($0.name, $0.tensor) })
        try first.loadParameters(Dictionary(uniqueKeysWithValues: named.filter { $0.key.contains("_l0") }.map { ($0.key, $0.value) }))
        try second.loadParameters(Dictionary(uniqueKeysWithValues: named.filter { $0.key.contains("_l1") }
            .map { ($0.key.replacingOccurrences(of: "_l1", with: "_l0"), $0.value) }))

        var masks = net.dropoutGenerator
        let trained = net(x, lengths: [6, 4])
        let mask: Tensor<Double> = dropoutMask([6, 2, 8], p: 0.5, generator: &masks)
        XCTAssertTrue(mask.scalars.contains(0) && mask.scalars.contains(2), "the mask drops some values and scales the rest by 1/(1 − p)")
        let hidden = first(x, lengths: [6, 4])
        let expected = second(hidden.output * mask, lengths: [6, 4])
        XCTAssertEqual(trained.output.scalars, expected.output.scalars)
        XCTAssertEqual(trained.state.slice(axis: 0, 2..<4).scalars, expected.state.scalars)

        net.eval()
        let evaluated = net(x, lengths: [6, 4])
        XCTAssertEqual(evaluated.output.scalars, second(hidden.output, lengths: [6, 4]).output.scalars)
        XCTAssertNotEqual(evaluated.output.scalars, trained.output.scalars)

        var c = RandomGenerator(seed: 8)
        _ = Jordan<Float>(inputSize: 3, hiddenSize: 4, outputSize: 2, numLayers: 2, dropout: 0.1, generator: &c)
        var d = RandomGenerator(seed: 8)
        _ = Jordan<Float>(inputSize: 3, hiddenSize: 4, outputSize: 2, numLayers: 2, generator: &d)
        _ = d.next()
        XCTAssertEqual(c.next(), d.next(), "a positive dropout draws one seed, after the weights")
    }

    func testFloatAgreesWithDouble() {
        var rng = RandomGenerator(seed: 26)
        let single = Jordan<Float>(inputSize: 3, hiddenSize: 16, outputSize: 4, numLayers: 2, bidirectional: true, generator: &rng)
        rng = RandomGenerator(seed: 26)
        let double = Jordan<Double>(inputSize: 3, hiddenSize: 16, outputSize: 4, numLayers: 2, bidirectional: true, generator: &rng)
        let xd = Tensor<Double>.normal([10, 3, 3], generator: &rng)
        let xf = Tensor<Float>(xd.scalars.map(Float.init), shape: xd.shape)
        let a = single(xf, lengths: [10, 7, 3]), b = double(xd, lengths: [10, 7, 3])
        for (u, v) in zip(a.output.scalars + a.state.scalars, b.output.scalars + b.state.scalars) {
            XCTAssertEqual(Double(u), v, accuracy: 1e-5)
        }
    }

    /// The layer's node keeps its inputs and saved buffers, never its outputs.
    func testLayerGraphIsReleasedAfterBackward() {
        var rng = RandomGenerator(seed: 27)
        let net = Jordan<Double>(inputSize: 3, hiddenSize: 4, outputSize: 2, bidirectional: true, generator: &rng)
        var refs: [WeakReference] = []
        do {
            let x = Tensor<Double>.normal([5, 2, 3], generator: &rng, requiresGrad: true)
            let r = net(x, lengths: [5, 3])
            refs = [WeakReference(r.output), WeakReference(r.state), WeakReference(r.output.gradFn)]
            r.output.backward(Tensor.ones(r.output.shape))
            XCTAssertNotNil(x.grad)
        }
        for (i, ref) in refs.enumerated() { XCTAssertNil(ref.object, "object \(i) outlived its graph") }
    }

    // MARK: torch fixtures

    func testJordanMatchesTorchLoop() throws {
        let doc = try CellFixtures.load("jordan")
        for c in try XCTUnwrap(doc["cases"] as? [[String: Any]]) {
            try runTorchCase(c, Double.self, tolerance: 1e-10)
            try runTorchCase(c, Float.self, tolerance: 1e-5)
        }
    }

    func runTorchCase<S: TensorScalar>(_ c: [String: Any], _: S.Type, tolerance: Double) throws {
        let name = "jordan [\(c["name"] as? String ?? "?")] \(S.self)"
        let config = try XCTUnwrap(c["config"] as? [String: Any], name)
        func int(_ key: String) throws -> Int { try XCTUnwrap(config[key] as? Int, "\(name): \(key)") }
        func bool(_ key: String) throws -> Bool { try XCTUnwrap(config[key] as? Bool, "\(name): \(key)") }
        var rng = RandomGenerator(seed: 0)
        let net = Jordan<S>(inputSize: try int("inputSize"), hiddenSize: try int("hiddenSize"), outputSize: try int("outputSize"),
                            numLayers: try int("numLayers"), bias: try bool("bias"), batchFirst: try bool("batchFirst"),
                            bidirectional: try bool("bidirectional"),
                            activation: try XCTUnwrap(Nonlinearity(rawValue: config["activation"] as? String ?? ""), name),
                            outputActivation: try XCTUnwrap(OutputActivation(rawValue: config["outputActivation"] as? String ?? ""), name),
                            generator: &rng)
        try net.loadParameters(CellFixtures.tensors(c["parameters"], S.self, requiresGrad: false))
        let inputs = try CellFixtures.tensors(c["inputs"], S.self, requiresGrad: true)
        let r = net(try XCTUnwrap(inputs["input"]), state: inputs["initialY"], lengths: config["lengths"] as? [Int])
        try CellFixtures.compareOutputsAndGradients(["output": r.output, "finalY": r.state], inputs: inputs,
                                                    parameters: net.namedParameters(), case: c, name: name, tolerance: tolerance)
    }
}
