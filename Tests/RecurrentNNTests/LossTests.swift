import XCTest
@testable import RecurrentNN
import RecurrentTensor

final class LossTests: XCTestCase {
    func testLossGradientsByFiniteDifferences() {
        var rng = RandomGenerator(seed: 3)
        let logits = Tensor<Double>.normal([2, 3, 5], generator: &rng, requiresGrad: true)
        let targets = [4, 0, 2, 1, 3, 0]
        for reduction in Reduction.allCases {
            for smoothing in [0.0, 0.3] {
                for ignore in [nil, 0] as [Int?] {
                    let r = gradientCheck([logits]) { crossEntropy($0[0], targets: targets, ignoreIndex: ignore, labelSmoothing: smoothing, reduction: reduction) }
                    XCTAssertLessThan(r.maxError, 1e-7, "crossEntropy \(reduction) ε=\(smoothing) ignore=\(String(describing: ignore))")
                }
            }
            XCTAssertLessThan(gradientCheck([logits]) { nllLoss($0[0].logSoftmax(), targets: targets, ignoreIndex: 2, reduction: reduction) }.maxError, 1e-7)
            let a = Tensor<Double>.normal([3, 4], generator: &rng, requiresGrad: true)
            let b = Tensor<Double>.normal([3, 4], std: 2, generator: &rng, requiresGrad: true)
            XCTAssertLessThan(gradientCheck([a, b]) { mseLoss($0[0], $0[1], reduction: reduction) }.maxError, 1e-7)
            XCTAssertLessThan(gradientCheck([a, b]) { l1Loss($0[0], $0[1], reduction: reduction) }.maxError, 1e-7)
            XCTAssertLessThan(gradientCheck([a, b]) { huberLoss($0[0], $0[1], delta: 0.8, reduction: reduction) }.maxError, 1e-7)
            let y = Tensor<Double>.uniform([3, 4], generator: &rng, requiresGrad: true)
            let w = Tensor<Double>([1, 2, 0.5, 3])
            XCTAssertLessThan(gradientCheck([a, y]) { bceWithLogits($0[0] * 4.0, $0[1], posWeight: w, reduction: reduction) }.maxError, 1e-7)
        }
    }

    func testCrossEntropyStaysFiniteForHugeLogits() {
        let logits = Tensor<Float>([1e4, -1e4, 0, 3e4], shape: [2, 2])
        let loss = crossEntropy(logits, targets: [1, 0])
        XCTAssertEqual(loss.item, (2e4 + 3e4) / 2, accuracy: 1)
        XCTAssertTrue(bceWithLogits(Tensor<Float>([1e4, -1e4]), Tensor<Float>([0, 1])).item.isFinite)
    }

    func testLossesMatchPyTorch() throws {
        let fixture = try loadFixture("optim", "losses")
        let cases = fixture["cases"] as! [[String: Any]]
        XCTAssertEqual(cases.count, 12 + 9 + 4)
        for c in cases {
            let shape = ints(c["shape"]), kind = c["loss"] as! String
            let reduction = Reduction(rawValue: c["reduction"] as! String)!
            let x = Tensor<Double>(doubles(c["input"]), shape: shape, requiresGrad: true)
            let target = c["target"].map { Tensor<Double>(doubles($0), shape: shape, requiresGrad: true) }
            let out: Tensor<Double>
            switch kind {
            case "cross_entropy":
                out = crossEntropy(x, targets: ints(c["targets"]), ignoreIndex: (c["ignore"] as? NSNumber)?.intValue,
                                   labelSmoothing: (c["smoothing"] as! NSNumber).doubleValue, reduction: reduction)
            case "mse": out = mseLoss(x, target!, reduction: reduction)
            case "l1": out = l1Loss(x, target!, reduction: reduction)
            case "huber": out = huberLoss(x, target!, delta: 0.7, reduction: reduction)
            default:
                let pw = doubles(c["pos_weight"])
                out = bceWithLogits(x, target!, posWeight: pw.isEmpty ? nil : Tensor(pw), reduction: reduction)
            }
            let weight = Tensor<Double>(doubles(c["weight"]), shape: out.shape)
            (out * weight).sum().backward()
            let what = "\(kind) \(reduction) \(c["smoothing"] ?? "") \(c["ignore"] ?? "")"
            for (a, b) in zip(out.scalars, doubles(c["output"])) { XCTAssertEqual(a, b, accuracy: 1e-10, "\(what) value") }
            XCTAssertEqual(out.count, doubles(c["output"]).count)
            for (a, b) in zip(x.grad!.scalars, doubles(c["grad"])) { XCTAssertEqual(a, b, accuracy: 1e-10, "\(what) gradient") }
            if let target, c["grad_target"] != nil {
                for (a, b) in zip(target.grad!.scalars, doubles(c["grad_target"])) { XCTAssertEqual(a, b, accuracy: 1e-10, "\(what) target gradient") }
            }
        }
    }
}
