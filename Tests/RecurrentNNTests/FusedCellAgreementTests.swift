import XCTest
@testable import RecurrentNN
import RecurrentTensor

/// The fused sequence layers (one node per layer, hand-written BPTT) and a loop over the single-step
/// cells compute the same function: outputs and every gradient agree to 1e-6 in Double.
final class FusedCellAgreementTests: XCTestCase {
    /// Runs a cell over (T, B, I) and compares outputs and every gradient with the fused layer.
    func assertCellMatchesFused(_ kind: RecurrentCellKind, file: StaticString = #filePath, line: UInt = #line) {
        let (T, B, I, H) = (5, 2, 3, 4)
        var rng = RandomGenerator(seed: 8)
        let layer = RecurrentLayer<Double>(kind: kind, inputSize: I, hiddenSize: H, numLayers: 1, bias: true, batchFirst: false,
                                           dropout: 0, bidirectional: false, merge: .concat, projSize: 0, generator: &rng)
        let cell: RNNCellBase<Double>
        switch kind {
        case .rnnTanh, .rnnRelu: cell = RNNCell(inputSize: I, hiddenSize: H, nonlinearity: kind == .rnnTanh ? .tanh : .relu, generator: &rng)
        case .lstm: cell = LSTMCell(inputSize: I, hiddenSize: H, generator: &rng)
        case .gru, .gruResetBefore: cell = GRUCell(inputSize: I, hiddenSize: H, resetAfter: kind == .gru, generator: &rng)
        }
        for (p, q) in zip(cell.parameters(), layer.parameters()) { p.copy(from: q) }
        let x = Tensor<Double>.normal([T, B, I], generator: &rng, requiresGrad: true)
        let w = Tensor<Double>.normal([T, B, H], generator: &rng)

        let (fused, _) = layer(x)
        (fused * w).sum().backward()
        let fusedGrads = [x.grad!.scalars] + layer.parameters().map { $0.grad!.scalars }
        x.zeroGrad()

        var h: Tensor<Double>? = nil, c: Tensor<Double>? = nil
        var steps: [Tensor<Double>] = []
        for t in 0..<T {
            let xt = x.slice(axis: 0, t..<(t + 1)).reshaped([B, I])
            switch cell {
            case let lstm as LSTMCell<Double>:
                let s = lstm(xt, state: h.map { LSTMState(h: $0, c: c!) }); (h, c) = (s.h, s.c)
            case let rnn as RNNCell<Double>: h = rnn(xt, state: h)
            case let gru as GRUCell<Double>: h = gru(xt, state: h)
            default: XCTFail("unknown cell")
            }
            steps.append(h!.reshaped([1, B, H]))
        }
        let stepped = Tensor.concat(steps, axis: 0)
        (stepped * w).sum().backward()
        let cellGrads = [x.grad!.scalars] + cell.parameters().map { $0.grad!.scalars }
        for (a, b) in zip(fused.scalars, stepped.scalars) { XCTAssertEqual(a, b, accuracy: 1e-6, "\(kind) output", file: file, line: line) }
        for (ga, gb) in zip(fusedGrads, cellGrads) {
            for (a, b) in zip(ga, gb) { XCTAssertEqual(a, b, accuracy: 1e-6, "\(kind) gradient", file: file, line: line) }
        }
    }

    func testCellsAgreeWithFusedLayers() {
        for kind in RecurrentCellKind.allCases { assertCellMatchesFused(kind) }
}
}
