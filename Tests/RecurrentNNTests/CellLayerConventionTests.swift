import XCTest
@testable import RecurrentNN
import RecurrentTensor

/// One calling convention and one state type per recurrence, for cells and layers alike; the lengths
/// rule (0...T) at its boundaries; constructors with a default initialisation.
final class CellLayerConventionTests: XCTestCase {
    // MARK: default constructors

    /// `seed:` (default 0) is the `generator:` constructor over a generator seeded with it: the same values,
    /// so seeded models built the old way keep their weights bit for bit.
    func testDefaultConstructorsEqualTheSeededGeneratorOnes() {
        func same(_ a: Module<Float>, _ b: Module<Float>, _ name: String) {
            XCTAssertEqual(a.namedParameters().map(\.name), b.namedParameters().map(\.name), name)
            XCTAssertEqual(a.parameters().map(\.scalars), b.parameters().map(\.scalars), name)
        }
        for seed: UInt64 in [0, 9] {
            func g() -> RandomGenerator { RandomGenerator(seed: seed) }
            var r = g()
            same(LSTM(inputSize: 3, hiddenSize: 5, numLayers: 2, bidirectional: true, projSize: 2, seed: seed),
                 LSTM(inputSize: 3, hiddenSize: 5, numLayers: 2, bidirectional: true, projSize: 2, generator: &r), "LSTM")
            r = g(); same(GRU(inputSize: 3, hiddenSize: 5, resetAfter: false, seed: seed), GRU(inputSize: 3, hiddenSize: 5, resetAfter: false, generator: &r), "GRU")
            r = g(); same(RNN(inputSize: 3, hiddenSize: 5, nonlinearity: .relu, seed: seed), RNN(inputSize: 3, hiddenSize: 5, nonlinearity: .relu, generator: &r), "RNN")
            r = g(); same(RecurrentLayer(kind: .gru, inputSize: 3, hiddenSize: 5, seed: seed), RecurrentLayer(kind: .gru, inputSize: 3, hiddenSize: 5, generator: &r), "RecurrentLayer")
            r = g(); same(Jordan(inputSize: 3, hiddenSize: 5, outputSize: 2, numLayers: 2, seed: seed),
                          Jordan(inputSize: 3, hiddenSize: 5, outputSize: 2, numLayers: 2, generator: &r), "Jordan")
            r = g(); same(LSTMCell(inputSize: 3, hiddenSize: 5, seed: seed), LSTMCell(inputSize: 3, hiddenSize: 5, generator: &r), "LSTMCell")
            r = g(); same(GRUCell(inputSize: 3, hiddenSize: 5, seed: seed), GRUCell(inputSize: 3, hiddenSize: 5, generator: &r), "GRUCell")
            r = g(); same(RNNCell(inputSize: 3, hiddenSize: 5, seed: seed), RNNCell(inputSize: 3, hiddenSize: 5, generator: &r), "RNNCell")
            r = g(); same(JordanCell(inputSize: 3, hiddenSize: 5, outputSize: 2, seed: seed),
                          JordanCell(inputSize: 3, hiddenSize: 5, outputSize: 2, generator: &r), "JordanCell")
            r = g(); same(Linear(inputSize: 3, outputSize: 4, seed: seed), Linear(inputSize: 3, outputSize: 4, generator: &r), "Linear")
            r = g(); same(Embedding(vocabularySize: 6, dimension: 3, paddingIndex: 1, seed: seed),
                          Embedding(vocabularySize: 6, dimension: 3, paddingIndex: 1, generator: &r), "Embedding")
            r = g(); same(Attention(kind: .bahdanau, querySize: 4, keySize: 3, attentionSize: 5, seed: seed),
                          Attention(kind: .bahdanau, querySize: 4, keySize: 3, attentionSize: 5, generator: &r), "Attention")
        }
    }

