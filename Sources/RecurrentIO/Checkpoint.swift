import Foundation
import RecurrentTensor

/// Why a checkpoint could not be loaded or saved. Errors in the underlying file format are
/// `SafetensorsError`s; these concern the checkpoint conventions on top of it.
public enum CheckpointError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file's `__metadata__` has no `"format": "recurrent-checkpoint"`.
    case notACheckpoint(format: String?)
    /// The checkpoint's `version` is missing or not one this library reads.
    case unsupportedVersion(found: String?, supported: String)
    /// `config` is not the JSON text of an object.
    case invalidConfig(reason: String)
    /// `vocabulary` is not the JSON text of an array of strings.
    case invalidVocabulary(reason: String)
    /// An `extra` key collides with one the checkpoint format reserves.
    case reservedExtraKey(String)
    /// `decodeConfig` was called on a checkpoint without a config.
    case missingConfig
    /// The config could not be encoded or decoded as the requested type.
    case configCoding(reason: String)

    public var description: String {
        switch self {
        case .notACheckpoint(let format):
            let found = format.map { "format \(JSONWriter.quoted($0))" } ?? "no \"format\" key"
            return "checkpoint: expected __metadata__ with \"format\": \"\(Checkpoint.format)\", found \(found)"
        case .unsupportedVersion(let found, let supported):
            let what = found.map { "version \(JSONWriter.quoted($0))" } ?? "no \"version\" key"
            return "checkpoint: expected version \"\(supported)\", found \(what)"
        case .invalidConfig(let reason):
            return "checkpoint: \"config\" should be the JSON text of an object: \(reason)"
        case .invalidVocabulary(let reason):
            return "checkpoint: \"vocabulary\" should be the JSON text of an array of strings: \(reason)"
        case .reservedExtraKey(let key):
            let reserved = Checkpoint.reservedKeys.sorted().map { "\"\($0)\"" }.joined(separator: ", ")
            return "checkpoint: extra key \(JSONWriter.quoted(key)) is reserved (reserved keys: \(reserved))"
        case .missingConfig:
            return "checkpoint: has no config"
        case .configCoding(let reason):
            return "checkpoint: config: \(reason)"
        }
    }
}

/// A model checkpoint: named `Float` tensors (PyTorch-style names such as `weight_ih_l0`) plus the
/// model's configuration and vocabulary, stored as one safetensors file.
///
/// The safetensors `__metadata__` holds strings only, so structured values are JSON text:
///
///     "format":     "recurrent-checkpoint"
///     "version":    "1"
///     "config":     "{\"hidden_size\":128,...}"     (optional; a JSON object)
///     "vocabulary": "[\"<pad>\",\"a\",...]"          (optional; a JSON array of strings)
///     any other key: free-form, kept in `extra`
///
/// The file is readable by any safetensors library (`safetensors.torch.load_file`).
public struct Checkpoint {
    /// The value of the `format` metadata key that marks a Recurrent checkpoint.
    public static let format = "recurrent-checkpoint"
    /// The checkpoint layout version this library writes.
    public static let version = "1"
    /// Metadata keys that `extra` may not use.
    public static let reservedKeys: Set<String> = ["format", "version", "config", "vocabulary"]

    /// Parameters and buffers by name.
    public var tensors: [String: Tensor<Float>]
    /// The model configuration as the JSON text of an object, or nil. See `init(tensors:encodingConfig:vocabulary:extra:)`
    /// and `decodeConfig(_:)` for `Codable` configs.
    public var config: String?
    /// The token vocabulary in index order, or nil.
    public var vocabulary: [String]?
    /// Free-form metadata (training step, data set name, …).
    public var extra: [String: String]

    /// A checkpoint of `tensors` with the config as JSON text (or nil), the vocabulary and free-form metadata.
    public init(tensors: [String: Tensor<Float>], config: String? = nil, vocabulary: [String]? = nil, extra: [String: String] = [:]) {
        self.tensors = tensors
        self.config = config
        self.vocabulary = vocabulary
        self.extra = extra
    }

    /// A checkpoint whose config is `config` encoded as JSON (keys sorted, so the file is reproducible).
    /// - Throws: `CheckpointError.configCoding` if `config` cannot be encoded.
    ///
    /// (Labelled `encodingConfig` so that a `String` passed as `config:` is never mistaken for a
    /// value to encode.)
    public init<Config: Encodable>(tensors: [String: Tensor<Float>], encodingConfig config: Config, vocabulary: [String]? = nil, extra: [String: String] = [:]) throws {
        self.init(tensors: tensors, vocabulary: vocabulary, extra: extra)
        try setConfig(config)
    }

