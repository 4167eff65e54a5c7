import XCTest
@testable import RecurrentNN
import RecurrentTensor

final class OptimizerTests: XCTestCase {
    func makeOptimizer<S: TensorScalar>(_ name: String, _ options: [String: Any], _ ps: [Tensor<S>]) -> any Optimizer {
        func o(_ key: String, _ fallback: Double) -> S { S((options[key] as? NSNumber)?.doubleValue ?? fallback) }
        let flag = { (key: String) in (options[key] as? Bool) ?? false }
        switch name {
        case let n where n.hasPrefix("adamw"): return AdamW(parameters: ps, learningRate: o("lr", 0), weightDecay: o("weight_decay", 0.01))
        case let n where n.hasPrefix("adam"):
            return Adam(parameters: ps, learningRate: o("lr", 0), beta1: o("beta1", 0.9), beta2: o("beta2", 0.999),
                        weightDecay: o("weight_decay", 0), amsgrad: flag("amsgrad"))
        case let n where n.hasPrefix("rmsprop"):
            return RMSprop(parameters: ps, learningRate: o("lr", 0), weightDecay: o("weight_decay", 0), momentum: o("momentum", 0), centered: flag("centered"))
        case let n where n.hasPrefix("sgd"):
            return SGD(parameters: ps, learningRate: o("lr", 0), momentum: o("momentum", 0), dampening: o("dampening", 0),
                       weightDecay: o("weight_decay", 0), nesterov: flag("nesterov"))
        default:
            return Adagrad(parameters: ps, learningRate: o("lr", 0), learningRateDecay: o("lr_decay", 0), initialAccumulatorValue: o("initial_accumulator_value", 0))
        }
    }

    func runTrajectories<S: TensorScalar>(_: S.Type, tolerance: Double) throws {
        let fixture = try loadFixture("optim", "optimizers")
        let shapes = (fixture["shapes"] as! [Any]).map(ints), initial = (fixture["initial"] as! [Any]).map(doubles)
        let grads = (fixture["grads"] as! [[Any]]).map { $0.map(doubles) }
        let cases = fixture["cases"] as! [[String: Any]]
        XCTAssertEqual(cases.count, 9)
        for c in cases {
            let name = c["name"] as! String
            let ps = zip(initial, shapes).map { Tensor<S>($0.map { S($0) }, shape: $1, requiresGrad: true) }
            let optimizer = makeOptimizer(name, c["options"] as! [String: Any], ps)
            for (step, expected) in (c["trajectory"] as! [[Any]]).enumerated() {
                for (p, g) in zip(ps, grads[step]) { p.grad = Tensor(g.map { S($0) }, shape: p.shape) }
                optimizer.step()
                for (p, e) in zip(ps, expected.map(doubles)) {
                    for (a, b) in zip(p.scalars, e) {
                        XCTAssertEqual(Double(a), b, accuracy: tolerance * max(1, abs(b)), "\(name) step \(step + 1)")
                    }
                }
            }
        }
    }

    func testOptimizersMatchPyTorchInDouble() throws { try runTrajectories(Double.self, tolerance: 1e-10) }
    func testOptimizersMatchPyTorchInFloat() throws { try runTrajectories(Float.self, tolerance: 1e-5) }

    /// Every optimizer's update split over two cores (`updateElementwise`: part 0 the first half of every
    /// parameter) equals the one-core update bit for bit, with each option that changes the per-element arithmetic.
    func testUpdatesSplitOverTwoCoresEqualOneCore() {
        let makers: [(String, ([Tensor<Float>]) -> any Optimizer<Float>)] = [
            ("adam", { Adam(parameters: $0, learningRate: 0.01) }),
            ("adam amsgrad l2", { Adam(parameters: $0, learningRate: 0.01, weightDecay: 0.01, amsgrad: true) }),
            ("adamw", { AdamW(parameters: $0, learningRate: 0.01, weightDecay: 0.01) }),
            ("sgd nesterov", { SGD(parameters: $0, learningRate: 0.1, momentum: 0.9, weightDecay: 0.01, nesterov: true) }),
            ("sgd dampening", { SGD(parameters: $0, learningRate: 0.1, momentum: 0.5, dampening: 0.2) }),
            ("rmsprop centered momentum", { RMSprop(parameters: $0, learningRate: 0.01, weightDecay: 0.01, momentum: 0.5, centered: true) }),
            ("adagrad", { Adagrad(parameters: $0, learningRate: 0.1, learningRateDecay: 0.01, weightDecay: 0.01) }),
        ]
        for (name, make) in makers {
            var results: [[Float]] = []
            for split in [false, true] {
                var rng = RandomGenerator(seed: 17)
                let ps = [Tensor<Float>.normal([37, 29], generator: &rng), Tensor<Float>.normal([1000], generator: &rng),
                          Tensor<Float>.normal([3], generator: &rng)]
                for p in ps { p.requiresGradLeaf = true }
                let optimizer = make(ps)
                // Split even when this machine is busy (no back-off), or never.
                OptimizerSplit.$current.withValue(OptimizerSplit(minimumElements: split ? 0 : Int.max, backsOff: false)) {
                    for _ in 0..<3 {
                        for p in ps { p.grad = Tensor<Float>.normal(p.shape, generator: &rng) }
                        optimizer.step()
                    }
                }
                results.append(ps.flatMap(\.scalars))
            }
            XCTAssertEqual(results[0], results[1], name)
        }
    }

