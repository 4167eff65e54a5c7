import Foundation
import XCTest
@testable import RecurrentNN
import RecurrentTensor

/// RNNCell, LSTMCell, GRUCell: finite-difference gradient checks (Double, through several steps so
/// the state's gradient is exercised), and values and gradients against PyTorch from the fixtures
/// `Scripts/make_cell_fixtures.py` writes to Tests/Fixtures/cells/.
final class CellTests: XCTestCase {
    // MARK: gradient checks

    /// Steps `step` over x (T, B, I) from `state`, returning every step's outputs concatenated.
    func unroll(_ x: Tensor<Double>, _ step: (Tensor<Double>) -> Tensor<Double>) -> Tensor<Double> {
        let (t, b, i) = (x.shape[0], x.shape[1], x.shape[2])
        return Tensor.concat((0..<t).map { step(x.slice(axis: 0, $0..<($0 + 1)).reshaped([b, i])) }, axis: 0)
    }

    func testRNNCellGradients() {
        for nonlinearity in Nonlinearity.allCases {
            for bias in [true, false] {
                for withState in [true, false] {
                    var rng = RandomGenerator(seed: 11)
                    let cell = RNNCell<Double>(inputSize: 3, hiddenSize: 4, bias: bias, nonlinearity: nonlinearity, generator: &rng)
                    let x = Tensor<Double>.normal([3, 2, 3], generator: &rng, requiresGrad: true)
                    let h0 = Tensor<Double>.normal([2, 4], generator: &rng, requiresGrad: true)
                    let inputs = [x] + (withState ? [h0] : []) + cell.parameters()
                    let result = gradientCheck(inputs) { v in
                        var h: Tensor<Double>? = withState ? v[1] : nil
                        return self.unroll(v[0]) { xt in h = cell(xt, state: h); return h! }
                    }
                    XCTAssertLessThan(result.maxError, 1e-7, "RNNCell \(nonlinearity) bias \(bias) state \(withState): \(result)")
                }
            }
        }
    }

    func testLSTMCellGradients() {
        for bias in [true, false] {
            for withState in [true, false] {
                var rng = RandomGenerator(seed: 12)
                let cell = LSTMCell<Double>(inputSize: 3, hiddenSize: 4, bias: bias, generator: &rng)
                let x = Tensor<Double>.normal([3, 2, 3], generator: &rng, requiresGrad: true)
                let h0 = Tensor<Double>.normal([2, 4], generator: &rng, requiresGrad: true)
                let c0 = Tensor<Double>.normal([2, 4], generator: &rng, requiresGrad: true)
                let inputs = [x] + (withState ? [h0, c0] : []) + cell.parameters()
                // Both outputs of every step.
                let both = gradientCheck(inputs) { v in
                    var state: LSTMState<Double>? = withState ? LSTMState(h: v[1], c: v[2]) : nil
                    return self.unroll(v[0]) { xt in
                        let s = cell(xt, state: state)
                        state = s
                        return Tensor.concat([s.h, s.c], axis: 1)
                    }
                }
                XCTAssertLessThan(both.maxError, 1e-7, "LSTMCell bias \(bias) state \(withState): \(both)")
                // Only the last h: the last c′ gets no gradient (a nil output gradient in the node).
                let lastH = gradientCheck(inputs) { v in
                    var state: LSTMState<Double>? = withState ? LSTMState(h: v[1], c: v[2]) : nil
                    for t in 0..<3 { state = cell(v[0].slice(axis: 0, t..<(t + 1)).reshaped([2, 3]), state: state) }
                    return state!.h
                }
                XCTAssertLessThan(lastH.maxError, 1e-7, "LSTMCell last h, bias \(bias) state \(withState): \(lastH)")
            }
        }
    }

    func testGRUCellGradients() {
        for resetAfter in [true, false] {
            for bias in [true, false] {
                for withState in [true, false] {
                    var rng = RandomGenerator(seed: 13)
                    let cell = GRUCell<Double>(inputSize: 3, hiddenSize: 4, bias: bias, resetAfter: resetAfter, generator: &rng)
                    let x = Tensor<Double>.normal([3, 2, 3], generator: &rng, requiresGrad: true)
                    let h0 = Tensor<Double>.normal([2, 4], generator: &rng, requiresGrad: true)
                    let inputs = [x] + (withState ? [h0] : []) + cell.parameters()
                    let result = gradientCheck(inputs) { v in
                        var h: Tensor<Double>? = withState ? v[1] : nil
                        return self.unroll(v[0]) { xt in h = cell(xt, state: h); return h! }
                    }
                    XCTAssertLessThan(result.maxError, 1e-7, "GRUCell resetAfter \(resetAfter) bias \(bias) state \(withState): \(result)")
                }
            }
        }
    }

