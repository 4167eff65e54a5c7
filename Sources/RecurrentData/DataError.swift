import Foundation

/// What went wrong with data that came from outside the program. Messages say what was expected and what came.
public enum DataError: Error, CustomStringConvertible, Equatable {
    /// No file at `path`.
    case fileNotFound(path: String)
    /// The file exists but cannot be read; `reason` says why.
    case unreadable(path: String, reason: String)
    /// The file is not valid UTF-8.
    case notUTF8(path: String)
    /// The file holds no data.
    case empty(path: String)
    /// The file has fewer items (characters, rows, sentences) than the task needs.
    case tooShort(path: String, needed: Int, found: Int)
    /// A row that does not parse; `line` is 1-based.
    case badRow(path: String, line: Int, reason: String)
    /// An item of an array file (a sequence of an .npy array, a pixel of a cube) that cannot be used.
    case badItem(path: String, index: String, reason: String)
    /// A whole file that cannot be used as it is (an array of the wrong shape, a header that contradicts itself).
    case badFile(path: String, reason: String)
    /// A time series with too few values for the requested window and splits.
    case tooFewValues(path: String, needed: Int, found: Int, reason: String)
    /// A vocabulary (from a checkpoint or a file) is malformed.
    case badVocabulary(reason: String)
    /// A token the vocabulary does not know, where unknown tokens are not allowed.
    case unknownToken(String)

    public var description: String {
        switch self {
        case let .fileNotFound(path): "data file not found: \(path)"
        case let .unreadable(path, reason): "cannot read \(path): \(reason)"
        case let .notUTF8(path): "\(path) is not valid UTF-8 text"
        case let .empty(path): "data file is empty: \(path)"
        case let .tooShort(path, needed, found): "\(path) is too short: needs at least \(needed) tokens, has \(found)"
        case let .badRow(path, line, reason): "\(path), line \(line): \(reason)"
        case let .badItem(path, index, reason): "\(path), \(index): \(reason)"
        case let .badFile(path, reason): "\(path): \(reason)"
        case let .tooFewValues(path, needed, found, reason): "\(path) has \(found) values, needs at least \(needed) (\(reason))"
        case let .badVocabulary(reason): "bad vocabulary: \(reason)"
        case let .unknownToken(token): "token '\(token)' is not in the vocabulary"
        }
    }
}

/// Reads a whole UTF-8 text file, turning every failure into a `DataError`.
public func readTextFile(_ path: String) throws -> String {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw DataError.fileNotFound(path: path) }
    if isDirectory.boolValue { throw DataError.unreadable(path: path, reason: "it is a directory") }
    let data: Data
    do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
        throw DataError.unreadable(path: path, reason: error.localizedDescription)
    }
    if data.isEmpty { throw DataError.empty(path: path) }
    guard let text = String(data: data, encoding: .utf8) else { throw DataError.notUTF8(path: path) }
    return text
}
