import RecurrentModels
import Foundation
import RecurrentIO
import RecurrentNN
import RecurrentTensor

/// What the trainer adds up between two evaluations: the training columns of the next metrics row.
public struct TrainingWindow: Equatable, Sendable {
    /// Σ loss × weight over the updates applied.
    public var lossSum = 0.0
    /// Σ weight (examples for tasks that weight by batch size, updates for the others).
    public var weight = 0.0
    /// Updates made in the window.
    public var updates = 0
    /// Updates whose gradients clipping changed.
    public var clipped = 0
    /// Σ gradient norm before clipping.
    public var gradientNormSum = 0.0
    /// The task's own sums (`TaskLoss.tally`), e.g. correct predictions.
    public var tally: [Double] = []

    /// Mean training loss (NaN when no update was applied).
    public var meanLoss: Double { weight > 0 ? lossSum / weight : .nan }
    /// Mean gradient norm per update (0 when none).
    public var meanGradientNorm: Double { gradientNormSum / Double(max(updates, 1)) }
    /// `tally[k]` per unit of weight (e.g. training accuracy); NaN when nothing was added.
    public func tallyMean(_ k: Int) -> Double { k < tally.count && weight > 0 ? tally[k] / weight : .nan }

    mutating func add(_ outcome: UpdateOutcome, weight w: Double, tally extra: [Double]) {
        lossSum += outcome.loss * w
        weight += w
        updates += 1
        gradientNormSum += outcome.gradientNorm
        if outcome.clipped { clipped += 1 }
        if tally.count < extra.count { tally += Array(repeating: 0, count: extra.count - tally.count) }
        for (k, v) in extra.enumerated() { tally[k] += v }
    }
}

/// Where a run stands, saved in last.safetensors beside the weights and the optimizer's state, so
/// that a resumed run continues with exactly the numbers an uninterrupted run has at that point,
/// between epochs or in the middle of one. Doubles are stored as bit patterns and generators as their
/// four words; nothing that depends on the clock is stored, so two runs with the same seed write
/// identical checkpoints (the training time so far comes back from metrics.csv instead).
///
/// Version 2 (this one) is the first written by the single training loop; last.safetensors files of
/// earlier versions (no `run_state_version` key) are refused with a message saying so.
public struct RunState: Sendable {
    /// The layout version this library writes and reads.
    public static let version = 2

    /// Epochs completed (epoch schedules).
    public var epoch = 0
    /// Batches of the epoch in progress already trained on (0 between epochs).
    public var batchInEpoch = 0
    /// Updates attempted (a skipped batch counts).
    public var step = 0
    /// Tokens (or samples) of the applied updates, for the throughput column.
    public var tokens = 0
    /// The data-order stream; tasks may draw more from it while building batches.
    public var order: RandomGenerator
    /// `order` as it was when the epoch in progress drew its visiting order, so a resumed run redraws the same order.
    public var epochStart: RandomGenerator
    /// The task's other streams (dropout masks…), by name.
    public var streams: [String: RandomGenerator] = [:]
    /// Exponential average of the training loss (0.98 / 0.02 per applied update); NaN before the first.
    public var runningLoss = Double.nan
    /// Sums since the last evaluation.
    public var window = TrainingWindow()
    /// Updates clipping changed over the whole run.
    public var clippedTotal = 0
    /// The task's evaluation history, JSON (`RoundRecord`s).
    public var history = "[]"

    init(seed: UInt64) {
        order = RandomGenerator(seed: seed)
        epochStart = order
    }

    /// The checkpoint fields of this state.
    var extra: [String: String] {
        var extra = ["run_state_version": "\(Self.version)", "epoch": "\(epoch)", "batch_in_epoch": "\(batchInEpoch)", "step": "\(step)",
                     "tokens": "\(tokens)", "generator.order": Self.words(order), "generator.epoch_start": Self.words(epochStart),
                     "running_loss_bits": "\(runningLoss.bitPattern)", "clipped_total": "\(clippedTotal)", "history": history,
                     "window": [window.lossSum.bitPattern, window.weight.bitPattern, UInt64(window.updates), UInt64(window.clipped),
                                window.gradientNormSum.bitPattern].map(String.init).joined(separator: ","),
                     "window_tally": window.tally.map { String($0.bitPattern) }.joined(separator: ",")]
        for (name, generator) in streams { extra["generator." + name] = Self.words(generator) }
        return extra
    }