    /// The two GRU variants are different functions (same parameters, different n).
    func testGRUVariantsDiffer() {
        var rng = RandomGenerator(seed: 14)
        let after = GRUCell<Double>(inputSize: 3, hiddenSize: 4, resetAfter: true, generator: &rng)
        var rng2 = RandomGenerator(seed: 14)
        let before = GRUCell<Double>(inputSize: 3, hiddenSize: 4, resetAfter: false, generator: &rng2)
        let x = Tensor<Double>.normal([2, 3], generator: &rng), h = Tensor<Double>.normal([2, 4], generator: &rng)
        let difference = zip(after(x, state: h).scalars, before(x, state: h).scalars).map { abs($0 - $1) }.max()!
        XCTAssertGreaterThan(difference, 1e-3)
    }

    // MARK: module conventions

    func testParameterNamesShapesAndInitialisation() {
        var rng = RandomGenerator(seed: 15)
        let lstm = LSTMCell<Float>(inputSize: 5, hiddenSize: 16, generator: &rng)
        XCTAssertEqual(lstm.namedParameters().map(\.name), ["weight_ih", "weight_hh", "bias_ih", "bias_hh"])
        XCTAssertEqual(lstm.namedParameters().map(\.tensor.shape), [[64, 5], [64, 16], [64], [64]])
        XCTAssertTrue(lstm.parameters().allSatisfy { $0.scalars.allSatisfy { abs($0) <= 0.25 } })
        let gru = GRUCell<Float>(inputSize: 5, hiddenSize: 16, bias: false, generator: &rng)
        XCTAssertEqual(gru.namedParameters().map(\.name), ["weight_ih", "weight_hh"])
        XCTAssertEqual(gru.namedParameters().map(\.tensor.shape), [[48, 5], [48, 16]])
        let rnn = RNNCell<Float>(inputSize: 5, hiddenSize: 16, nonlinearity: .relu, generator: &rng)
        XCTAssertEqual(rnn.namedParameters().map(\.tensor.shape), [[16, 5], [16, 16], [16], [16]])
    }

    /// A frozen bias (requiresGrad off) still gets a slot in the node's gradient list.
    func testFrozenParametersAndNoGrad() {
        var rng = RandomGenerator(seed: 16)
        for resetAfter in [true, false] {
            let cell = GRUCell<Double>(inputSize: 3, hiddenSize: 4, resetAfter: resetAfter, generator: &rng)
            cell.biasIH!.requiresGrad = false
            cell.weightHH.requiresGrad = false
            let x = Tensor<Double>.normal([2, 3], generator: &rng, requiresGrad: true)
            let h = Tensor<Double>.normal([2, 4], generator: &rng)
            cell(x, state: h).sum().backward()
            XCTAssertNil(cell.biasIH!.grad)
            XCTAssertNil(cell.weightHH.grad)
            XCTAssertNotNil(cell.weightIH.grad)
            XCTAssertNotNil(x.grad)
        }
        let lstm = LSTMCell<Double>(inputSize: 3, hiddenSize: 4, generator: &rng)
        let out = withoutGrad { lstm(Tensor<Double>.ones([1, 3])) }
        XCTAssertNil(out.h.gradFn)
        XCTAssertNil(out.c.gradFn)
    }

    /// The cell's node is the same function as the formula written with autograd ops.
    func testLSTMCellMatchesComposedOps() {
        var rng = RandomGenerator(seed: 17)
        let cell = LSTMCell<Double>(inputSize: 3, hiddenSize: 2, generator: &rng)
        let x = Tensor<Double>.normal([4, 3], generator: &rng)
        let h = Tensor<Double>.normal([4, 2], generator: &rng), c = Tensor<Double>.normal([4, 2], generator: &rng)
        let fused = cell(x, state: LSTMState(h: h, c: c))
        let gates = x.matmul(cell.weightIH, transposeOther: true) + cell.biasIH! + h.matmul(cell.weightHH, transposeOther: true) + cell.biasHH!
        func block(_ k: Int) -> Tensor<Double> { gates.slice(axis: 1, (2 * k)..<(2 * k + 2)) }
        let cNext = block(1).sigmoid() * c + block(0).sigmoid() * block(2).tanh()
        let hNext = block(3).sigmoid() * cNext.tanh()
        for (a, b) in zip(fused.h.scalars + fused.c.scalars, hNext.scalars + cNext.scalars) { XCTAssertEqual(a, b, accuracy: 1e-14) }
    }

