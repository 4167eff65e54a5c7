import RecurrentModels
import Foundation

/// options.json: the options every task shares and the task's own settings, so that `resume` continues
/// the same run.
public struct RunOptions<Settings: Codable>: Codable {
    /// The options every task shares.
    public var training: TrainingOptions
    /// The task's own settings.
    public var task: Settings

    /// Both parts of options.json.
    public init(training: TrainingOptions, task: Settings) {
        self.training = training
        self.task = task
    }

    /// Reads a run folder's options.json; options added since the run was started take `defaults`' values
    /// instead of making the file unreadable.
    public static func read(from folder: RunFolder, defaults: RunOptions) throws -> RunOptions {
        let url = folder.file("options.json")
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw TrainingError.cannotResume("\(url.path) does not exist")
        }
        func merged(_ base: Any, _ saved: Any) -> Any {
            guard let b = base as? [String: Any], let s = saved as? [String: Any] else { return saved }
            return b.merging(s) { merged($0, $1) }
        }
        let options: RunOptions
        do {
            let base = try JSONSerialization.jsonObject(with: JSONEncoder().encode(defaults))
            let saved = try JSONSerialization.jsonObject(with: data)
            guard saved is [String: Any], (saved as? [String: Any])?["training"] != nil else {
                throw TrainingError.cannotResume("\(url.path) was written by an earlier version of Recurrent (no \"training\" section); start a new run")
            }
            options = try JSONDecoder().decode(RunOptions.self, from: JSONSerialization.data(withJSONObject: merged(base, saved)))
        } catch let error as TrainingError {
            throw error
        } catch {
            throw TrainingError.cannotResume("\(url.path) is not a valid options file (\(error))")
        }
        try options.training.validate()
        return options
    }
}
