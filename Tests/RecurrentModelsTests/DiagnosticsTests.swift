import Foundation
import RecurrentData
@testable import RecurrentModels
import RecurrentNN
import RecurrentTensor
import RecurrentPresentation
@testable import RecurrentTraining
import XCTest

/// A recurrent layer (or Jordan network) and a linear head read at the last step: the smallest model
/// whose ∂L/∂h_t the diagnostics measure.
private final class Probe: Module<Double> {
    let layer: RecurrentLayer<Double>?
    let jordan: Jordan<Double>?
    let head: Linear<Double>

    init(kind: RecurrentCellKind?, input: Int, hidden: Int, layers: Int = 1, bidirectional: Bool = false, generator: inout RandomGenerator) {
        if let kind {
            layer = RecurrentLayer(kind: kind, inputSize: input, hiddenSize: hidden, numLayers: layers, bias: true, batchFirst: false,
                                   dropout: 0, bidirectional: bidirectional, merge: .concat, projSize: 0, generator: &generator)
            jordan = nil
        } else {
            layer = nil
            jordan = Jordan(inputSize: input, hiddenSize: hidden + 1, outputSize: hidden, numLayers: layers, bidirectional: bidirectional,
                            generator: &generator)
        }
        head = Linear(inputSize: hidden * (bidirectional ? 2 : 1), outputSize: 2, generator: &generator)
        super.init()
        if let layer { registerModule("rnn", layer) }
        if let jordan { registerModule("rnn", jordan) }
        registerModule("head", head)
    }

    /// MSE of the head at the last step against `target` (B, 2).
    func loss(_ x: Tensor<Double>, _ target: Tensor<Double>) -> Tensor<Double> {
        let out = layer.map { $0(x).output } ?? jordan!(x).output                 // (T, B, D·H)
        let (T, B) = (x.shape[0], x.shape[1])
        return mseLoss(head(out.slice(axis: 0, (T - 1)..<T).reshaped([B, out.shape[2]])), target)
    }
}

final class DiagnosticsTests: XCTestCase {
    /// ‖∂L/∂h_t‖ from the fused backward equals the norm of central finite differences of L with respect
    /// to h_t, where L is recomputed by stepping cells (sharing the layer's weights) from a perturbed h_t.
    func testStateGradientNormsMatchFiniteDifferences() {
        let (T, B, I, H) = (6, 2, 3, 4)
        for kind in [RecurrentCellKind.rnnTanh, .lstm, .gru, nil] {
            var rng = RandomGenerator(seed: 41)
            let model = Probe(kind: kind, input: I, hidden: H, generator: &rng)
            let x = Tensor<Double>.normal([T, B, I], generator: &rng)
            let target = Tensor<Double>.normal([B, 2], generator: &rng)
            let report = GradientFlow.measure(model: model) { model.loss(x, target) }
            XCTAssertEqual(report.states.map(\.name), ["rnn.l0"])
            XCTAssertEqual(report.steps, T)
            let measured = report.states[0].norms

            // Cells sharing the layer's parameters; `state` is (h, c) or Jordan's y.
            let name = kind.map { "\($0)" } ?? "jordan"
            typealias State = (h: Tensor<Double>, c: Tensor<Double>?)
            let step: (Tensor<Double>, State?) -> State
            switch kind {
            case .lstm?:
                let cell = LSTMCell<Double>(inputSize: I, hiddenSize: H, generator: &rng)
                for (p, q) in zip(cell.parameters(), model.layer!.parameters()) { p.copy(from: q) }
                step = { xt, s in let r = cell(xt, state: s.map { LSTMState(h: $0.h, c: $0.c!) }); return (r.h, r.c) }
            case .gru?:
                let cell = GRUCell<Double>(inputSize: I, hiddenSize: H, generator: &rng)
                for (p, q) in zip(cell.parameters(), model.layer!.parameters()) { p.copy(from: q) }
                step = { xt, s in (cell(xt, state: s?.h), nil) }
            case .rnnTanh?:
                let cell = RNNCell<Double>(inputSize: I, hiddenSize: H, generator: &rng)
                for (p, q) in zip(cell.parameters(), model.layer!.parameters()) { p.copy(from: q) }
                step = { xt, s in (cell(xt, state: s?.h), nil) }
            default:
                let cell = model.jordan!.cell(layer: 0)
                step = { xt, s in (cell(xt, state: s?.h), nil) }
            }
            let xs = (0..<T).map { x.slice(axis: 0, $0..<($0 + 1)).reshaped([B, I]) }
            func lossFrom(_ t: Int, _ state: State) -> Double {
                var s = state
                for u in (t + 1)..<T { s = step(xs[u], s) }
                return mseLoss(model.head(s.h), target).item
            }
            withoutGrad {
                var state: State? = nil
                for t in 0..<T {
                    state = step(xs[t], state)
                    let h = state!.h.clone(), eps = 1e-6
                    var squares = 0.0
                    for i in 0..<h.count {
                        let saved = h.data[i]
                        h.data[i] = saved + eps
                        let plus = lossFrom(t, (h, state!.c))
                        h.data[i] = saved - eps
                        let minus = lossFrom(t, (h, state!.c))
                        h.data[i] = saved
                        squares += ((plus - minus) / (2 * eps)) * ((plus - minus) / (2 * eps))
                    }
                    XCTAssertEqual(measured[t], squares.squareRoot(), accuracy: 1e-7 * max(1, squares.squareRoot()), "\(name) t=\(t)")
                }
            }
            XCTAssertGreaterThan(measured[T - 1], 0, name)
        }
    }

