import Foundation
import RecurrentIO
import RecurrentModels

/// Every file of a training run, in one folder:
///
/// | file | written |
/// |---|---|
/// | config.json | at the start: the model's configuration (also in every checkpoint) |
/// | options.json | at the start: `TrainingOptions` and the task's settings |
/// | vocabulary.json and other task files | at the start (`TrainingTask.runFiles`) |
/// | metrics.csv, TensorBoard events, loss_curve.svg | after each evaluation (`RunLog`) |
/// | best.safetensors | when the evaluation score improves |
/// | last.safetensors | after each evaluation and on a stop request: the weights plus the `RunState` |
/// | test.json / result.json | at the end (`TrainingTask.finish`) |
///
/// Every write is atomic (a temporary file renamed over the old one), so a run killed at any moment
/// leaves each file whole.
public struct RunFolder: Sendable {
    /// The folder.
    public let url: URL

    /// The run folder at `url` (created when the trainer first writes to it).
    public init(_ url: URL) { self.url = url }

    /// The URL of the file `name` in the folder.
    public func file(_ name: String) -> URL { url.appendingPathComponent(name) }
    /// best.safetensors: the weights of the best evaluation so far.
    public var best: URL { file("best.safetensors") }
    /// last.safetensors: the latest weights with the optimizer's state and the `RunState`, for resuming.
    public var last: URL { file("last.safetensors") }

    /// Creates the folder and removes temporary files a run killed mid-write left.
    func prepare() throws {
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        removeStaleTemporaryFiles(in: url)
    }

    /// Writes `data` as the file `name`, atomically.
    public func write(_ data: Data, to name: String) throws {
        try atomicWrite(data, to: file(name))
    }

    /// Writes `value` as pretty, key-sorted JSON (NaN and infinities as strings) to the file `name`.
    public func writeJSON<T: Encodable>(_ value: T, to name: String) throws {
        try write(Data(try Self.prettyJSON(value).utf8), to: name)
    }

    /// The JSON text every run file uses: pretty, sorted keys, non-finite numbers as "nan", "inf", "-inf".
    public static func prettyJSON<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// last.safetensors, checked: it exists, holds no NaN, belongs to `task` and to the model configuration `configJSON`.
    func loadLast(task: String, configJSON: String) throws -> Checkpoint {
        guard FileManager.default.fileExists(atPath: last.path) else {
            throw TrainingError.cannotResume("\(last.path) does not exist; start a new run instead")
        }
        let checkpoint = try Checkpoint.load(from: last)
        if let bad = checkpoint.nonFiniteTensorNames.first {
            throw TrainingError.cannotResume("\(last.path) holds NaN or infinity in '\(bad)'")
        }
        try checkpoint.require(task: task)
        guard checkpoint.config == configJSON else {
            throw TrainingError.cannotResume("the checkpoint's model configuration differs from this run's (\(last.path))")
        }
        return checkpoint
    }
}
