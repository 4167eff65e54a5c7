import Foundation
import RecurrentIO
import RecurrentNN
import RecurrentTensor

/// What `--resume` needs beyond the weights, kept in `last.safetensors` next to them: the optimizer's
/// state tensors (names prefixed `optimizer.`), every random generator's state, the position in the run
/// and the trainer's history. Doubles are stored as bit patterns and generators as their four words, so
/// a resumed run continues with exactly the numbers an uninterrupted run has at that point. Nothing
/// that depends on the clock is stored, so two runs with the same seed write identical checkpoints;
/// the training time so far comes back from metrics.csv instead.
///
/// Epoch-based trainers (classify, tag, forecast, translate; `ResumedEpochRun` reads it back) save it after every epoch; a run interrupted inside
/// an epoch repeats that epoch from its start.
struct ResumeState {
    static let optimizerPrefix = "optimizer."

    /// Epochs completed.
    var epoch = 0
    /// Optimizer steps taken.
    var step = 0
    /// Tokens (or samples) trained on so far, for the throughput column.
    var tokens = 0
    /// Wall-clock seconds of training so far (throughput and the `seconds` column continue from here);
    /// not saved in the checkpoint (see above).
    var seconds = 0.0
    /// Named generators: the data order, dropout masks, word dropout…
    var generators: [String: RandomGenerator] = [:]
    /// The trainer's own record of past epochs (JSON), so its history and best score come back too.
    var history = ""

    init() {}

    /// Adds the optimizer's state and this position to `checkpoint`.
    func write<O: Optimizer>(into checkpoint: inout Checkpoint, optimizer: O) where O.Scalar == Float {
        for (name, tensor) in optimizer.stateTensors() { checkpoint.tensors[Self.optimizerPrefix + name] = tensor }
        checkpoint.extra["epoch"] = "\(epoch)"
        checkpoint.extra["step"] = "\(step)"
        checkpoint.extra["tokens"] = "\(tokens)"
        for (name, generator) in generators {
            checkpoint.extra["generator." + name] = generator.state.map(String.init).joined(separator: ",")
        }
        checkpoint.extra["history"] = history
    }

    /// Saves `checkpoint` (the model's) with this position and the optimizer's state as the run's last.safetensors.
    func saveLast<O: Optimizer>(_ checkpoint: Checkpoint, optimizer: O, in runFolder: URL) throws where O.Scalar == Float {
        var last = checkpoint
        write(into: &last, optimizer: optimizer)
        try last.save(to: runFolder.appendingPathComponent("last.safetensors"))
    }

    /// The metrics.csv rows of the epochs completed so far; sets `seconds` to the training time the
    /// last of them records in column `secondsColumn` (0 when it is missing or not a number).
    mutating func completedRows(in runFolder: URL, secondsColumn: Int) throws -> [[Double]] {
        let rows = try RunLog.rows(in: runFolder).filter { $0[0] <= Double(epoch) }
        seconds = rows.last.flatMap { $0.count > secondsColumn && $0[secondsColumn].isFinite ? $0[secondsColumn] : nil } ?? 0
        return rows
    }

    /// The model's weights from `checkpoint` (tensors without the optimizer prefix).
    static func modelTensors(_ checkpoint: Checkpoint) -> [String: Tensor<Float>] {
        checkpoint.tensors.filter { !$0.key.hasPrefix(optimizerPrefix) }
    }

    /// Reads the position back and restores `optimizer`; `generatorNames` must all be present.
    init<O: Optimizer>(from checkpoint: Checkpoint, optimizer: O, generatorNames: [String]) throws where O.Scalar == Float {
        let extra = checkpoint.extra
        guard let epoch = extra["epoch"].flatMap(Int.init), epoch >= 0, let step = extra["step"].flatMap(Int.init), step >= 0,
              let tokens = extra["tokens"].flatMap(Int.init), tokens >= 0, let history = extra["history"] else {
            throw TrainingError.cannotResume("the checkpoint has no training position (epoch, step, tokens, history); was it written by an older version?")
        }
        self.epoch = epoch
        self.step = step
        self.tokens = tokens
        self.history = history
        for name in generatorNames {
            let words = (extra["generator." + name] ?? "").split(separator: ",").compactMap { UInt64($0) }
            guard let generator = RandomGenerator(state: words) else {
                throw TrainingError.cannotResume("generator '\(name)' is missing or malformed in the checkpoint")
            }
            generators[name] = generator
        }
        let prefix = Self.optimizerPrefix
        try optimizer.loadState(Dictionary(uniqueKeysWithValues: checkpoint.tensors.filter { $0.key.hasPrefix(prefix) }
            .map { (String($0.key.dropFirst(prefix.count)), $0.value) }))
    }

    /// Loads `last.safetensors` of `runFolder`, checking that it exists, belongs to `task` and was
    /// written for the same model configuration (`configJSON` as the trainer writes it).
    static func lastCheckpoint(in runFolder: URL, task: String, configJSON: String) throws -> Checkpoint {
        let url = runFolder.appendingPathComponent("last.safetensors")
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw TrainingError.cannotResume("\(url.path) does not exist; start without --resume")
        }
        let checkpoint = try Checkpoint.load(from: url)
        guard checkpoint.extra["task"] == task else { throw ModelError.wrongTask(expected: task, found: checkpoint.extra["task"] ?? "unknown") }
        guard checkpoint.config == configJSON else {
            throw TrainingError.cannotResume("the checkpoint's model configuration differs from this run's (\(url.path))")
        }
        return checkpoint
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

/// An epoch-based run (classify, tag, forecast, translate) read back for `--resume`: the run folder's
/// last.safetensors is checked (task, model configuration, then `checkData`), its weights go into the model
/// and its state into the optimizer; the rest is returned for the trainer to restore: its generators (by
/// name, in `position`), its epoch history, the best weights so far and the metrics rows already written.
struct ResumedEpochRun<Record: Decodable> {
    /// Epoch, step, tokens, generators and seconds so far (from metrics.csv).
    let position: ResumeState
    let history: [Record]
    /// best.safetensors' weights; nil when no epoch had completed.
    let bestWeights: [String: Tensor<Float>]?
    /// metrics.csv rows of the completed epochs.
    let previousRows: [[Double]]

    /// - Parameters:
    ///   - secondsColumn: metrics.csv's column of the training time so far.
    ///   - checkData: throws when the checkpoint was trained on other data (vocabularies).
    init<O: Optimizer>(runFolder: URL, task: String, configJSON: String, model: Module<Float>, optimizer: O,
                       generatorNames: [String], secondsColumn: Int,
                       checkData: (Checkpoint) throws -> Void = { _ in }) throws where O.Scalar == Float {
        let checkpoint = try ResumeState.lastCheckpoint(in: runFolder, task: task, configJSON: configJSON)
        try checkData(checkpoint)
        try model.loadParameters(ResumeState.modelTensors(checkpoint))
        var position = try ResumeState(from: checkpoint, optimizer: optimizer, generatorNames: generatorNames)
        history = try ResumeState.decode([Record].self, from: position.history)
        bestWeights = history.isEmpty ? nil
            : ResumeState.modelTensors(try Checkpoint.load(from: runFolder.appendingPathComponent("best.safetensors")))
        previousRows = try position.completedRows(in: runFolder, secondsColumn: secondsColumn)
        self.position = position
    }
}
