import RecurrentData
import RecurrentTensor
import XCTest

/// The adding problem and the copy task: deterministic per seed, the stated layout and statistics.
final class SyntheticTasksTests: XCTestCase {
    func testAddingIsDeterministicPerSeed() throws {
        let task = try AddingProblem(length: 30)
        var a = RandomGenerator(seed: 5), b = RandomGenerator(seed: 5), c = RandomGenerator(seed: 6)
        let first = task.batch(size: 8, generator: &a)
        XCTAssertEqual(first, task.batch(size: 8, generator: &b))
        XCTAssertNotEqual(first, task.batch(size: 8, generator: &c))
        XCTAssertNotEqual(first, task.batch(size: 8, generator: &a), "the stream moves on")
    }

    func testAddingLayout() throws {
        for T in [2, 7, 30] {
            let task = try AddingProblem(length: T)
            var rng = RandomGenerator(seed: UInt64(T))
            let batch = task.batch(size: 50, generator: &rng)
            let B = 50
            XCTAssertEqual(batch.inputs.count, T * B * 2)
            for b in 0..<B {
                let values = (0..<T).map { batch.inputs[($0 * B + b) * 2] }
                let marks = (0..<T).filter { batch.inputs[($0 * B + b) * 2 + 1] == 1 }
                XCTAssertEqual((0..<T).filter { batch.inputs[($0 * B + b) * 2 + 1] != 0 }.count, 2, "exactly two marked steps")
                XCTAssertEqual(marks, [batch.markers[b].first, batch.markers[b].second])
                XCTAssertLessThan(marks[0], T / 2)
                XCTAssertGreaterThanOrEqual(marks[1], T / 2)
                XCTAssertTrue(values.allSatisfy { $0 >= 0 && $0 < 1 })
                XCTAssertEqual(batch.targets[b], values[marks[0]] + values[marks[1]])
            }
        }
    }

    /// Target mean 1 and variance 1/6 (the MSE of predicting 1), markers uniform over each half.
    func testAddingStatistics() throws {
        let (T, n) = (10, 20_000)
        var rng = RandomGenerator(seed: 99)
        let batch = try AddingProblem(length: T).batch(size: n, generator: &rng)
        let targets = batch.targets.map(Double.init)
        let mean = targets.reduce(0, +) / Double(n)
        let baseline = targets.reduce(0) { $0 + ($1 - 1) * ($1 - 1) } / Double(n)
        // Standard errors: √(1/6 / n) ≈ 0.0029 for the mean; σ²·√(1.4 / n) ≈ 0.0014 for the MSE (kurtosis 2.4).
        XCTAssertEqual(mean, 1, accuracy: 5 * 0.0029)
        XCTAssertEqual(baseline, AddingProblem.baselineMSE, accuracy: 5 * 0.0014)
        let values = (0..<(T * n)).map { Double(batch.inputs[2 * $0]) }
        XCTAssertEqual(values.reduce(0, +) / Double(values.count), 0.5, accuracy: 5 * (1.0 / 12 / Double(values.count)).squareRoot())
        var firsts = [Int](repeating: 0, count: T), seconds = [Int](repeating: 0, count: T)
        for m in batch.markers { firsts[m.first] += 1; seconds[m.second] += 1 }
        // Each of the 5 positions of a half: p = 0.2, expected 4000, standard deviation √(n·0.2·0.8) ≈ 57.
        for t in 0..<(T / 2) { XCTAssertEqual(Double(firsts[t]), 4000, accuracy: 5 * 57, "first marker at \(t)") }
        for t in (T / 2)..<T { XCTAssertEqual(Double(seconds[t]), 4000, accuracy: 5 * 57, "second marker at \(t)") }
    }

    func testCopyLayoutAndDeterminism() throws {
        let task = try CopyTask(symbols: 5, length: 4, delay: 7)
        XCTAssertEqual(task.steps, 2 * 4 + 7 + 1)
        XCTAssertEqual(task.recallSteps, 12..<16)
        var a = RandomGenerator(seed: 3), b = RandomGenerator(seed: 3), c = RandomGenerator(seed: 4)
        let batch = task.batch(size: 20, generator: &a)
        XCTAssertEqual(batch, task.batch(size: 20, generator: &b))
        XCTAssertNotEqual(batch, task.batch(size: 20, generator: &c))
        let (T, B) = (task.steps, 20)
        for s in 0..<B {
            let inputs = (0..<T).map { batch.inputs[$0 * B + s] }, targets = (0..<T).map { batch.targets[$0 * B + s] }
            let shown = Array(inputs[0..<4])
            XCTAssertTrue(shown.allSatisfy { (1...5).contains($0) })
            XCTAssertEqual(Array(inputs[4..<11]), Array(repeating: 0, count: 7), "blanks during the delay")
            XCTAssertEqual(inputs[11], task.cue)
            XCTAssertEqual(Array(inputs[12...]), [0, 0, 0, 0])
            XCTAssertEqual(Array(targets[12...]), shown, "the symbols, in order, after the cue")
            XCTAssertEqual(Array(targets[..<12]), Array(repeating: 0, count: 12))
        }
    }

    func testCopySymbolsAreUniform() throws {
        let (K, S, n) = (4, 5, 4_000)
        var rng = RandomGenerator(seed: 11)
        let batch = try CopyTask(symbols: K, length: S, delay: 0).batch(size: n, generator: &rng)
        var counts = [Int](repeating: 0, count: K + 1)
        for i in 0..<(S * n) { counts[batch.inputs[i]] += 1 }
        XCTAssertEqual(counts[0], 0)
        // 20000 draws, p = 1/4: expected 5000, standard deviation √(20000·0.25·0.75) ≈ 61.
        for k in 1...K { XCTAssertEqual(Double(counts[k]), 5000, accuracy: 5 * 61) }
        XCTAssertEqual(try CopyTask(symbols: K, length: S, delay: 0).baselineRecallLoss, Double.log(4), accuracy: 1e-12)
    }

    func testBadParametersThrow() {
        XCTAssertThrowsError(try AddingProblem(length: 1)) { XCTAssertTrue("\($0)".contains("length")) }
        XCTAssertThrowsError(try CopyTask(symbols: 0, length: 3, delay: 1)) { XCTAssertTrue("\($0)".contains("symbols")) }
        XCTAssertThrowsError(try CopyTask(symbols: 3, length: 0, delay: 1))
        XCTAssertThrowsError(try CopyTask(symbols: 3, length: 3, delay: -1))
    }
}
