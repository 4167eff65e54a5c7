import Foundation
import XCTest

/// Base of the tests that run the `recurrent` executable: a scratch folder per test (ScratchFolderTestCase) and `run`,
/// which feeds standard input and collects the exit status and both output streams.
class CommandLineTestCase: ScratchFolderTestCase {
    /// The executable built next to the test bundle (`swift build --build-tests` builds both).
    static var executable: URL {
        #if os(Linux)
        // swift-corelibs-xctest runs the test bundle itself as the executable, inside the products folder.
        let products = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        #else
        let products = Bundle(for: CommandLineTestCase.self).bundleURL.deletingLastPathComponent()
        #endif
        return products.appendingPathComponent("recurrent")
    }

    override func setUpWithError() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: Self.executable.path), "recurrent executable not built")
        signal(SIGPIPE, SIG_IGN)   // a command that fails before reading its standard input must not kill the test
        try super.setUpWithError()
    }

    func run(_ arguments: [String], input: String? = nil) throws -> (status: Int32, output: String, error: String) {
        let process = Process()
        process.executableURL = Self.executable
        process.arguments = arguments
        let out = Pipe(), err = Pipe(), inPipe = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = inPipe
        try process.run()
        inPipe.fileHandleForWriting.write(Data((input ?? "").utf8))
        try inPipe.fileHandleForWriting.close()
        let outData = out.fileHandleForReading.readDataToEndOfFile(), errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }

    /// What this class's commands promise about a refusal's standard error, beyond naming the problem and
    /// exiting non-zero without a crash: at most this many lines (nil: any), the problem named on the first.
    class var refusalMaximumLines: Int? { nil }
    class var refusalNamesProblemFirst: Bool { false }

    /// Runs `arguments` and checks a refusal: non-zero status below 128 (an exit, not a signal), every text in
    /// standard error, no Swift runtime trap, and the class's promises on length and order. `oneLine` overrides
    /// the length promise for one call (true: one line, false: any).
    func assertFails(_ arguments: [String], mentioning texts: String..., oneLine: Bool? = nil,
                     file: StaticString = #filePath, line: UInt = #line) throws {
        let result = try run(arguments)
        XCTAssertNotEqual(result.status, 0, "should fail: \(arguments)", file: file, line: line)
        XCTAssertTrue(result.status < 128, "must exit, not crash (status \(result.status))", file: file, line: line)
        for text in texts {
            XCTAssertTrue(result.error.contains(text), "stderr should mention '\(text)': \(result.error)", file: file, line: line)
        }
        XCTAssertFalse(result.error.contains("Fatal error"), file: file, line: line)
        let lines = result.error.split(separator: "\n")
        if Self.refusalNamesProblemFirst, let first = texts.first {
            XCTAssertTrue(lines.first?.contains(first) == true, "first line: \(result.error)", file: file, line: line)
        }
        if let maximum = oneLine.map({ $0 ? 1 : nil }) ?? Self.refusalMaximumLines {
            XCTAssertLessThanOrEqual(lines.count, maximum, "at most \(maximum) line(s): \(result.error)", file: file, line: line)
        }
    }
}