    /// Stacked and bidirectional layers: one series per layer and direction, the loss's own gradients kept.
    func testReportNamesEveryLayerAndDirection() {
        var rng = RandomGenerator(seed: 3)
        for kind in [RecurrentCellKind.gru, nil] {
            let model = Probe(kind: kind, input: 2, hidden: 3, layers: 2, bidirectional: true, generator: &rng)
            let x = Tensor<Double>.normal([5, 2, 2], generator: &rng), target = Tensor<Double>.normal([2, 2], generator: &rng)
            let report = GradientFlow.measure(model: model, singularValueCount: 2) { model.loss(x, target) }
            XCTAssertEqual(report.states.map(\.name), ["rnn.l0", "rnn.l0_reverse", "rnn.l1", "rnn.l1_reverse"])
            XCTAssertTrue(report.states.allSatisfy { $0.norms.count == 5 })
            XCTAssertTrue(report.states.prefix(3).allSatisfy { $0.norms.allSatisfy { $0 > 0 } })
            // The loss reads the last layer's reverse direction only at t = T − 1, its first step: nothing flows to later steps.
            XCTAssertEqual(report.states[3].norms.prefix(4).map { $0 }, [0, 0, 0, 0])
            XCTAssertGreaterThan(report.states[3].norms[4], 0)
            XCTAssertEqual(report.parameters.map(\.name), model.namedParameters().map(\.name))
            for (p, named) in zip(report.parameters, model.namedParameters()) {
                let expected = named.tensor.grad!.scalars.reduce(0) { $0 + $1 * $1 }.squareRoot()
                XCTAssertEqual(p.norm, expected, accuracy: 1e-12, p.name)
            }
            XCTAssertFalse(model.layer?.recordsHiddenGradientNorms ?? model.jordan!.recordsHiddenGradientNorms, "recording switched back off")
            if kind == .gru {
                XCTAssertEqual(report.singularValues.map(\.name).prefix(4), ["rnn.weight_hh_l0", "rnn.weight_hh_l0[r]", "rnn.weight_hh_l0[z]", "rnn.weight_hh_l0[n]"])
            } else {
                XCTAssertTrue(report.singularValues.map(\.name).contains("rnn.weight_ho_l1_reverse·weight_yh_l1_reverse"))
            }
            let csv = report.stateGradientsCSV.split(separator: "\n")
            XCTAssertEqual(csv.first, "t,distance,rnn.l0,rnn.l0_reverse,rnn.l1,rnn.l1_reverse")
            XCTAssertEqual(csv.count, 6)
            XCTAssertTrue(csv[1].hasPrefix("0,4,"))
        }
    }

