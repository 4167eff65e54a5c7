import XCTest
@testable import RecurrentNN
import RecurrentTensor

/// Stateful use, truncated BPTT, per-step gradient norms and between-layer dropout.
final class RecurrentStateTests: XCTestCase {
    func testChunksWithCarriedStateEqualOneLongPass() {
        var rng = RandomGenerator(seed: 21)
        let lstm = LSTM<Double>(inputSize: 3, hiddenSize: 4, numLayers: 2, generator: &rng)
        let x = Tensor<Double>.normal([10, 2, 3], generator: &rng)
        let (full, fullState) = lstm(x)
        XCTAssertEqual(truncatedChunks(totalSteps: 10, chunk: 4), [0..<4, 4..<8, 8..<10])
        var state: LSTMState<Double>? = nil
        var pieces: [Tensor<Double>] = []
        for range in truncatedChunks(totalSteps: 10, chunk: 4) {
            let (out, next) = lstm(x.slice(axis: 0, range), state: state)
            pieces.append(out)
            state = next.detached()
            XCTAssertFalse(state!.h.requiresGrad)
        }
        for (a, b) in zip(Tensor.concat(pieces, axis: 0).scalars, full.scalars) { XCTAssertEqual(a, b, accuracy: 1e-12) }
        for (a, b) in zip(state!.c.scalars, fullState.c.scalars) { XCTAssertEqual(a, b, accuracy: 1e-12) }
    }

    /// ‖∂L/∂h_t‖ recorded by the fused backward equals the norms autograd gives for the cell loop's h_t.
    func testRecordedHiddenGradientNormsMatchAutograd() {
        let (T, B, I, H) = (6, 2, 3, 4)
        for kind in [RecurrentCellKind.rnnTanh, .lstm, .gru] {
            var rng = RandomGenerator(seed: 30)
            let layer = RecurrentLayer<Double>(kind: kind, inputSize: I, hiddenSize: H, numLayers: 1, bias: true, batchFirst: false,
                                               dropout: 0, bidirectional: false, merge: .concat, projSize: 0, generator: &rng)
            layer.recordsHiddenGradientNorms = true
            let x = Tensor<Double>.normal([T, B, I], generator: &rng)
            let (out, _) = layer(x)
            // Loss at the last step only, as the diagnostics use it.
            out.slice(axis: 0, (T - 1)..<T).sum().backward()
            let recorded = layer.hiddenGradientNorms[0]

            let cell: RNNCellBase<Double> = switch kind {
            case .lstm: LSTMCell(inputSize: I, hiddenSize: H, generator: &rng)
            case .gru: GRUCell(inputSize: I, hiddenSize: H, generator: &rng)
            default: RNNCell(inputSize: I, hiddenSize: H, generator: &rng)
            }
            for (p, q) in zip(cell.parameters(), layer.parameters()) { p.copy(from: q) }
            var h: Tensor<Double>? = nil, c: Tensor<Double>? = nil, hs: [Tensor<Double>] = []
            for t in 0..<T {
                let xt = x.slice(axis: 0, t..<(t + 1)).reshaped([B, I])
                switch cell {
                case let lstm as LSTMCell<Double>: let s = lstm(xt, state: h.map { LSTMState(h: $0, c: c!) }); (h, c) = (s.h, s.c)
                case let gru as GRUCell<Double>: h = gru(xt, state: h)
                case let rnn as RNNCell<Double>: h = rnn(xt, state: h)
                default: break
                }
                h!.retainGrad()
                hs.append(h!)
            }
            hs[T - 1].sum().backward()
            for t in 0..<T {
                let expected = hs[t].grad!.scalars.reduce(0) { $0 + $1 * $1 }.squareRoot()
                XCTAssertEqual(recorded[t], expected, accuracy: 1e-10, "\(kind) t=\(t)")
            }
            XCTAssertGreaterThan(recorded[T - 1], recorded[0], "\(kind): the gradient shrinks going back in time here")
        }
    }

    func testDropoutBetweenLayersOnlyInTrainMode() {
        var rng = RandomGenerator(seed: 2)
        let gru = GRU<Double>(inputSize: 3, hiddenSize: 8, numLayers: 2, dropout: 0.5, generator: &rng)
        let x = Tensor<Double>.normal([4, 2, 3], generator: &rng)
        gru.eval()
        let a = gru(x).output.scalars, b = gru(x).output.scalars
        XCTAssertEqual(a, b)
        gru.train()
        let c = gru(x).output.scalars
        XCTAssertNotEqual(a, c)
        // One-layer: no layer to drop between, train equals eval.
        let single = GRU<Double>(inputSize: 3, hiddenSize: 8, dropout: 0.5, generator: &rng)
        let trainOut = single(x).output.scalars
        single.eval()
        XCTAssertEqual(trainOut, single(x).output.scalars)
    }
}