    /// A step's node keeps its inputs, never its own outputs: the graph is freed once the outputs go.
    func testStepGraphIsReleasedAfterBackward() {
        var rng = RandomGenerator(seed: 18)
        let lstm = LSTMCell<Double>(inputSize: 3, hiddenSize: 2, generator: &rng)
        let gru = GRUCell<Double>(inputSize: 3, hiddenSize: 2, resetAfter: false, generator: &rng)
        let rnn = RNNCell<Double>(inputSize: 3, hiddenSize: 2, generator: &rng)
        var weakRefs: [WeakReference] = []
        do {
            let x = Tensor<Double>.normal([2, 3], generator: &rng, requiresGrad: true)
            let s = lstm(x, state: nil)
            let g = gru(x, state: s.h)
            let r = rnn(x, state: g)
            for t in [s.h, s.c, g, r] { weakRefs += [WeakReference(t), WeakReference(t.gradFn)] }
            r.backward(Tensor.ones([2, 2]))
            XCTAssertNotNil(x.grad)
        }
        for (i, ref) in weakRefs.enumerated() { XCTAssertNil(ref.object, "object \(i) outlived its graph") }
    }

    // MARK: PyTorch fixtures

    func testRNNCellMatchesPyTorch() throws { try checkCellFixtures("rnn_cell") }
    func testLSTMCellMatchesPyTorch() throws { try checkCellFixtures("lstm_cell") }
    func testGRUCellMatchesPyTorch() throws { try checkCellFixtures("gru_cell") }

    func checkCellFixtures(_ file: String) throws {
        let doc = try CellFixtures.load(file)
        for c in try XCTUnwrap(doc["cases"] as? [[String: Any]]) {
            try runCellCase(file, c, Double.self, tolerance: 1e-10)
            try runCellCase(file, c, Float.self, tolerance: 1e-5)
        }
    }

    func runCellCase<S: TensorScalar>(_ file: String, _ c: [String: Any], _: S.Type, tolerance: Double) throws {
        let name = "\(file) [\(c["name"] as? String ?? "?")] \(S.self)"
        let config = try XCTUnwrap(c["config"] as? [String: Any], name)
        let inputSize = try XCTUnwrap(config["inputSize"] as? Int), hidden = try XCTUnwrap(config["hiddenSize"] as? Int)
        let bias = try XCTUnwrap(config["bias"] as? Bool)
        var rng = RandomGenerator(seed: 0)
        let inputs = try CellFixtures.tensors(c["inputs"], S.self, requiresGrad: true)
        let x = try XCTUnwrap(inputs["x"], name)
        let (t, b) = (x.shape[0], x.shape[1])
        func step(_ s: Int) -> Tensor<S> { x.slice(axis: 0, s..<(s + 1)).reshaped([b, inputSize]) }

        let module: Module<S>
        var outputs: [String: Tensor<S>] = [:]
        switch file {
        case "rnn_cell":
            let nonlinearity = try XCTUnwrap(Nonlinearity(rawValue: config["nonlinearity"] as? String ?? ""), name)
            let cell = RNNCell<S>(inputSize: inputSize, hiddenSize: hidden, bias: bias, nonlinearity: nonlinearity, generator: &rng)
            try cell.loadParameters(CellFixtures.tensors(c["parameters"], S.self, requiresGrad: false))
            var h = inputs["h0"]
            outputs["h"] = Tensor.concat((0..<t).map { s in h = cell(step(s), state: h); return h!.reshaped([1, b, hidden]) }, axis: 0)
            module = cell
        case "lstm_cell":
            let cell = LSTMCell<S>(inputSize: inputSize, hiddenSize: hidden, bias: bias, generator: &rng)
            try cell.loadParameters(CellFixtures.tensors(c["parameters"], S.self, requiresGrad: false))
            var state = inputs["h0"].map { LSTMState(h: $0, c: inputs["c0"]!) }
            var hs: [Tensor<S>] = [], cs: [Tensor<S>] = []
            for s in 0..<t {
                let next = cell(step(s), state: state)
                state = next
                hs.append(next.h.reshaped([1, b, hidden]))
                cs.append(next.c.reshaped([1, b, hidden]))
            }
            outputs["h"] = Tensor.concat(hs, axis: 0)
            outputs["c"] = Tensor.concat(cs, axis: 0)
            module = cell
        default:
            let resetAfter = try XCTUnwrap(config["resetAfter"] as? Bool)
            let cell = GRUCell<S>(inputSize: inputSize, hiddenSize: hidden, bias: bias, resetAfter: resetAfter, generator: &rng)
            try cell.loadParameters(CellFixtures.tensors(c["parameters"], S.self, requiresGrad: false))
            var h = inputs["h0"]
            outputs["h"] = Tensor.concat((0..<t).map { s in h = cell(step(s), state: h); return h!.reshaped([1, b, hidden]) }, axis: 0)
            module = cell
        }
        try CellFixtures.compareOutputsAndGradients(outputs, inputs: inputs, parameters: module.namedParameters(), case: c,
                                                    name: name, tolerance: tolerance)
    }
}