    /// Power iteration against matrices whose singular values are known in closed form.
    func testSingularValuesMatchDirectComputation() {
        var rng = RandomGenerator(seed: 8)
        // 2×2: σ² are the eigenvalues of AᵀA, from the quadratic formula.
        for _ in 0..<5 {
            let a = Tensor<Double>.normal([2, 2], generator: &rng)
            let (p, q, r, s) = (a[0, 0], a[0, 1], a[1, 0], a[1, 1])
            let sumSquares = p * p + q * q + r * r + s * s, det = p * s - q * r
            let root = (sumSquares * sumSquares - 4 * det * det).squareRoot()
            let expected = [((sumSquares + root) / 2).squareRoot(), ((sumSquares - root) / 2).squareRoot()]
            let measured = largestSingularValues(of: a, count: 2)
            for (m, e) in zip(measured, expected) { XCTAssertEqual(m, e, accuracy: 1e-9 * max(1, e)) }
        }
        // 5×4 = U·diag(s)·Vᵀ with U, V Householder reflections (orthogonal by construction).
        func householder(_ n: Int) -> [[Double]] {
            let v = (0..<n).map { _ in rng.nextNormal(Double.self) }
            let vv = v.reduce(0) { $0 + $1 * $1 }
            return (0..<n).map { i in (0..<n).map { j in (i == j ? 1 : 0) - 2 * v[i] * v[j] / vv } }
        }
        let sigma = [3.0, 2.0, 0.5, 0.125]
        let (u, v) = (householder(5), householder(4))
        var entries: [Double] = []
        for i in 0..<5 { for j in 0..<4 { entries.append((0..<4).reduce(0) { $0 + u[i][$1] * sigma[$1] * v[j][$1] }) } }
        let m = Tensor<Double>(entries, shape: [5, 4])
        for (measured, expected) in zip(largestSingularValues(of: m, count: 4), sigma) { XCTAssertEqual(measured, expected, accuracy: 1e-9) }
        // Its transpose has the same values; Float input is computed in Double.
        let floatM = Tensor<Float>(entries.map(Float.init), shape: [5, 4]).transposed(0, 1)
        XCTAssertEqual(largestSingularValues(of: floatM, count: 1)[0], 3, accuracy: 1e-5)
        // Rank 1: the second value is 0.
        let rankOne = Tensor<Double>([1, 2, 2, 4], shape: [2, 2])
        let values = largestSingularValues(of: rankOne, count: 2)
        XCTAssertEqual(values[0], 5, accuracy: 1e-12)
        XCTAssertEqual(values[1], 0, accuracy: 1e-9)
    }

    /// The vanishing gradient itself: at initialisation a tanh RNN's ‖∂L/∂h_t‖ falls by orders of
    /// magnitude over 60 steps of the adding problem, an LSTM's far less.
    func testTanhRNNGradientVanishesFasterThanLSTM() throws {
        var decay: [CellKind: Double] = [:]
        for cell in [CellKind.rnn, .lstm] {
            let model = MemoryTaskModel(MemoryTaskConfig(task: .adding, cell: cell, hiddenSize: 16, lag: 61), seed: 1)
            var rng = RandomGenerator(seed: 2)
            let batch = MemoryTaskBatch(model.task, size: 8, generator: &rng)
            let report = GradientFlow.measure(model: model) { model.lastStepLoss(batch) }
            decay[cell] = report.decay(report.states[0], distance: 60)
        }
        XCTAssertLessThan(decay[.rnn]!, 1e-3)
        XCTAssertGreaterThan(decay[.lstm]!, 100 * decay[.rnn]!)
    }

    func testLogScaleChart() {
        var chart = LineChart(title: "t", xLabel: "x", yLabel: "y", series: [(name: "a", points: [(0, 1e-4), (1, 0.5), (2, 0), (3, 20)])])
        chart.logScaleY = true
        let svg = chart.svg()
        for tick in ["1e-4", "1e-2", "1e0", "1e2"] { XCTAssertTrue(svg.contains(">\(tick)<"), tick) }
        let polyline = svg.components(separatedBy: "points=\"")[1].components(separatedBy: "\"")[0]
        XCTAssertEqual(polyline.split(separator: " ").count, 3, "y = 0 cannot be drawn on a log axis")
    }

