import Foundation
import XCTest

/// Base of the reader tests that write their own files: a fresh scratch folder per test, removed after it.
class ScratchFolderTestCase: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("recurrent-data-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { if let folder { try? FileManager.default.removeItem(at: folder) } }

    /// Writes `data` to `name` (subfolders created) inside the scratch folder and returns its path.
    func write(_ name: String, _ data: Data) throws -> String {
        let url = folder.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: url)
        return url.path
    }

    /// Writes `text` as UTF-8 to `name` inside the scratch folder and returns its path.
    func write(_ text: String, _ name: String) throws -> String { try write(name, Data(text.utf8)) }
}
