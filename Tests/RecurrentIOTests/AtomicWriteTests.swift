import Foundation
import XCTest
@testable import RecurrentIO
import RecurrentTensor

final class AtomicWriteTests: XCTestCase {
    struct Interrupted: Error {}

    func testCreatesAndReplaces() throws {
        let dir = try makeTemporaryDirectory(for: self)
        let url = dir.appendingPathComponent("config.json")
        try writeAtomically("{\"a\":1}", to: url)
        XCTAssertEqual(try String(contentsOf: url, encoding: .utf8), "{\"a\":1}")
        try writeAtomically(Data("second".utf8), to: url)
        XCTAssertEqual(try String(contentsOf: url, encoding: .utf8), "second")
        try atomicWrite(to: url) { file in
            try file.write("a,b\n")
            try file.write([UInt8]("1,2\n".utf8))
        }
        XCTAssertEqual(try String(contentsOf: url, encoding: .utf8), "a,b\n1,2\n")
        XCTAssertEqual(directoryListing(dir), ["config.json"])
    }

    func testInterruptedWriteLeavesOldFileIntactAndNoTemporaryFiles() throws {
        let dir = try makeTemporaryDirectory(for: self)
        let url = dir.appendingPathComponent("model.safetensors")
        try Safetensors.write(["w": Tensor<Float>([1, 2, 3])], to: url)
        let before = try Data(contentsOf: url)

        // Fail half-way through writing the new contents.
        XCTAssertThrowsError(try atomicWrite(to: url) { file in
            try file.write(Data(repeating: 0xAB, count: 1 << 16))
            throw Interrupted()
        }) { error in XCTAssertTrue(error is Interrupted) }

        XCTAssertEqual(try Data(contentsOf: url), before)
        XCTAssertEqual(directoryListing(dir), ["model.safetensors"])
        XCTAssertEqual(try Safetensors.read(contentsOf: url, as: Float.self).tensors["w"]?.scalars, [1, 2, 3])
    }

    func testMissingDirectoryFailsCleanly() throws {
        let dir = try makeTemporaryDirectory(for: self)
        let url = dir.appendingPathComponent("no/such/dir/x.safetensors")
        XCTAssertThrowsError(try Safetensors.write(["w": Tensor<Float>([1])], to: url)) { error in
            guard let error = error as? AtomicWriteError else { return XCTFail("\(error)") }
            XCTAssertEqual(error.step, .createTemporary)
            XCTAssertEqual(error.code, ENOENT)
            XCTAssertTrue(error.description.contains("could not create a temporary file"), error.description)
        }
        XCTAssertEqual(directoryListing(dir), [])
    }

    func testFailedRenameLeavesDestinationAndNoTemporaryFiles() throws {
        // A non-empty directory at the destination cannot be replaced by a file, even by root.
        let dir = try makeTemporaryDirectory(for: self)
        let url = dir.appendingPathComponent("taken")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: false)
        try Data("keep".utf8).write(to: url.appendingPathComponent("inside"))
        XCTAssertThrowsError(try writeAtomically("new", to: url)) { error in
            XCTAssertEqual((error as? AtomicWriteError)?.step, .rename, "\(error)")
        }
        XCTAssertEqual(directoryListing(dir), ["taken"])
        XCTAssertEqual(try String(contentsOf: url.appendingPathComponent("inside"), encoding: .utf8), "keep")
    }

    func testUnwritableDirectory() throws {
        guard getuid() != 0 else { throw XCTSkip("root ignores directory permissions") }
        let dir = try makeTemporaryDirectory(for: self)
        let url = dir.appendingPathComponent("x.txt")
        try writeAtomically("old", to: url)
        try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: dir.path)
        defer { try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dir.path) }
        XCTAssertThrowsError(try writeAtomically("new", to: url)) { error in
            XCTAssertEqual((error as? AtomicWriteError)?.code, EACCES, "\(error)")
        }
        XCTAssertEqual(try String(contentsOf: url, encoding: .utf8), "old")
        XCTAssertEqual(directoryListing(dir), ["x.txt"])
    }
}
