import RecurrentIO

// The checks every task model's `load(checkpoint:)` makes first, in one place.
extension Checkpoint {
    /// Throws `ModelError.wrongTask` unless the checkpoint was written for `task`.
    public func require(task expected: String) throws {
        let found = extra["task"] ?? "unknown"
        guard found == expected else { throw ModelError.wrongTask(expected: expected, found: found) }
    }

    /// The config as `Config`, validated; `validate` runs before anything is built from it.
    /// - Parameter what: names the config in the message when it does not decode ("a classifier").
    func validatedConfig<Config: Decodable>(_ type: Config.Type, what: String, validate: (Config) throws -> Void) throws -> Config {
        let config: Config
        do { config = try decodeConfig(type) } catch {
            throw ModelError.badConfig("the config is not \(what) config (\(error))")
        }
        try validate(config)
        return config
    }
}
