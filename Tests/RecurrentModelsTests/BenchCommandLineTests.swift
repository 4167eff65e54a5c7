import Foundation
import XCTest

/// `recurrent bench`: the speed benchmark of docs/BENCHMARKS.md as a user runs it. Only what it reports is
/// checked, never how fast anything is (speed is measured by the benchmark programs, not by tests).
final class BenchCommandLineTests: CommandLineTestCase {
    func testBenchReportsEveryRequestedMeasurementAsJSON() throws {
        let r = try run(["bench", "rnn-256-b32-t50", "sample-rnn2-512", "--mode", "infer", "--repeats", "2", "--warmup", "0",
                         "--json", "--no-reference"])
        XCTAssertEqual(r.status, 0, r.error)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.output.utf8)) as? [String: Any], r.output)
        XCTAssertEqual(report["repeats"] as? Int, 2)
        XCTAssertEqual(report["warmup"] as? Int, 0)
        XCTAssertNotNil(report["threads"] as? String)
        let machine = try XCTUnwrap(report["machine"] as? [String: Any], "the machine of issue 19")
        XCTAssertFalse((machine["cpu"] as? String ?? "").isEmpty)
        XCTAssertFalse((machine["kernel_path"] as? String ?? "").isEmpty)
        if let peak = machine["peak"] as? [String: Any] {
            XCTAssertGreaterThan(peak["gflops"] as? Double ?? 0, 0)
            XCTAssertGreaterThan(peak["one_core_gflops"] as? Double ?? 0, 0)
        }
        let rows = try XCTUnwrap(report["results"] as? [[String: Any]])
        XCTAssertEqual(rows.map { $0["config"] as? String }, ["rnn-256-b32-t50", "sample-rnn2-512"])
        XCTAssertEqual(rows.map { $0["mode"] as? String }, ["infer", "sample"], "sampling has its own mode")
        for row in rows {
            XCTAssertEqual((row["times"] as? [Double])?.count, 2)
            XCTAssertGreaterThan(row["tokens_per_s"] as? Double ?? 0, 0)
            XCTAssertGreaterThan(row["gflops"] as? Double ?? 0, 0)
            XCTAssertGreaterThan(row["peak_mb"] as? Double ?? 0, 0)
            XCTAssertTrue(row["sgemm_gflops"] is NSNull, "no reference asked for")
            XCTAssertGreaterThan(row["cpu_s_per_token"] as? Double ?? 0, 0)
            if machine["peak"] is [String: Any] { XCTAssertGreaterThan(row["peak_fraction"] as? Double ?? 0, 0) }
        }
    }

    func testBenchTableHasOneRowPerMeasurementWithTheReference() throws {
        let r = try run(["bench", "gru-256-b32-t50", "--repeats", "1", "--warmup", "0"])
        XCTAssertEqual(r.status, 0, r.error)
        let lines = r.output.split(separator: "\n")
        XCTAssertTrue(lines.first?.hasPrefix("recurrent bench: warmup 0, repeats 1, median; OPENBLAS_NUM_THREADS=") ?? false, r.output)
        // The machine: CPU model, kernel path, the FMA peak measured in the process (issue 19).
        XCTAssertTrue(lines.count > 3 && lines[1].hasPrefix("cpu: ") && lines[2].hasPrefix("kernel path: ")
                      && lines[3].hasPrefix("fp32 FMA peak ("), r.output)
        let rows = lines.dropFirst(4)
        XCTAssertEqual(rows.map { $0.split(separator: " ").prefix(2).joined(separator: " ") },
                       ["gru-256-b32-t50 train", "gru-256-b32-t50 infer"])
        XCTAssertTrue(rows.allSatisfy { $0.contains("% of sgemm") && !$0.contains("n/a%") }, r.output)
        XCTAssertTrue(rows.allSatisfy { $0.contains("% of peak") && $0.contains("CPU-µs/tok") }, r.output)
    }

    func testBadArgumentsFailWithAMessage() throws {
        for (arguments, message) in [(["bench", "lstm-1024"], "unknown configuration 'lstm-1024'"),
                                     (["bench", "--mode", "fast"], "--mode must be train, infer or all"),
                                     (["bench", "--repeats", "0"], "--repeats must be positive"),
                                     (["bench", "--warmup=-1"], "--warmup must not be negative")] {
            let r = try run(arguments)
            XCTAssertNotEqual(r.status, 0, arguments.joined(separator: " "))
            XCTAssertTrue(r.error.contains(message), "\(arguments): \(r.error)")
        }
    }
}