struct WeakReference {
    weak var object: AnyObject?
    init(_ object: AnyObject?) { self.object = object }
}

/// Reading the JSON fixtures of Tests/Fixtures/cells/ (Foundation only).
enum CellFixtures {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // Tests/RecurrentNNTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // repository root
        .appendingPathComponent("Tests/Fixtures/cells")

    static func load(_ name: String) throws -> [String: Any] {
        let url = directory.appendingPathComponent("\(name).json")
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url))
        let doc = try XCTUnwrap(object as? [String: Any], "\(url.path): not a JSON object")
        XCTAssertEqual(doc["generator"] as? String, "Scripts/make_cell_fixtures.py")
        XCTAssertNotNil(doc["torch"] as? String, "\(name).json does not say which torch made it")
        XCTAssertFalse((doc["cases"] as? [Any] ?? []).isEmpty, "\(name).json has no cases")
        return doc
    }

    static func tensor<S: TensorScalar>(_ spec: Any?, _: S.Type, requiresGrad: Bool) throws -> Tensor<S> {
        let dict = try XCTUnwrap(spec as? [String: Any], "tensor spec is not an object")
        let shape = try XCTUnwrap(dict["shape"] as? [Int], "tensor spec without shape")
        let data = try XCTUnwrap(dict["data"] as? [Any], "tensor spec without data")
        let values = try data.map { try S(XCTUnwrap(($0 as? NSNumber)?.doubleValue, "non-numeric tensor element")) }
        return Tensor(values, shape: shape, requiresGrad: requiresGrad)
    }

    static func tensors<S: TensorScalar>(_ spec: Any?, _: S.Type, requiresGrad: Bool) throws -> [String: Tensor<S>] {
        let dict = try XCTUnwrap(spec as? [String: Any], "tensor map is not an object")
        return try dict.mapValues { try tensor($0, S.self, requiresGrad: requiresGrad) }
    }

    static func assertClose<S: TensorScalar>(_ got: Tensor<S>?, _ expected: Any?, _ what: String, _ tolerance: Double,
                                             file: StaticString = #filePath, line: UInt = #line) throws {
        let want = try tensor(expected, Double.self, requiresGrad: false)
        let got = try XCTUnwrap(got, "\(what): missing", file: file, line: line)
        XCTAssertEqual(got.shape, want.shape, "\(what): shape", file: file, line: line)
        guard got.shape == want.shape else { return }
        var worst = 0.0
        for (a, b) in zip(got.scalars, want.scalars) { worst = max(worst, abs(Double(a) - b) / max(1, abs(b))) }
        XCTAssertLessThanOrEqual(worst, tolerance, "\(what): max error \(worst)", file: file, line: line)
    }

    /// Compares `outputs` with the case's, backpropagates Σ outputs ⊙ weights, compares the gradients
    /// of the inputs and of the parameters (by name) with the case's.
    static func compareOutputsAndGradients<S: TensorScalar>(
        _ outputs: [String: Tensor<S>], inputs: [String: Tensor<S>], parameters: [(name: String, tensor: Tensor<S>)],
        case c: [String: Any], name: String, tolerance: Double
    ) throws {
        let expectedOutputs = try XCTUnwrap(c["outputs"] as? [String: Any], name)
        XCTAssertEqual(Set(outputs.keys), Set(expectedOutputs.keys), "\(name): output names")
        let weights = try tensors(c["weights"], S.self, requiresGrad: false)
        var loss: Tensor<S>?
        for (key, out) in outputs.sorted(by: { $0.key < $1.key }) {
            try assertClose(out, expectedOutputs[key], "\(name) output \(key)", tolerance)
            let term = try (out * XCTUnwrap(weights[key], "\(name): no weight for \(key)")).sum()
            loss = loss.map { $0 + term } ?? term
        }
        for (_, p) in parameters { p.zeroGrad() }
        try XCTUnwrap(loss).backward()
        let grads = try XCTUnwrap(c["grads"] as? [String: Any], name)
        for (key, x) in inputs { try assertClose(x.grad ?? Tensor.zeros(x.shape), grads[key], "\(name) ∂/∂\(key)", tolerance) }
        XCTAssertEqual(Set(grads.keys), Set(inputs.keys).union(parameters.map(\.name)), "\(name): gradient names")
        for (key, p) in parameters { try assertClose(p.grad, grads[key], "\(name) ∂/∂\(key)", tolerance) }
    }
}
