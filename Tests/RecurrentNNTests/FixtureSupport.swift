import Foundation

/// Loads a JSON fixture written by a script in Scripts/ (Tests/Fixtures/<folder>/<name>.json).
func loadFixture(_ folder: String, _ name: String) throws -> [String: Any] {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/\(folder)/\(name).json")
    let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url))
    guard let dictionary = object as? [String: Any] else { throw CocoaError(.fileReadCorruptFile) }
    return dictionary
}

func doubles(_ value: Any?) -> [Double] { (value as? [Any])?.compactMap { ($0 as? NSNumber)?.doubleValue } ?? [] }
func ints(_ value: Any?) -> [Int] { (value as? [Any])?.compactMap { ($0 as? NSNumber)?.intValue } ?? [] }