    func testStateRoundTripResumesBitIdentically() throws {
        var rng = RandomGenerator(seed: 9)
        let grads = (0..<6).map { _ in Tensor<Float>.normal([7], generator: &rng) }
        let start = Tensor<Float>.normal([7], generator: &rng)
        func run(resumeAt: Int?) throws -> [Float] {
            var p = start.clone(); p.requiresGrad = true
            var adam = Adam(parameters: [p], learningRate: 0.01, weightDecay: 0.1, amsgrad: true)
            for (i, g) in grads.enumerated() {
                if i == resumeAt {
                    let saved = adam.stateTensors(), value = p.clone()
                    p = value; p.requiresGrad = true
                    adam = Adam(parameters: [p], learningRate: 0.01, weightDecay: 0.1, amsgrad: true)
                    try adam.loadState(saved)
                }
                p.grad = g.clone()
                adam.step()
            }
            return p.scalars
        }
        XCTAssertEqual(try run(resumeAt: nil), try run(resumeAt: 3))
        let adam = Adam<Float>(parameters: [start], learningRate: 0.1)
        XCTAssertThrowsError(try adam.loadState(["step": Tensor(scalar: 1)])) {
            XCTAssertEqual($0 as? OptimizerStateError, .missing("exp_avg.0"))
        }
        var state = adam.stateTensors()
        for bad in [-1, 2.5, Float.nan] as [Float] {
            state["step"] = Tensor(scalar: bad)
            XCTAssertThrowsError(try adam.loadState(state)) { XCTAssertEqual("\($0)".contains("'step' must be a whole number"), true) }
        }
    }

    func testClippingMatchesPyTorch() throws {
        let fixture = try loadFixture("optim", "clipping")
        let shapes = (fixture["shapes"] as! [Any]).map(ints), grads = (fixture["grads"] as! [Any]).map(doubles)
        for c in fixture["cases"] as! [[String: Any]] {
            let ps = shapes.map { Tensor<Double>(zeros: $0, requiresGrad: true) }
            for (p, g) in zip(ps, grads) { p.grad = Tensor(g, shape: p.shape) }
            let normType = (c["norm_type"] as? String) == "inf" ? Double.infinity : (c["norm_type"] as! NSNumber).doubleValue
            let total = clipGradNorm(ps, maxNorm: (c["max_norm"] as! NSNumber).doubleValue, normType: normType)
            XCTAssertEqual(total, (c["total"] as! NSNumber).doubleValue, accuracy: 1e-10)
            for (p, e) in zip(ps, (c["clipped"] as! [Any]).map(doubles)) {
                for (a, b) in zip(p.grad!.scalars, e) { XCTAssertEqual(a, b, accuracy: 1e-10) }
            }
        }
        let bad = Tensor<Double>(zeros: [2], requiresGrad: true), good = Tensor<Double>(zeros: [2], requiresGrad: true)
        bad.grad = Tensor([.nan, 3]); good.grad = Tensor([1, 2])
        XCTAssertTrue(clipGradNorm([bad, good], maxNorm: 1, normType: .infinity).isNaN, "NaN is never the smaller value")
        XCTAssertTrue(good.grad!.scalars.allSatisfy(\.isNaN), "a NaN norm poisons every gradient, as in PyTorch")
        let p = Tensor<Float>(zeros: [3], requiresGrad: true)
        p.grad = Tensor([-5, 0.5, 9])
        clipGradValue([p], clipValue: 1)
        XCTAssertEqual(p.grad!.scalars, [-1, 0.5, 1])
    }

    func testSchedulesMatchPyTorch() throws {
        let fixture = try loadFixture("optim", "schedules")
        let base = (fixture["base"] as! NSNumber).doubleValue
        for c in fixture["cases"] as! [[String: Any]] {
            let n = { (k: String) in (c[k] as! NSNumber).doubleValue }
            let schedule: any LearningRateSchedule = switch c["name"] as! String {
            case "step": StepSchedule(base: base, stepSize: Int(n("step_size")), gamma: n("gamma"))
            case "exponential": ExponentialSchedule(base: base, gamma: n("gamma"))
            case "cosine": CosineSchedule(base: base, tMax: Int(n("t_max")), etaMin: n("eta_min"))
            default: LinearSchedule(base: base, startFactor: n("start_factor"), endFactor: n("end_factor"), totalSteps: Int(n("total")))
            }
            for (step, value) in doubles(c["values"]).enumerated() {
                XCTAssertEqual(schedule.learningRate(at: step), value, accuracy: 1e-12, "\(c["name"]!) step \(step)")
            }
        }
        let warm = WarmupCosineSchedule(base: 1, warmupSteps: 4, totalSteps: 14)
        XCTAssertEqual((0..<4).map { warm.learningRate(at: $0) }, [0.25, 0.5, 0.75, 1])
        XCTAssertEqual(warm.learningRate(at: 9), 0.5, accuracy: 1e-12)
        XCTAssertEqual(warm.learningRate(at: 14), 0, accuracy: 1e-12)
    }
}