    /// The trainer logs how many updates clipping scaled down, and diagnose reads it back.
    func testTrainerRecordsClipping() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("recurrent-clip-\(UInt64.random(in: 0...UInt64.max))")
        defer { try? FileManager.default.removeItem(at: folder) }
        let config = MemoryTaskConfig(task: .copy, cell: .gru, hiddenSize: 4, lag: 2, symbols: 3, copyLength: 2)
        // (clip-norm, clip-value, clipped updates): a tiny threshold clips every update, a huge one or none clips nothing.
        for (clip, value, expected) in [(1e-4, 0.0, 6), (1e4, 0.0, 0), (0, 1e-6, 6), (0, 0, 0)] {
            let run = folder.appendingPathComponent("\(clip)-\(value)")
            let trainer = try memoryTrainer(config, seed: 1, steps: 6, evaluateEvery: 4, batch: 4, validationSize: 8, out: run) {
                $0.clipNorm = clip
                $0.update.clipValue = value
            }
            let result = try XCTUnwrap(try trainer.run().report)
            XCTAssertEqual(result.clippedSteps, expected)
            XCTAssertEqual(result.steps, 6)
            XCTAssertNotNil(result.validationAccuracy)
            let history = try XCTUnwrap(ClippingHistory.read(folder: run))
            XCTAssertEqual(history.intervals.map(\.step), [4, 6])
            XCTAssertEqual(history.clippedSteps, expected)
            XCTAssertEqual(history.totalSteps, 6)
            let reloaded = try MemoryTaskModel.load(from: run.appendingPathComponent("last.safetensors"))
            XCTAssertEqual(reloaded.config, config)
        }
        XCTAssertNil(try ClippingHistory.read(folder: folder))
    }
}

/// The experiment drivers behind docs/GRADIENTS.md, on budgets small enough for a unit test.
final class MemoryExperimentTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("recurrent-experiment-\(UInt64.random(in: 0...UInt64.max))")
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    func testSweepWritesTableCSVAndPictures() throws {
        let training = options(MemoryTaskTraining.defaultOptions, .steps(3, evaluateEvery: 3), batch: 4)
        let sweep = MemorySweep(cells: [.rnn, .jordan], lags: [4, 6], hiddenSize: 3, training: training, settings: .init(validationSize: 4), folder: folder)
        try sweep.validate()
        var lines: [String] = []
        let entries = try sweep.run { lines.append($0) }
        XCTAssertEqual(entries.map { "\($0.cell)\($0.lag)" }, ["rnn4", "jordan4", "rnn6", "jordan6"])
        XCTAssertEqual(lines.count, 4)
        XCTAssertTrue(entries.allSatisfy { $0.result.steps == 3 && $0.decayAtInit.count == $0.lag && $0.decayTrained.first == 1 })
        let csv = try String(contentsOf: folder.appendingPathComponent("results.csv"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(csv.count, 5)
        let table = try String(contentsOf: folder.appendingPathComponent("table.md"), encoding: .utf8)
        XCTAssertTrue(table.hasPrefix("| cell | lag 4 | lag 6 |\n"), table)
        XCTAssertTrue(table.contains(String(format: "| rnn | %.4f | %.4f |", entries[0].result.validationLoss, entries[2].result.validationLoss)), table)
        for name in ["mse_vs_lag.svg", "gradients_lag4.svg", "gradients_init_lag6.svg", "rnn_lag4/metrics.csv", "jordan_lag6/best.safetensors"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent(name).path), name)
        }
        XCTAssertThrowsError(try MemorySweep(cells: [], lags: [4], hiddenSize: 3, training: training, folder: folder).validate())
        XCTAssertThrowsError(try MemorySweep(cells: [.rnn], lags: [1], hiddenSize: 3, training: training, folder: folder).validate())
    }

    /// An absurd SGD step diverges without clipping and not with it: the mechanism of the documented demo.
    func testClippingDemoDivergesOnlyWithoutClipping() throws {
        let training = options(MemoryTaskTraining.defaultOptions, .steps(30, evaluateEvery: 10), batch: 8) {
            $0.update = UpdateRule(optimizer: .sgd)
            $0.learningRate = 1e4
        }
        let config = MemoryTaskConfig(task: .adding, cell: .rnn, hiddenSize: 8, lag: 6, initRadius: 3)
        let (unclipped, clipped) = try ClippingDemo(config: config, training: training, clipNorm: 1e-4, folder: folder).run()
        XCTAssertNotNil(unclipped.divergedAtStep)
        XCTAssertNil(clipped.divergedAtStep)
        XCTAssertEqual(clipped.steps, 30)
        XCTAssertEqual(clipped.clippedSteps, 30)
        let svg = try String(contentsOf: folder.appendingPathComponent("clipping.svg"), encoding: .utf8)
        XCTAssertEqual(svg.components(separatedBy: "<polyline").count - 1, 2)
        XCTAssertTrue(svg.contains("NaN at step \(unclipped.divergedAtStep!)"))
    }
}
