import ArgumentParser
import Foundation
import Yams

/// `--config FILE`: options of a command read from a small JSON or YAML file whose keys are the long
/// option names without dashes, for example
///
///     cell: gru
///     hidden: 128
///     bidirectional: false
///     epochs: 10
///
/// The file's options are placed before those on the command line, so the command line wins. The file
/// is parsed as YAML (JSON is YAML too), and must be a flat mapping of names to strings, numbers,
/// booleans (`true` → `--name`, `false` → `--no-name`) or lists of those (the option repeated).
struct ConfigFileOption: ParsableArguments {
    @Option(name: .customLong("config"), help: "A JSON or YAML file of options (keys are long option names; the command line wins); copied into the run folder.")
    var path: String?

    /// Copies the configuration file into the run folder (as config-file.yaml or .json), so the run records what it was given.
    func echo(into folder: URL) throws {
        guard let path else { return }
        let source = URL(fileURLWithPath: path)
        let ext = source.pathExtension.lowercased() == "json" ? "json" : "yaml"
        guard let contents = FileManager.default.contents(atPath: source.path) else { throw ConfigFileError.unreadable(path) }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try contents.write(to: folder.appendingPathComponent("config-file.\(ext)"), options: .atomic)
    }
}

/// A configuration file that cannot be turned into options.
enum ConfigFileError: Error, CustomStringConvertible, Equatable {
    case missingPath
    case unreadable(String)
    case malformed(path: String, reason: String)
    case notAMapping(String)
    case badValue(path: String, key: String)

    var description: String {
        switch self {
        case .missingPath: "--config needs a file name"
        case let .unreadable(path): "cannot read the configuration file \(path)"
        case let .malformed(path, reason): "\(path) is not valid JSON or YAML: \(reason)"
        case let .notAMapping(path): "\(path) must be a mapping of option names to values (for example 'hidden: 128')"
        case let .badValue(path, key): "\(path): '\(key)' must be a string, number, boolean or a list of those"
        }
    }
}

enum ConfigFile {
    /// `arguments` (without the program name) with the options of every `--config FILE` inserted right
    /// after the leading subcommand names, ahead of the options given on the command line.
    static func expand(_ arguments: [String]) throws -> [String] {
        var fileArguments: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--" { break }
            if argument == "--config" || argument.hasPrefix("--config=") {
                let path: String
                if argument == "--config" {
                    guard index + 1 < arguments.count else { throw ConfigFileError.missingPath }
                    path = arguments[index + 1]
                    index += 1
                } else {
                    path = String(argument.dropFirst("--config=".count))
                }
                fileArguments += try options(inFile: path)
            }
            index += 1
        }
        guard !fileArguments.isEmpty else { return arguments }
        let subcommands = arguments.prefix { !$0.hasPrefix("-") }
        return Array(subcommands) + fileArguments + arguments.dropFirst(subcommands.count)
    }

    /// The command-line options a configuration file stands for, keys in file order.
    static func options(inFile path: String) throws -> [String] {
        guard let data = FileManager.default.contents(atPath: path) else { throw ConfigFileError.unreadable(path) }
        guard let text = String(data: data, encoding: .utf8) else { throw ConfigFileError.malformed(path: path, reason: "not UTF-8 text") }
        return try options(inText: text, path: path)
    }

    static func options(inText text: String, path: String) throws -> [String] {
        let node: Node?
        do { node = try Yams.compose(yaml: text) } catch {
            throw ConfigFileError.malformed(path: path, reason: "\(error)".split(separator: "\n").first.map(String.init) ?? "syntax error")
        }
        guard let node else { return [] }  // an empty file sets nothing
        guard let mapping = node.mapping else { throw ConfigFileError.notAMapping(path) }
        var result: [String] = []
        for (keyNode, value) in mapping {
            guard let key = keyNode.scalar?.string, !key.isEmpty, !key.hasPrefix("-"), !key.contains(where: \.isWhitespace) else {
                throw ConfigFileError.notAMapping(path)
            }
            if key == "config" { throw ConfigFileError.badValue(path: path, key: key) }  // no nesting of files
            let values: [Node.Scalar]
            if let scalar = value.scalar {
                values = [scalar]
            } else if let sequence = value.sequence {
                let scalars = sequence.compactMap(\.scalar)
                guard scalars.count == sequence.count else { throw ConfigFileError.badValue(path: path, key: key) }
                values = scalars
            } else {
                throw ConfigFileError.badValue(path: path, key: key)
            }
            for scalar in values {
                // Plain true/false are flags; quoted "true" stays a string value.
                if scalar.style == .plain, let flag = Bool.construct(from: scalar) {
                    result.append(flag ? "--\(key)" : "--no-\(key)")
                } else {
                    result += ["--\(key)", scalar.string]
                }
            }
        }
        return result
    }
}
