import Foundation
import RecurrentTensor
import XCTest

/// `RECURRENT_ISA` as a user sets it: `generic` forces the Swift kernels (the bench header and JSON say so), a
/// value that names no path, or a path this processor lacks, stops `recurrent` and `recurrent-bench` with a
/// message and a non-zero status before any work.
final class InstructionSetCommandLineTests: CommandLineTestCase {
    /// Runs `program` (next to `recurrent`) with RECURRENT_ISA set to `value`.
    func run(isa value: String, _ arguments: [String], program: String = "recurrent") throws -> (status: Int32, output: String, error: String) {
        let process = Process()
        process.executableURL = Self.executable.deletingLastPathComponent().appendingPathComponent(program)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(["RECURRENT_ISA": value]) { $1 }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile(), errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }

    func testGenericIsForcedAndReported() throws {
        let bench = ["bench", "rnn-256-b32-t50", "--mode", "infer", "--repeats", "1", "--warmup", "0", "--no-reference"]
        let json = try run(isa: "generic", bench + ["--json"])
        XCTAssertEqual(json.status, 0, json.error)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any], json.output)
        XCTAssertEqual(report["kernels"] as? String, "generic")
        let table = try run(isa: "generic", bench)
        XCTAssertEqual(table.status, 0, table.error)
        let header = String(table.output.split(separator: "\n").first ?? "")
        XCTAssertTrue(header.contains("; kernels generic"), header)
        if InstructionSet.detected != .generic {
            XCTAssertTrue(header.contains("RECURRENT_ISA; detected \(InstructionSet.detected.rawValue)"), header)
        }
    }

    func testUnknownValueFailsWithAMessage() throws {
        for program in ["recurrent", "recurrent-bench"] {
            let arguments = program == "recurrent" ? ["bench", "rnn-256-b32-t50", "--repeats", "1"] : ["--config", "rnn-256-b32-t50"]
            let r = try run(isa: "avx9", arguments, program: program)
            XCTAssertEqual(r.status, 1, "\(program): \(r.output)")
            XCTAssertTrue(r.error.contains("RECURRENT_ISA=avx9 names no kernel path; use one of avx512, avx2, generic"), "\(program): \(r.error)")
            XCTAssertTrue(r.output.isEmpty, "nothing ran: \(r.output)")
        }
    }

    func testPathThisProcessorLacksFailsWithAMessage() throws {
        guard let missing = InstructionSet.allCases.last(where: { !$0.isSupported }) else {
            throw XCTSkip("this processor runs every path (\(InstructionSet.supported.map(\.rawValue)))")
        }
        let r = try run(isa: missing.rawValue, ["bench", "rnn-256-b32-t50", "--repeats", "1"])
        XCTAssertEqual(r.status, 1, r.output)
        XCTAssertTrue(r.error.contains("RECURRENT_ISA=\(missing.rawValue): this processor does not support \(missing.rawValue)"), r.error)
    }
}