    /// Reads a state back; `streamNames` must all be present.
    init(extra: [String: String], streamNames: [String]) throws {
        guard let version = extra["run_state_version"] else {
            throw TrainingError.cannotResume("last.safetensors was written by an earlier version of Recurrent (before run state \(Self.version)); start a new run, or use best.safetensors for evaluation and prediction")
        }
        guard version == "\(Self.version)" else {
            throw TrainingError.cannotResume("last.safetensors holds run state version \(version); this version of Recurrent reads version \(Self.version)")
        }
        func count(_ key: String) throws -> Int {
            // Bounded so that the counters cannot overflow as training goes on.
            guard let value = extra[key].flatMap(Int.init), (0..<(1 << 53)).contains(value) else {
                throw TrainingError.cannotResume("the checkpoint's training position is malformed ('\(key)')")
            }
            return value
        }
        func generator(_ name: String) throws -> RandomGenerator {
            let words = (extra["generator." + name] ?? "").split(separator: ",").compactMap { UInt64($0) }
            guard let g = RandomGenerator(state: words) else { throw TrainingError.cannotResume("generator '\(name)' is missing or malformed in the checkpoint") }
            return g
        }
        order = try generator("order")
        epochStart = try generator("epoch_start")
        epoch = try count("epoch")
        batchInEpoch = try count("batch_in_epoch")
        step = try count("step")
        tokens = try count("tokens")
        clippedTotal = try count("clipped_total")
        for name in streamNames { streams[name] = try generator(name) }
        let w = (extra["window"] ?? "").split(separator: ",").compactMap { UInt64($0) }
        let tally = (extra["window_tally"] ?? "").split(separator: ",").map { UInt64($0) }
        guard let bits = extra["running_loss_bits"].flatMap(UInt64.init), w.count == 5, w[2] < 1 << 53, w[3] < 1 << 53,
              tally.allSatisfy({ $0 != nil }), let history = extra["history"] else {
            throw TrainingError.cannotResume("the checkpoint's training position is malformed (running loss, window or history)")
        }
        runningLoss = Double(bitPattern: bits)
        window = TrainingWindow(lossSum: Double(bitPattern: w[0]), weight: Double(bitPattern: w[1]), updates: Int(w[2]), clipped: Int(w[3]),
                                gradientNormSum: Double(bitPattern: w[4]), tally: tally.map { Double(bitPattern: $0!) })
        self.history = history
    }

    static func words(_ g: RandomGenerator) -> String { g.state.map(String.init).joined(separator: ",") }

    /// Adds the optimizer's state (names prefixed `optimizer.`) and this state to `checkpoint`.
    func write<O: Optimizer>(into checkpoint: inout Checkpoint, optimizer: O) where O.Scalar == Float {
        for (name, tensor) in optimizer.stateTensors() { checkpoint.tensors[Checkpoint.optimizerPrefix + name] = tensor }
        checkpoint.extra.merge(extra) { $1 }
    }

    /// Restores `optimizer` from the checkpoint's optimizer tensors.
    static func restore<O: Optimizer>(_ optimizer: O, from checkpoint: Checkpoint) throws where O.Scalar == Float {
        let prefix = Checkpoint.optimizerPrefix
        try optimizer.loadState(Dictionary(uniqueKeysWithValues: checkpoint.tensors.filter { $0.key.hasPrefix(prefix) }
            .map { (String($0.key.dropFirst(prefix.count)), $0.value) }))
    }

    /// JSON text of `value` (sorted keys; non-finite numbers as strings, so NaN survives a round trip).
    static func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// Decodes what `json` wrote.
    static func decode<T: Decodable>(_ type: T.Type, from text: String) throws -> T {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        do { return try decoder.decode(type, from: Data(text.utf8)) } catch {
            throw TrainingError.cannotResume("the checkpoint's training history is malformed")
        }
    }
}
