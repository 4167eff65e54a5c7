import Foundation
import XCTest

/// Base of the tests that write run folders, checkpoints or data: a fresh scratch folder per test, removed after it.
class ScratchFolderTestCase: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("recurrent-models-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { if let folder { try? FileManager.default.removeItem(at: folder) } }
}
