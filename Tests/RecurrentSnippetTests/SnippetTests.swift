import Foundation
import XCTest

/// Runs every program in Snippets/ (the code the documentation's articles show with `@Snippet`) and checks what it
/// prints. `swift build --build-tests` compiles the snippets next to the test bundle; the articles and this test
/// therefore always see the same code.
final class SnippetTests: XCTestCase {
    /// The snippet's standard output; fails the test if the program is missing or exits non-zero.
    func run(_ name: String) throws -> [String] {
        let bundle = Bundle.main.bundleURL
        let candidates = [bundle, bundle.deletingLastPathComponent()].map { $0.appendingPathComponent(name) }
        guard let executable = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            XCTFail("snippet \(name) is not built next to the tests (looked in \(candidates.map(\.path))); build with `swift build --build-tests`")
            throw CocoaError(.fileNoSuchFile)
        }
        let process = Process()
        process.executableURL = executable
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let output = String(decoding: data, as: UTF8.self)
        XCTAssertEqual(process.terminationStatus, 0, "\(name) failed:\n\(output)")
        return output.split(separator: "\n").map(String.init)
    }

    /// The number printed after `label` on the line that starts with it.
    func value(_ label: String, in lines: [String], file: StaticString = #filePath, line: UInt = #line) -> Double {
        guard let text = lines.first(where: { $0.hasPrefix(label) }) else {
            XCTFail("no line starts with '\(label)' in:\n\(lines.joined(separator: "\n"))", file: file, line: line)
            return .nan
        }
        guard let number = Double(text.dropFirst(label.count).trimmingCharacters(in: .whitespaces)) else {
            XCTFail("no number after '\(label)' in '\(text)'", file: file, line: line)
            return .nan
        }
        return number
    }

    func testOverview() throws {
        let lines = try run("Overview")
        XCTAssertEqual(lines.first, "output: [50, 8, 128] h: [4, 8, 64] c: [4, 8, 64]")
        let before = value("loss:", in: lines)
        XCTAssertGreaterThan(value("gradient norm before clipping:", in: lines), 0)
        let after = value("loss after one step:", in: lines)
        XCTAssertLessThan(after, before, "one Adam step on the MSE towards zero should lower it")
    }

    func testElmanAndJordan() throws {
        let lines = try run("ElmanAndJordan")
        XCTAssert(lines.contains("Elman output shape: [5, 2, 4] state shape: [1, 2, 4]"), "\(lines)")
        XCTAssert(lines.contains("Jordan output shape: [5, 2, 2] state shape: [1, 2, 2]"), "\(lines)")
        XCTAssertLessThan(value("Elman by hand against RNN, largest difference:", in: lines), 1e-12)
        XCTAssertLessThan(value("Jordan by hand against Jordan, largest difference:", in: lines), 1e-12)
        XCTAssertLessThan(value("JordanCell unrolled against Jordan, largest difference:", in: lines), 1e-12)
    }

    func testTruncatedBPTT() throws {
        let lines = try run("TruncatedBPTT")
        XCTAssertGreaterThan(value("full BPTT: gradient norm at step 0:", in: lines), 1e-6)
        XCTAssertLessThan(value("chunked forward against full forward, largest difference:", in: lines), 1e-12)
        XCTAssertEqual(value("truncated BPTT: gradient norm at step 0:", in: lines), 0)
        XCTAssertGreaterThan(value("truncated BPTT: gradient norm at step 8:", in: lines), 1e-6)
    }

    func testGradientClipping() throws {
        let lines = try run("GradientClipping")
        for a in ["0.8", "1.25"] {
            let ratio = value("a = \(a): ‖∂L/∂h_0‖ / ‖∂L/∂h_19‖:", in: lines), power = value("a = \(a): a^19:", in: lines)
            XCTAssertEqual(ratio, power, accuracy: 1e-9 * power, "a = \(a)")
        }
        XCTAssertGreaterThan(value("gradient norm before clipping:", in: lines), 1)
        XCTAssertLessThanOrEqual(value("by value: largest element:", in: lines), 1)
        XCTAssertLessThan(value("by value: cosine with the raw gradient:", in: lines), 0.999)
        XCTAssertEqual(value("by norm: norm:", in: lines), 1, accuracy: 1e-5)
        XCTAssertEqual(value("by norm: cosine with the raw gradient:", in: lines), 1, accuracy: 1e-12)
    }

    func testLSTMAndGRUGates() throws {
        let lines = try run("LSTMAndGRUGates")
        for label in ["LSTM h′ by hand against LSTMCell", "LSTM c′ by hand against LSTMCell", "GRU h′ by hand against GRUCell",
                      "paper GRU h′ by hand against GRUCell(resetAfter: false)"] {
            XCTAssertLessThan(value("\(label), largest difference:", in: lines), 1e-12, label)
        }
    }

    func testStackedAndBidirectional() throws {
        let lines = try run("StackedAndBidirectional")
        XCTAssert(lines.contains("output shape: [6, 2, 8] (T, B, D·H); final h shape: [4, 2, 4] (L·D, B, H)"), "\(lines)")
        XCTAssertLessThan(value("two stacked bidirectional layers by hand against LSTM, largest difference:", in: lines), 1e-12)
        XCTAssertLessThan(value("final state of layer 1 against its outputs, largest difference:", in: lines), 1e-12)
    }

    func testInputOutputShapes() throws {
        let lines = try run("InputOutputShapes")
        XCTAssertEqual(lines, [
            "many-to-one: [7, 3, 4] → [3, 5]",
            "final state equals the output at each sequence's last valid step: true",
            "aligned many-to-many: [7, 3, 4] → [7, 3, 5]",
            "one-to-many: [3, 8] → [4, 3, 5]",
            "unaligned many-to-many: [7, 3, 4] → [3, 3, 5]",
        ])
    }

    func testEncoderDecoder() throws {
        let lines = try run("EncoderDecoder")
        XCTAssert(lines.contains("decoder input: [2, 6, 5, 4] decoder target: [6, 5, 4, 3]"), "\(lines)")
        let before = value("held-out loss before training:", in: lines), after = value("held-out loss after training:", in: lines)
        XCTAssertLessThan(after, before / 4)
        XCTAssertGreaterThanOrEqual(value("greedy: sequences reversed exactly out of 32:", in: lines), 24, "the model should have learnt to reverse")
        let beams = lines.filter { $0.hasPrefix("beam [") }
        XCTAssertEqual(beams.count, 3)
        let logProbabilities = beams.map { Double($0.split(separator: ":").last!.trimmingCharacters(in: .whitespaces)) ?? .nan }
        XCTAssertEqual(logProbabilities, logProbabilities.sorted(by: >), "n-best list must be best first")
        XCTAssert(beams.first?.hasPrefix("beam [5, 9, 4, 7, 3]:") == true, "the best hypothesis should be [7, 4, 9, 5] reversed, then </s>: \(beams)")
        XCTAssertLessThan(value("largest deviation of an attention row sum from 1:", in: lines), 1e-5)
    }
}
