import RecurrentTensor

// The two classic long-range memory benchmarks, generated on the fly and deterministic per seed:
// the same generator state gives the same batch on every run and machine (RandomGenerator is
// xoshiro256**, and only its integer and 53-bit uniform draws are used here).

/// A synthetic task's parameters are out of range (they come from the command line or a checkpoint).
public enum SyntheticTaskError: Error, CustomStringConvertible, Equatable {
    /// Parameter `name` is `value`, outside what `expected` describes.
    case badParameter(name: String, value: Int, expected: String)

    public var description: String {
        switch self {
        case let .badParameter(name, value, expected): "\(name) must be \(expected), got \(value)"
        }
    }
}

/// One batch of the adding problem, time major.
public struct AddingBatch: Equatable, Sendable {
    /// (T, B, 2): channel 0 the value, channel 1 the marker (1 at the two marked steps, else 0).
    public var inputs: [Float]
    /// (B): the sum of the two marked values.
    public var targets: [Float]
    /// (B): the two marked steps of each sequence, first < T/2 ≤ second.
    public var markers: [(first: Int, second: Int)]
    /// T, the sequence length, and B, the number of sequences.
    public var steps: Int, batch: Int

    public static func == (a: AddingBatch, b: AddingBatch) -> Bool {
        a.inputs == b.inputs && a.targets == b.targets && a.steps == b.steps && a.batch == b.batch
            && a.markers.map(\.first) == b.markers.map(\.first) && a.markers.map(\.second) == b.markers.map(\.second)
    }
}

/// The adding problem (Hochreiter & Schmidhuber 1997, in the form of Le, Jaitly & Hinton 2015 and
/// Arjovsky et al. 2016): a sequence of T pairs (value, marker); values are uniform in [0, 1), exactly
/// two steps are marked, one in the first half (t < ⌊T/2⌋) and one in the second; the target is the
/// sum of the two marked values.
///
/// The first marked value must be carried for at least T/2 steps. The target has mean 1 and variance
/// 2 · 1/12 = 1/6, so a model that ignores its input and predicts 1 scores MSE 1/6 ≈ 0.167:
/// `baselineMSE`, the bar a model must go well below to have learnt anything.
public struct AddingProblem: Codable, Equatable, Sendable {
    /// Sequence length T (the lag the benchmark tables speak of).
    public let length: Int
    /// Features per step (value, marker).
    public static let featureCount = 2
    /// MSE of the constant prediction 1: the variance of the sum of two U(0, 1) values.
    public static let baselineMSE = 1.0 / 6.0

    /// - Parameter length: T in 2...1_000_000.
    public init(length: Int) throws {
        guard (2...1_000_000).contains(length) else {
            throw SyntheticTaskError.badParameter(name: "adding problem length", value: length, expected: "in 2...1000000")
        }
        self.length = length
    }

    /// Draws `size` sequences. Per sequence, in this order: T values, the first marker, the second marker.
    public func batch(size: Int, generator: inout RandomGenerator) -> AddingBatch {
        precondition(size > 0, "AddingProblem.batch: size must be positive, got \(size)")
        let (T, B) = (length, size), half = length / 2
        var inputs = [Float](repeating: 0, count: T * B * 2)          // (T, B, 2)
        var targets = [Float](repeating: 0, count: B)                 // (B)
        var markers: [(first: Int, second: Int)] = []
        for b in 0..<B {
            for t in 0..<T { inputs[(t * B + b) * 2] = generator.nextUniform(Float.self) }
            let first = generator.nextInt(below: half)
            let second = half + generator.nextInt(below: T - half)
            inputs[(first * B + b) * 2 + 1] = 1
            inputs[(second * B + b) * 2 + 1] = 1
            targets[b] = inputs[(first * B + b) * 2] + inputs[(second * B + b) * 2]
            markers.append((first, second))
        }
        return AddingBatch(inputs: inputs, targets: targets, markers: markers, steps: T, batch: B)
    }
}

/// One batch of the copy task, time major.
public struct CopyBatch: Equatable, Sendable {
    /// (T, B) input tokens: 0 blank, 1...K symbols, K + 1 the recall cue.
    public var inputs: [Int]
    /// (T, B) target classes: 0 blank, 1...K the symbol to output at a recall step.
    public var targets: [Int]
    /// T, the sequence length, and B, the number of sequences.
    public var steps: Int, batch: Int
}

/// The copy (recall) task (Hochreiter & Schmidhuber 1997; Arjovsky et al. 2016): S symbols drawn
/// uniformly from an alphabet of K, then `delay` blank steps, then a cue; in the S steps after the
/// cue the model must output the S symbols in order. Each symbol is recalled S + delay + 1 steps
/// after it was shown.
///
/// Layout of the T = 2S + delay + 1 steps: 0..<S symbols; S..<S+delay blanks; S+delay the cue;
/// the last S steps blanks on input, the symbols on output (`recallSteps`). Everywhere else the
/// target is blank. A model without memory scores at best log K nats and accuracy 1/K per recall step.
public struct CopyTask: Codable, Equatable, Sendable {
    /// Alphabet size K.
    public let symbols: Int
    /// Symbols to remember, S.
    public let length: Int
    /// Blank steps between the last symbol and the cue.
    public let delay: Int

    /// - Parameters: symbols K in 1...1000, length S in 1...10000, delay in 0...1_000_000.
    public init(symbols: Int, length: Int, delay: Int) throws {
        guard (1...1000).contains(symbols) else { throw SyntheticTaskError.badParameter(name: "copy symbols", value: symbols, expected: "in 1...1000") }
        guard (1...10_000).contains(length) else { throw SyntheticTaskError.badParameter(name: "copy length", value: length, expected: "in 1...10000") }
        guard (0...1_000_000).contains(delay) else { throw SyntheticTaskError.badParameter(name: "copy delay", value: delay, expected: "in 0...1000000") }
        self.symbols = symbols
        self.length = length
        self.delay = delay
    }

    /// Steps per sequence, T = 2S + delay + 1.
    public var steps: Int { 2 * length + delay + 1 }
    /// Input token count: blank, K symbols, cue.
    public var inputClasses: Int { symbols + 2 }
    /// Output class count: blank and K symbols.
    public var outputClasses: Int { symbols + 1 }
    /// The input token of the cue.
    public var cue: Int { symbols + 1 }
    /// The steps at which the symbols must be recalled.
    public var recallSteps: Range<Int> { (length + delay + 1)..<steps }
    /// Cross-entropy (nats) per recall step of a model that guesses uniformly among the symbols.
    public var baselineRecallLoss: Double { Double.log(Double(symbols)) }

    /// Draws `size` sequences; per sequence the S symbols in order.
    public func batch(size: Int, generator: inout RandomGenerator) -> CopyBatch {
        precondition(size > 0, "CopyTask.batch: size must be positive, got \(size)")
        let (T, B, S) = (steps, size, length), recall = recallSteps.lowerBound
        var inputs = [Int](repeating: 0, count: T * B)               // (T, B)
        var targets = [Int](repeating: 0, count: T * B)              // (T, B)
        for b in 0..<B {
            for i in 0..<S {
                let symbol = 1 + generator.nextInt(below: symbols)
                inputs[i * B + b] = symbol
                targets[(recall + i) * B + b] = symbol
            }
            inputs[(S + delay) * B + b] = cue
        }
        return CopyBatch(inputs: inputs, targets: targets, steps: T, batch: B)
    }
}
