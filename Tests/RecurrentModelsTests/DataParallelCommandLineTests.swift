import Foundation
import RecurrentIO
import XCTest

/// `mpirun -np 2 recurrent train …` on this machine (127.0.0.1, `--oversubscribe`): two processes with
/// batch b against one with 2b, determinism, a lost process, a stop request, resuming, and processes
/// that disagree. `make test` installs Open MPI first (`make deps`).
final class DataParallelCommandLineTests: CommandLineTestCase {
    static let data = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Examples/data")
    static let shakespeare = data.appendingPathComponent("tinyshakespeare/input.txt").path
    static let reviews = data.appendingPathComponent("sentiment/yelp_labelled.txt").path

    static let mpirun = ["/usr/bin/mpirun", "/usr/local/bin/mpirun", "/opt/homebrew/bin/mpirun"].first { FileManager.default.isExecutableFile(atPath: $0) }

    override func setUpWithError() throws {
        try super.setUpWithError()
        XCTAssertNotNil(Self.mpirun, "mpirun not found: `make deps` installs Open MPI")
    }

    /// Starts `mpirun` with `arguments` (after the launcher's own options); returns the running process and its output pipes.
    func startMPI(_ arguments: [String]) throws -> (Process, Pipe, Pipe) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.mpirun ?? "/usr/bin/mpirun")
        process.arguments = ["--oversubscribe", "--mca", "btl_tcp_if_include", "lo"] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
        environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return (process, out, err)
    }

    func mpi(_ arguments: [String]) throws -> (status: Int32, output: String, error: String) {
        let (process, out, err) = try startMPI(arguments)
        let outData = out.fileHandleForReading.readDataToEndOfFile(), errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }

    func train2(_ arguments: [String]) throws -> (status: Int32, output: String, error: String) {
        try mpi(["-np", "2", Self.executable.path, "train"] + arguments)
    }

    /// steps.csv's losses.
    func losses(_ run: URL) throws -> [Double] {
        try String(contentsOf: run.appendingPathComponent("steps.csv"), encoding: .utf8).split(separator: "\n").dropFirst()
            .map { Double($0.split(separator: ",", omittingEmptySubsequences: false)[1]) ?? .nan }
    }

    /// ‖a − b‖ / ‖a‖ over all model parameters of two checkpoints, as one vector.
    func parameterDifference(_ a: URL, _ b: URL) throws -> Double {
        let x = try Checkpoint.load(from: a).modelTensors, y = try Checkpoint.load(from: b).modelTensors
        XCTAssertEqual(Set(x.keys), Set(y.keys))
        var difference = 0.0, norm = 0.0
        for (name, tensor) in x {
            for (u, v) in zip(tensor.scalars, y[name]!.scalars) {
                difference += (Double(u) - Double(v)) * (Double(u) - Double(v))
                norm += Double(u) * Double(u)
            }
        }
        return (difference / norm).squareRoot()
    }

    func assertSameRun(_ single: URL, _ double: URL, other: URL, steps: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        let (a, b) = (try losses(single), try losses(double))
        XCTAssertEqual(a.count, steps, file: file, line: line)
        XCTAssertEqual(b.count, steps, file: file, line: line)
        let worst = zip(a, b).map { abs($0 - $1) / abs($0) }.max() ?? .nan
        XCTAssertLessThanOrEqual(worst, 1e-6, "per-step losses, 1 process × 2b against 2 × b", file: file, line: line)
        let parameters = try parameterDifference(single.appendingPathComponent("last.safetensors"), double.appendingPathComponent("last.safetensors"))
        XCTAssertLessThanOrEqual(parameters, 1e-6, "parameters after \(steps) steps", file: file, line: line)
        // The comparison can fail: one process with the per-process batch ends elsewhere.
        XCTAssertGreaterThan(try parameterDifference(other.appendingPathComponent("last.safetensors"), double.appendingPathComponent("last.safetensors")),
                             1e-3, file: file, line: line)
    }

    // The tasks' default optimizer (Adam), without dropout (each process has its own dropout stream).
    static let charlm = ["charlm", "--data", shakespeare, "--hidden", "32", "--layers", "2", "--embedding", "16", "--seq-len", "24",
                         "--steps", "50", "--eval-every", "25", "--log-steps"]

    func testTwoProcessesTrainAsOneWithTwiceTheBatchCharLM() throws {
        let single = folder.appendingPathComponent("one"), double = folder.appendingPathComponent("two")
        // 8 × 24 characters: a Float mean over more characters is itself only good to about 1e-6.
        let one = try run(["train"] + Self.charlm + ["--batch", "8", "--out", single.path])
        XCTAssertEqual(one.status, 0, one.error)
        let two = try train2(Self.charlm + ["--batch", "4", "--out", double.path])
        XCTAssertEqual(two.status, 0, two.error)
        let other = folder.appendingPathComponent("other")
        XCTAssertEqual(try run(["train"] + Self.charlm + ["--batch", "4", "--out", other.path]).status, 0)
        try assertSameRun(single, double, other: other, steps: 50)
        XCTAssertEqual(two.output.components(separatedBy: "validation loss").count, 2, "process 0 alone prints: \(two.output)")
        XCTAssertTrue(two.output.contains("data-parallel: 2 processes"), two.output)
        // The validation losses (sharded evaluation) match the single process's.
        let metrics = { (run: URL) in try String(contentsOf: run.appendingPathComponent("metrics.csv"), encoding: .utf8)
            .split(separator: "\n").dropFirst().map { Double($0.split(separator: ",")[3])! } }
        for (a, b) in zip(try metrics(single), try metrics(double)) { XCTAssertEqual(a, b, accuracy: 1e-6 * a) }

        // Same seed, same number of processes: the same bits.
        let again = folder.appendingPathComponent("again")
        XCTAssertEqual(try train2(Self.charlm + ["--batch", "4", "--out", again.path]).status, 0)
        XCTAssertEqual(try Data(contentsOf: double.appendingPathComponent("last.safetensors")),
                       try Data(contentsOf: again.appendingPathComponent("last.safetensors")))
        XCTAssertEqual(try losses(double), try losses(again))
    }

    func testTwoProcessesTrainAsOneWithTwiceTheBatchClassify() throws {
        let arguments = ["classify", "--data", Self.reviews, "--hidden", "16", "--embedding", "16", "--epochs", "1", "--steps", "50",
                         "--dropout", "0", "--log-steps"]
        let single = folder.appendingPathComponent("one"), double = folder.appendingPathComponent("two")
        let one = try run(["train"] + arguments + ["--batch", "15", "--out", single.path])
        XCTAssertEqual(one.status, 0, one.error)
        // An odd global batch: shards of 7 and 8 sentences, weighed by their sizes.
        let two = try train2(arguments + ["--global-batch", "15", "--out", double.path])
        XCTAssertEqual(two.status, 0, two.error)
        let other = folder.appendingPathComponent("other")
        XCTAssertEqual(try run(["train"] + arguments + ["--batch", "7", "--out", other.path]).status, 0)
        try assertSameRun(single, double, other: other, steps: 50)
        let test = { (run: URL) in try JSONSerialization.jsonObject(with: Data(contentsOf: run.appendingPathComponent("test.json"))) as! [String: Any] }
        XCTAssertEqual(((try test(single))["test"] as! [String: Any])["accuracy"] as! Double,
                       ((try test(double))["test"] as! [String: Any])["accuracy"] as! Double)
    }

    /// Tagging (two loss terms: tags and intents, weighed apart), forecasting and translation, without dropout.
    func testTwoProcessesTrainAsOneForEveryOtherTask() throws {
        let sgd = ["--optimizer", "sgd", "--momentum", "0.9", "--lr", "0.3", "--dropout", "0", "--log-steps"]   // and another optimizer
        let tasks: [(name: String, arguments: [String], steps: Int)] = [
            ("tag", ["tag", "--data", Self.data.appendingPathComponent("snips").path, "--hidden", "16", "--embedding", "16", "--epochs", "1",
                     "--steps", "20", "--word-dropout", "0", "--no-lowercase", "--casing", "0", "--char-features", "cnn"] + sgd, 20),   // the model this was measured with
            ("forecast", ["forecast", "--data", Self.data.appendingPathComponent("co2/co2_mm_mlo.txt").path, "--hidden", "6", "--epochs", "1",
                          "--optimizer", "sgd", "--momentum", "0.9", "--lr", "0.1", "--log-steps"], 0),
            ("translate", ["translate", "--synthetic", "reverse", "--synthetic-train", "300", "--synthetic-eval", "40", "--min-symbols", "4",
                           "--max-symbols", "8", "--hidden", "12", "--embedding", "8", "--epochs", "1"] + sgd, 19),
        ]
        for task in tasks {
            let single = folder.appendingPathComponent(task.name + "-one"), double = folder.appendingPathComponent(task.name + "-two")
            let other = folder.appendingPathComponent(task.name + "-other")
            XCTAssertEqual(try run(["train"] + task.arguments + ["--batch", "16", "--out", single.path]).status, 0, task.name)
            let two = try train2(task.arguments + ["--batch", "8", "--out", double.path])
            XCTAssertEqual(two.status, 0, "\(task.name): \(two.error)")
            XCTAssertEqual(try run(["train"] + task.arguments + ["--batch", "8", "--out", other.path]).status, 0, task.name)
            try assertSameRun(single, double, other: other, steps: task.steps > 0 ? task.steps : try losses(single).count)
        }
    }

    static let longCharLM = ["charlm", "--data", shakespeare, "--hidden", "32", "--layers", "1", "--embedding", "16", "--seq-len", "24",
                             "--steps", "1000000", "--eval-every", "20", "--batch", "4"]

    /// Waits until `path` exists (at most `seconds`).
    func waitFor(_ path: URL, seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if FileManager.default.fileExists(atPath: path.path) { return true }
            usleep(100_000)
        }
        return false
    }

    func testALostProcessEndsTheJobAndTheRunResumes() throws {
        let runFolder = folder.appendingPathComponent("run")
        let (job, out, err) = try startMPI(["-np", "2", Self.executable.path, "train"] + Self.longCharLM + ["--out", runFolder.path])
        XCTAssertTrue(waitFor(runFolder.appendingPathComponent("last.safetensors"), seconds: 60), "no checkpoint written")
        // mpirun's children are the two processes; the one with the higher pid is not necessarily rank 1, so find rank 1 by its scratch folder.
        let processes = try childProcesses(of: job.processIdentifier)
        XCTAssertEqual(processes.count, 2, "\(processes)")
        let rankOne = try XCTUnwrap(processes.first { FileManager.default.fileExists(atPath: NSTemporaryDirectory() + "/recurrent-process1-\($0)") }
                                    ?? processes.last)
        let killed = Date()
        kill(rankOne, SIGKILL)
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        _ = out.fileHandleForReading.readDataToEndOfFile()
        job.waitUntilExit()
        XCTAssertLessThan(Date().timeIntervalSince(killed), 30, "the job must end within 30 s of losing a process")
        XCTAssertNotEqual(job.terminationStatus, 0)
        let error = String(decoding: errData, as: UTF8.self)
        XCTAssertTrue(error.contains("rank 1"), "the message names the lost process: \(error)")

        let last = try Checkpoint.load(from: runFolder.appendingPathComponent("last.safetensors"))
        let step = try XCTUnwrap(Int(last.extra["step"] ?? ""))
        XCTAssertEqual(last.extra["replicas"], "2")
        let resumed = try train2(Self.longCharLM.map { $0 == "1000000" ? "\(step + 20)" : $0 } + ["--out", runFolder.path, "--resume"])
        XCTAssertEqual(resumed.status, 0, resumed.error)
        XCTAssertEqual(try Checkpoint.load(from: runFolder.appendingPathComponent("last.safetensors")).extra["step"], "\(step + 20)")

        // One process cannot continue what two trained.
        let alone = try run(["train"] + Self.longCharLM + ["--out", runFolder.path, "--resume"])
        XCTAssertEqual(alone.status, 1)
        XCTAssertTrue(alone.error.contains("trained by 2 processes"), alone.error)
    }

    func testSIGINTSavesAndSaysHowToResume() throws {
        let runFolder = folder.appendingPathComponent("run")
        let (job, out, err) = try startMPI(["-np", "2", Self.executable.path, "train"] + Self.longCharLM + ["--out", runFolder.path])
        XCTAssertTrue(waitFor(runFolder.appendingPathComponent("last.safetensors"), seconds: 60), "no checkpoint written")
        kill(job.processIdentifier, SIGINT)   // mpirun sends SIGTERM to both processes
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        _ = out.fileHandleForReading.readDataToEndOfFile()
        job.waitUntilExit()
        let error = String(decoding: errData, as: UTF8.self)
        XCTAssertTrue(error.contains("received: stopped after step"), error)
        XCTAssertTrue(error.contains("Resume with: mpirun -np 2 recurrent train charlm"), error)
        let stopped = try XCTUnwrap(error.components(separatedBy: "stopped after step ").last?.prefix { $0.isNumber }).description
        let last = try Checkpoint.load(from: runFolder.appendingPathComponent("last.safetensors"))
        XCTAssertEqual(last.extra["step"], stopped, "the stop's step is saved")
        let resumed = try train2(Self.longCharLM.map { $0 == "1000000" ? "\(Int(stopped)! + 5)" : $0 } + ["--out", runFolder.path, "--resume"])
        XCTAssertEqual(resumed.status, 0, resumed.error)
    }

    func testProcessesThatDisagreeAreRefused() throws {
        let other = folder.appendingPathComponent("other.txt")
        try String(repeating: "Another text entirely, with its own letters. ", count: 400).write(to: other, atomically: true, encoding: .utf8)
        let arguments = { (data: String) in [Self.executable.path, "train", "charlm", "--data", data, "--hidden", "8", "--steps", "5",
                                             "--out", self.folder.appendingPathComponent("run").path] }
        let result = try mpi(["-np", "1"] + arguments(Self.shakespeare) + [":", "-np", "1"] + arguments(other.path))
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.error.contains("process 1 differs from process 0 in"), result.error)
        XCTAssertTrue(result.error.contains("the file"), result.error)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("run/last.safetensors").path))
    }

    /// The pids of `parent`'s children (from /proc).
    func childProcesses(of parent: Int32) throws -> [Int32] {
        try FileManager.default.contentsOfDirectory(atPath: "/proc").compactMap(Int32.init).filter { pid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return false }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 1 && Int32(fields[1]) == parent
        }.sorted()
    }
}