    /// Replaces `config` with `value` encoded as JSON.
    /// - Throws: `CheckpointError.configCoding` if `value` cannot be encoded.
    public mutating func setConfig<Config: Encodable>(_ value: Config) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            config = String(decoding: try encoder.encode(value), as: UTF8.self)
        } catch {
            throw CheckpointError.configCoding(reason: "cannot encode \(Config.self): \(error)")
        }
    }

    /// Decodes `config` as `Config`.
    /// - Throws: `CheckpointError.missingConfig`, or `.configCoding` when the JSON does not fit `Config`.
    public func decodeConfig<Config: Decodable>(_ type: Config.Type) throws -> Config {
        guard let config else { throw CheckpointError.missingConfig }
        do {
            return try JSONDecoder().decode(Config.self, from: Data(config.utf8))
        } catch {
            throw CheckpointError.configCoding(reason: "cannot decode \(Config.self): \(error)")
        }
    }

    /// Names (sorted) of the tensors holding a NaN or an infinity: check after `load` to refuse a
    /// checkpoint saved from a diverged run.
    /// Names of optimizer-state tensors (which last.safetensors carries beside the weights) start with this.
    public static let optimizerPrefix = "optimizer."

    /// The model's weights: every tensor but the optimizer's state.
    public var modelTensors: [String: Tensor<Float>] { tensors.filter { !$0.key.hasPrefix(Self.optimizerPrefix) } }

    /// Names of the tensors holding a NaN or an infinity, sorted.
    public var nonFiniteTensorNames: [String] {
        tensors.filter { _, t in
            UnsafeBufferPointer(start: t.data, count: t.count).contains { !$0.isFinite }
        }.keys.sorted()
    }

    // MARK: metadata

    /// The `__metadata__` map this checkpoint is stored with.
    /// - Throws: `CheckpointError` for a reserved `extra` key or a config that is not a JSON object.
    public func metadata() throws -> [String: String] {
        var metadata = extra
        for key in extra.keys where Checkpoint.reservedKeys.contains(key) {
            throw CheckpointError.reservedExtraKey(key)
        }
        metadata["format"] = Checkpoint.format
        metadata["version"] = Checkpoint.version
        if let config {
            try Checkpoint.validateConfig(config)
            metadata["config"] = config
        }
        if let vocabulary {
            metadata["vocabulary"] = JSONWriter.string(.array(vocabulary.map { .string($0) }))
        }
        return metadata
    }

    /// Reads a checkpoint from safetensors metadata and tensors.
    /// - Throws: `CheckpointError`.
    public init(tensors: [String: Tensor<Float>], metadata: [String: String]) throws {
        guard metadata["format"] == Checkpoint.format else {
            throw CheckpointError.notACheckpoint(format: metadata["format"])
        }
        guard metadata["version"] == Checkpoint.version else {
            throw CheckpointError.unsupportedVersion(found: metadata["version"], supported: Checkpoint.version)
        }
        var config: String?
        if let text = metadata["config"] {
            try Checkpoint.validateConfig(text)
            config = text
        }
        var vocabulary: [String]?
        if let text = metadata["vocabulary"] {
            vocabulary = try Checkpoint.parseVocabulary(text)
        }
        self.init(tensors: tensors, config: config, vocabulary: vocabulary,
                  extra: metadata.filter { !Checkpoint.reservedKeys.contains($0.key) })
    }

    static func validateConfig(_ text: String) throws {
        let value: JSONValue
        do { value = try JSONParser.parse(text) } catch {
            throw CheckpointError.invalidConfig(reason: "at byte \(error.offset): \(error.reason)")
        }
        guard case .object = value else { throw CheckpointError.invalidConfig(reason: "found \(value.summary)") }
    }

    static func parseVocabulary(_ text: String) throws -> [String] {
        let value: JSONValue
        do { value = try JSONParser.parse(text) } catch {
            throw CheckpointError.invalidVocabulary(reason: "at byte \(error.offset): \(error.reason)")
        }
        guard case .array(let items) = value else { throw CheckpointError.invalidVocabulary(reason: "found \(value.summary)") }
        var tokens: [String] = []
        tokens.reserveCapacity(items.count)
        for (i, item) in items.enumerated() {
            guard case .string(let token) = item else {
                throw CheckpointError.invalidVocabulary(reason: "element \(i) is \(item.summary)")
            }
            tokens.append(token)
        }
        return tokens
    }

    // MARK: files

    /// The checkpoint as safetensors bytes.
    /// - Throws: `CheckpointError`, `SafetensorsError`.
    public func encoded() throws -> Data {
        if tensors[Safetensors.metadataKey] != nil { throw SafetensorsError.reservedTensorName(Safetensors.metadataKey) }
        return Safetensors.encode(tensors, metadata: try metadata())
    }

    /// Decodes a checkpoint from safetensors bytes (tensors of any readable dtype become `Float`).
    /// - Throws: `SafetensorsError`, `CheckpointError`.
    public static func decode(_ data: Data) throws -> Checkpoint {
        let file = try Safetensors.decode(data, as: Float.self)
        return try Checkpoint(tensors: file.tensors, metadata: file.metadata)
    }

    /// Saves atomically: an interrupted save leaves any previous file at `url` intact.
    /// - Throws: `CheckpointError`, `SafetensorsError`, `AtomicWriteError`.
    public func save(to url: URL) throws {
        try Safetensors.write(tensors, metadata: metadata(), to: url)
    }

    /// Loads and validates the checkpoint at `url`.
    /// - Throws: `SafetensorsError`, `CheckpointError`.
    public static func load(from url: URL) throws -> Checkpoint {
        let file = try Safetensors.read(contentsOf: url, as: Float.self)
        return try Checkpoint(tensors: file.tensors, metadata: file.metadata)
    }
}