    /// PyTorch's initialisation: every recurrent weight and bias in U(−1/√H, 1/√H), filling the range;
    /// Linear in U(−1/√I, 1/√I); Embedding N(0, 1).
    func testDefaultInitialisationIsPyTorchs() {
        let H = 16, bound: Float = 0.25
        let modules: [(String, Module<Float>)] = [
            ("LSTM", LSTM<Float>(inputSize: 8, hiddenSize: H, numLayers: 2)), ("GRU", GRU<Float>(inputSize: 8, hiddenSize: H)),
            ("RNN", RNN<Float>(inputSize: 8, hiddenSize: H)), ("LSTMCell", LSTMCell<Float>(inputSize: 8, hiddenSize: H)),
            ("GRUCell", GRUCell<Float>(inputSize: 8, hiddenSize: H)), ("RNNCell", RNNCell<Float>(inputSize: 8, hiddenSize: H)),
            ("Jordan", Jordan<Float>(inputSize: 8, hiddenSize: H, outputSize: 4)),
            ("Linear", Linear<Float>(inputSize: H, outputSize: 8)),
        ]
        for (name, module) in modules {
            let all = module.parameters().flatMap(\.scalars)
            XCTAssertTrue(all.allSatisfy { abs($0) <= bound }, "\(name): a value outside ±1/√\(H)")
            XCTAssertGreaterThan(all.max()!, 0.9 * bound, name)
            XCTAssertLessThan(all.min()!, -0.9 * bound, name)
            XCTAssertEqual(all.reduce(0, +) / Float(all.count), 0, accuracy: 0.05, name)
        }
        let values = Embedding<Double>(vocabularySize: 100, dimension: 50).weight.scalars
        let mean = values.reduce(0, +) / Double(values.count)
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)
        XCTAssertEqual(mean, 0, accuracy: 0.05)
        XCTAssertEqual(variance, 1, accuracy: 0.05)
        let linear = Linear<Float>(inputSize: 3, outputSize: 7)
        XCTAssertEqual([linear.inputSize, linear.outputSize], [3, 7])
        XCTAssertEqual(linear.weight.shape, [7, 3])
    }

    // MARK: one convention, one state type

    /// Each typed layer over T = 1 equals its cell's one step, both called `(x, state:)`, with the same
    /// state type; over T steps, `cell.unroll(input, state:)` equals `layer(input, state:)`.
    func testCellAndLayerAgreeThroughTheSameConvention() {
        let (T, B, I, H) = (4, 3, 2, 5)
        var rng = RandomGenerator(seed: 61)
        let x = Tensor<Double>.normal([T, B, I], generator: &rng)
        let x0 = x.slice(axis: 0, 0..<1)                                       // (1, B, I)
        let h0 = Tensor<Double>.normal([B, H], generator: &rng), c0 = Tensor<Double>.normal([B, H], generator: &rng)
        func close(_ a: Tensor<Double>, _ b: Tensor<Double>, _ what: String) {
            XCTAssertEqual(a.count, b.count, what)
            for (u, v) in zip(a.scalars, b.scalars) { XCTAssertEqual(u, v, accuracy: 1e-12, what) }
        }
        func stacked(_ t: Tensor<Double>) -> Tensor<Double> { t.reshaped([1, B, -1]) }  // a cell's (B, ·) as a layer's (1, B, ·)

        let lstm = LSTM<Double>(inputSize: I, hiddenSize: H, seed: 1), lstmCell = LSTMCell<Double>(inputSize: I, hiddenSize: H)
        for (p, q) in zip(lstmCell.parameters(), lstm.parameters()) { p.copy(from: q) }
        let cellState: LSTMState<Double> = lstmCell(x0.reshaped([B, I]), state: LSTMState(h: h0, c: c0))
        let layerStep: (output: Tensor<Double>, state: LSTMState<Double>) = lstm(x0, state: LSTMState(h: stacked(h0), c: stacked(c0)))
        close(layerStep.output, stacked(cellState.h), "LSTM output")
        close(layerStep.state.h, stacked(cellState.h), "LSTM h")
        close(layerStep.state.c, stacked(cellState.c), "LSTM c")
        let lstmUnrolled = lstmCell.unroll(x, state: LSTMState(h: h0, c: c0))
        let lstmRun = lstm(x, state: LSTMState(h: stacked(h0), c: stacked(c0)))
        close(lstmRun.output, lstmUnrolled.output, "LSTM unrolled output")
        close(lstmRun.state.c, stacked(lstmUnrolled.state.c), "LSTM unrolled c")

        let gru = GRU<Double>(inputSize: I, hiddenSize: H, seed: 2), gruCell = GRUCell<Double>(inputSize: I, hiddenSize: H)
        for (p, q) in zip(gruCell.parameters(), gru.parameters()) { p.copy(from: q) }
        close(gru(x0, state: stacked(h0)).state, stacked(gruCell(x0.reshaped([B, I]), state: h0)), "GRU h")
        close(gru(x, state: stacked(h0)).output, gruCell.unroll(x, state: h0).output, "GRU unrolled output")

        let rnn = RNN<Double>(inputSize: I, hiddenSize: H, seed: 3), rnnCell = RNNCell<Double>(inputSize: I, hiddenSize: H)
        for (p, q) in zip(rnnCell.parameters(), rnn.parameters()) { p.copy(from: q) }
        close(rnn(x0, state: stacked(h0)).state, stacked(rnnCell(x0.reshaped([B, I]), state: h0)), "RNN h")
        close(rnn(x).output, rnnCell.unroll(x).output, "RNN unrolled output from zeros")

        let jordan = Jordan<Double>(inputSize: I, hiddenSize: H, outputSize: 2, seed: 4), jordanCell = jordan.cell(layer: 0)
        let y0 = Tensor<Double>.normal([B, 2], generator: &rng)
        close(jordan(x0, state: stacked(y0)).state, stacked(jordanCell(x0.reshaped([B, I]), state: y0)), "Jordan y")
        let jordanRun = jordan(x, state: stacked(y0)), jordanUnrolled = jordanCell.unroll(x, state: y0)
        close(jordanRun.output, jordanUnrolled.output, "Jordan unrolled output")
        close(jordanRun.state, stacked(jordanUnrolled.state), "Jordan unrolled y")
    }

    /// A network whose kind is chosen at run time takes and returns `RecurrentState`: `.lstm` (h and c, never
    /// one without the other) for an LSTM, `.hidden` for the others, with the typed layers' values.
    func testRunTimeKindCarriesTheTypedStates() {
        var rng = RandomGenerator(seed: 62)
        let x = Tensor<Float>.normal([5, 2, 3], generator: &rng)
        let typed = LSTM<Float>(inputSize: 3, hiddenSize: 4, numLayers: 2, seed: 7)
        let erased: any RecurrentNetwork<Float> = RecurrentLayer<Float>(kind: .lstm, inputSize: 3, hiddenSize: 4, numLayers: 2, seed: 7)
        let a = typed(x.slice(axis: 0, 0..<2)), b = erased(x.slice(axis: 0, 0..<2))
        guard case let .lstm(s) = b.state else { return XCTFail("an LSTM's state must be .lstm") }
        XCTAssertEqual(s.h.scalars, a.state.h.scalars)
        XCTAssertEqual(s.c.scalars, a.state.c.scalars)
        XCTAssertEqual(b.state.h.shape, [2, 2, 4])
        // Carried into the next chunk, detached, the same way.
        let next = erased(x.slice(axis: 0, 2..<5), state: b.state.detached())
        XCTAssertNotNil(b.state.h.gradFn)
        XCTAssertNil(b.state.detached().h.gradFn)
        XCTAssertNil(b.state.detached().lstmState!.c.gradFn)
        XCTAssertEqual(next.output.scalars, typed(x.slice(axis: 0, 2..<5), state: a.state.detached()).output.scalars)

        let gru: any RecurrentNetwork<Float> = GRU<Float>(inputSize: 3, hiddenSize: 4, seed: 8)
        let g = gru(x)
        XCTAssertNil(g.state.lstmState)
        guard case .hidden = g.state else { return XCTFail("a GRU's state must be .hidden") }
        XCTAssertEqual(gru(x, state: g.state).output.shape, [5, 2, 4])
        let jordan: any RecurrentNetwork<Float> = Jordan<Float>(inputSize: 3, hiddenSize: 4, outputSize: 2, seed: 9)
        XCTAssertEqual(jordan(x).state.h.shape, [1, 2, 2])
    }

    // MARK: lengths: 0...T

    /// The two ends of the rule for every layer: a length of T equals no lengths at all; a length of 0 runs
    /// no step, so its row's output is zero and its final state is its initial state, in every layer and
    /// direction, with ∂L/∂state₀ passed straight through; the other rows are unaffected.
    func testLengthsZeroAndTAreTheBoundaries() {
        let (T, B, I, H, L) = (4, 3, 2, 3, 2)
        var layers: [(String, any RecurrentNetwork<Double>)] = RecurrentCellKind.allCases.map { kind in
            (kind.rawValue, RecurrentLayer<Double>(kind: kind, inputSize: I, hiddenSize: H, numLayers: L, bidirectional: true, seed: 5))
        }
        layers.append(("jordan", Jordan<Double>(inputSize: I, hiddenSize: H + 1, outputSize: H, numLayers: L, bidirectional: true, seed: 5)))
        for (name, net) in layers {
            var rng = RandomGenerator(seed: 63)
            let x = Tensor<Double>.normal([T, B, I], generator: &rng, requiresGrad: true)
            let h0 = Tensor<Double>.normal([2 * L, B, H], generator: &rng, requiresGrad: true)
            let c0 = Tensor<Double>.normal([2 * L, B, H], generator: &rng, requiresGrad: true)
            let isLSTM = name == RecurrentCellKind.lstm.rawValue
            let state: RecurrentState<Double> = isLSTM ? .lstm(LSTMState(h: h0, c: c0)) : .hidden(h0)

            let full = withoutGrad { net(x, state: state) }
            let allT = withoutGrad { net(x, state: state, lengths: [T, T, T]) }
            XCTAssertEqual(full.output.scalars, allT.output.scalars, "\(name): lengths T")
            XCTAssertEqual(full.state.h.scalars, allT.state.h.scalars, "\(name): lengths T")

            let r = net(x, state: state, lengths: [T, 0, 2])
            let zeroRow = r.output.slice(axis: 1, 1..<2)
            XCTAssertTrue(zeroRow.scalars.allSatisfy { $0 == 0 }, "\(name): a length-0 row's output is zero")
            XCTAssertEqual(r.state.h.slice(axis: 1, 1..<2).scalars, h0.slice(axis: 1, 1..<2).scalars, "\(name): final h = h0")
            if isLSTM {
                XCTAssertEqual(r.state.lstmState!.c.slice(axis: 1, 1..<2).scalars, c0.slice(axis: 1, 1..<2).scalars, "\(name): final c = c0")
            }
            for (u, v) in zip(r.output.slice(axis: 1, 0..<1).scalars, full.output.slice(axis: 1, 0..<1).scalars) {
                XCTAssertEqual(u, v, accuracy: 1e-12, "\(name): a full row")
            }

            // Backward: the length-0 row's ∂L/∂h0 is ∂L/∂h_final, and its inputs get no gradient.
            let w = Tensor<Double>.normal(r.state.h.shape, generator: &rng)
            ((r.output * r.output).sum() + (r.state.h * w).sum()).backward()
            XCTAssertEqual(h0.grad!.slice(axis: 1, 1..<2).scalars, w.slice(axis: 1, 1..<2).scalars, "\(name): ∂h0 passes through")
            XCTAssertTrue(x.grad!.slice(axis: 1, 1..<2).scalars.allSatisfy { $0 == 0 }, "\(name): ∂x of a length-0 row")
        }
    }

    /// Finite differences through a batch holding a length-0 row, for every kind (with initial states, so
    /// the pass-through of the state is checked too).
    func testGradientsWithAZeroLength() {
        for kind in RecurrentCellKind.allCases {
            var rng = RandomGenerator(seed: 64)
            let layer = RecurrentLayer<Double>(kind: kind, inputSize: 2, hiddenSize: 3, numLayers: 2, bidirectional: true, generator: &rng)
            let x = Tensor<Double>.normal([3, 3, 2], generator: &rng, requiresGrad: true)
            let h0 = Tensor<Double>.normal([4, 3, 3], std: 0.5, generator: &rng, requiresGrad: true)
            let c0 = Tensor<Double>.normal([4, 3, 3], std: 0.5, generator: &rng, requiresGrad: true)
            let inputs = [x, h0] + (kind == .lstm ? [c0] : []) + layer.parameters()
            let result = gradientCheck(inputs) { _ in
                let state: RecurrentState<Double> = kind == .lstm ? .lstm(LSTMState(h: h0, c: c0)) : .hidden(h0)
                let (out, s) = layer(x, state: state, lengths: [3, 0, 1])
                return Tensor.concat([out.reshaped([-1]), s.h.reshaped([-1])] + (s.lstmState.map { [$0.c.reshaped([-1])] } ?? []), axis: 0)
            }
            XCTAssertLessThan(result.maxError, 1e-7, "\(kind) \(result)")
        }
    }

    /// A length-0 row on the fused engine's other paths (the split over two cores, the batch split): the
    /// same numbers as the serial loop, and a zero output row.
    func testZeroLengthOnEveryFusedPath() throws {
        let (T, B, H) = (6, 5, 20), lengths = [6, 0, 4, 6, 1]
        for kind in [RecurrentCellKind.rnnTanh, .lstm, .gru] {
            let serial = FusedSplitTests.run(kind, Double.self, hidden: H, bidirectional: true, lengths: lengths, split: false, batch: B)
            let split = FusedSplitTests.run(kind, Double.self, hidden: H, bidirectional: true, lengths: lengths, split: true, batch: B)
            XCTAssertEqual(serial.count, split.count)
            for (u, v) in zip(serial, split) {
                for (p, q) in zip(u, v) { XCTAssertEqual(p, q, accuracy: 1e-12 * Swift.max(1, abs(q)), "\(kind) split") }
            }
            for t in 0..<T { XCTAssertTrue(serial[0][((t * B + 1) * 2 * H)..<((t * B + 2) * 2 * H)].allSatisfy { $0 == 0 }, "\(kind) t=\(t)") }
            guard KernelChoice.selected.smallGEMM != nil else { continue }
            for inference in [false, true] {
                let rows = FusedSplitTests.run(kind, Float.self, hidden: H, bidirectional: true, lengths: lengths, split: true, batch: B,
                                               batchSplit: true, inference: inference)
                let units = FusedSplitTests.run(kind, Float.self, hidden: H, bidirectional: true, lengths: lengths, split: true, batch: B,
                                                inference: inference)
                XCTAssertEqual(rows, units, "\(kind) batch split, inference \(inference)")
            }
        }
    }
}
