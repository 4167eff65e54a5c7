import Foundation
import RecurrentIO
import RecurrentModels
import RecurrentTraining
import XCTest

/// Fault tests on the real `recurrent` executable: a charlm run killed with SIGKILL at random points
/// (during a step, and frozen in the middle of a checkpoint write) and resumed until it finishes must
/// end with the parameters of an uninterrupted run, bit for bit, and the checkpoint on disk must be
/// loadable after every kill; SIGINT/SIGTERM must save and say how to resume.
final class KillResumeTests: CommandLineTestCase {
    /// Enough text for a few hundred distinct windows; the first characters of Tiny Shakespeare.
    func writeText() throws -> String {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Examples/data/tinyshakespeare/input.txt")
        let text = folder.appendingPathComponent("text.txt")
        try Data(try Data(contentsOf: source).prefix(12_000)).write(to: text)
        return text.path
    }

    /// A small 2-layer LSTM checkpointing every 2 steps; last.safetensors (with Adam's state) is about
    /// 1.5 MB, so a write plus its fsync lasts long enough to be caught in the middle.
    func trainArguments(text: String, out: String, steps: Int, evalEvery: Int = 2) -> [String] {
        ["train", "charlm", "--data", text, "--hidden", "96", "--layers", "2", "--embedding", "16", "--dropout", "0.1",
         "--batch", "8", "--seq-len", "24", "--steps", "\(steps)", "--eval-every", "\(evalEvery)", "--seed", "11", "--out", out]
    }

    /// Starts the executable with one BLAS thread (the same for every part of a compared run), output to
    /// a log file rather than a pipe nobody reads.
    func launch(_ arguments: [String], log: String) throws -> Process {
        let process = Process()
        process.executableURL = Self.executable
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["OPENBLAS_NUM_THREADS"] = "1"
        // Every checkpoint write stays visible for 20 ms, so a kill can land inside one on a fast machine too.
        environment["RECURRENT_FAULT_WRITE_DELAY_US"] = "20000"
        process.environment = environment
        XCTAssertTrue(FileManager.default.createFile(atPath: log, contents: nil))
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return process
    }

    func runToEnd(_ arguments: [String]) throws -> (status: Int32, error: String) {
        let log = folder.appendingPathComponent("log-\(UInt32.random(in: 0...UInt32.max)).txt").path
        let process = try launch(arguments, log: log)
        process.waitUntilExit()
        return (process.terminationStatus, (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
    }

    func temporaryFiles(in run: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: run.path)) ?? []).filter { $0.contains(".tmp-") }
    }

    /// Asserts the checkpoint is complete and finite; returns its step.
    func checkLoadable(_ url: URL, file: StaticString = #filePath, line: UInt = #line) -> Int? {
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        do {
            let checkpoint = try Checkpoint.load(from: url)
            XCTAssertEqual(checkpoint.nonFiniteTensorNames, [], file: file, line: line)
            _ = try LanguageModel.load(checkpoint: checkpoint)
            return checkpoint.extra["step"].flatMap(Int.init)
        } catch {
            XCTFail("\(url.lastPathComponent) is not loadable after a kill: \(error)", file: file, line: line)
            return nil
        }
    }

    /// Tensors and training position equal bit for bit.
    func assertSameRun(_ a: URL, _ b: URL, file: StaticString = #filePath, line: UInt = #line) throws {
        let x = try Checkpoint.load(from: a), y = try Checkpoint.load(from: b)
        XCTAssertEqual(Set(x.tensors.keys), Set(y.tensors.keys), file: file, line: line)
        XCTAssertTrue(x.tensors.keys.contains { $0.hasPrefix(Checkpoint.optimizerPrefix) }, file: file, line: line)
        for (name, tensor) in x.tensors {
            XCTAssertEqual(tensor.scalars.map(\.bitPattern), y.tensors[name]?.scalars.map(\.bitPattern), name, file: file, line: line)
        }
        XCTAssertEqual(x.extra, y.extra, file: file, line: line)
    }

    func testSIGKILLAtRandomPointsThenResumeGivesTheUninterruptedParameters() throws {
        let text = try writeText()
        let steps = 30
        let reference = folder.appendingPathComponent("reference"), killed = folder.appendingPathComponent("killed")
        let started = Date()
        let whole = try runToEnd(trainArguments(text: text, out: reference.path, steps: steps))
        XCTAssertEqual(whole.status, 0, whole.error)
        let duration = Date().timeIntervalSince(started)

        let seed = UInt64.random(in: 0...UInt64.max)
        var generator = SplitMix(seed: seed)
        var killsDuringStep = 0, killsDuringWrite = 0, savedStep = 0, finished = false
        let last = killed.appendingPathComponent("last.safetensors")
        for attempt in 0..<40 where !finished {
            let resume = FileManager.default.fileExists(atPath: last.path)
            let process = try launch(trainArguments(text: text, out: killed.path, steps: steps) + (resume ? ["--resume"] : []),
                                     log: folder.appendingPathComponent("killed-\(attempt).txt").path)
            let pid = process.processIdentifier
            var duringWrite = false
            if attempt % 2 == 0 {
                // During a step: freeze at a random moment; if that moment is a write, try again later.
                while process.isRunning {
                    Thread.sleep(forTimeInterval: Double.random(in: 0.05...max(0.1, duration * 0.5), using: &generator))
                    guard process.isRunning else { break }
                    kill(pid, SIGSTOP)
                    if temporaryFiles(in: killed).contains(where: { $0.contains("-\(pid)-") }) { kill(pid, SIGCONT); continue }
                    kill(pid, SIGKILL)
                    break
                }
            } else {
                // During a checkpoint write: freeze as soon as a temporary file of this process appears;
                // if it is still there while the process is frozen, the write has not been renamed yet.
                func writingCheckpoint() -> Bool {
                    temporaryFiles(in: killed).contains { $0.contains(".safetensors.tmp-\(pid)-") }
                }
                while process.isRunning {
                    guard writingCheckpoint() else { usleep(100); continue }
                    kill(pid, SIGSTOP)
                    if writingCheckpoint() {
                        duringWrite = true
                        kill(pid, SIGKILL)
                        break
                    }
                    kill(pid, SIGCONT)
                }
            }
            process.waitUntilExit()
            if process.terminationReason == .exit {
                XCTAssertEqual(process.terminationStatus, 0)
                if killsDuringStep == 0 || killsDuringWrite == 0, attempt < 36 {
                    // The run ended before both kinds of kill landed (a fast machine): start it over.
                    try FileManager.default.removeItem(at: killed)
                    savedStep = 0
                    continue
                }
                finished = true
                break
            }
            XCTAssertEqual(process.terminationStatus, SIGKILL)
            if duringWrite { killsDuringWrite += 1 } else { killsDuringStep += 1 }
            // What a kill may cost: the steps since the last checkpoint, never the checkpoint itself.
            if let step = checkLoadable(last) {
                XCTAssertGreaterThanOrEqual(step, savedStep, "a kill lost a checkpoint that was on disk")
                savedStep = step
            }
            _ = checkLoadable(killed.appendingPathComponent("best.safetensors"))
        }
        if !finished {
            let rest = try runToEnd(trainArguments(text: text, out: killed.path, steps: steps) + ["--resume"])
            XCTAssertEqual(rest.status, 0, rest.error)
        }
        print("kill/resume (seed \(seed)): \(killsDuringStep) kills during a step, \(killsDuringWrite) during a checkpoint write")
        XCTAssertGreaterThan(killsDuringStep, 0)
        XCTAssertGreaterThan(killsDuringWrite, 0, "no kill landed inside a checkpoint write (seed \(seed))")
        XCTAssertEqual(temporaryFiles(in: killed), [], "temporary files of killed writes are removed when the run restarts")

        try assertSameRun(reference.appendingPathComponent("last.safetensors"), last)
        XCTAssertEqual(try Data(contentsOf: reference.appendingPathComponent("best.safetensors")),
                       try Data(contentsOf: killed.appendingPathComponent("best.safetensors")))
        let columns = [0, 2, 3, 4, 6]   // step, train_loss, val_loss, val_bpc, clipped (not the times)
        XCTAssertEqual(try RunLog.rows(in: reference).map { r in columns.map { r[$0] } },
                       try RunLog.rows(in: killed).map { r in columns.map { r[$0] } })
    }

    func testSIGINTAndSIGTERMSaveACheckpointAndSayHowToResume() throws {
        let text = try writeText()
        for (signal, name) in [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM")] {
            let run = folder.appendingPathComponent(name)
            let log = folder.appendingPathComponent("\(name).txt").path
            // Checkpoints every 7 steps, so the signal lands between two of them.
            let process = try launch(trainArguments(text: text, out: run.path, steps: 100_000, evalEvery: 7), log: log)
            let deadline = Date().addingTimeInterval(60)
            while !FileManager.default.fileExists(atPath: run.appendingPathComponent("last.safetensors").path), Date() < deadline { usleep(2_000) }
            usleep(UInt32.random(in: 10_000...60_000))
            kill(process.processIdentifier, signal)
            process.waitUntilExit()
            let message = try String(contentsOfFile: log, encoding: .utf8)
            XCTAssertEqual(process.terminationReason, .exit, "ends by exiting, not by the signal")
            XCTAssertEqual(process.terminationStatus, 128 + signal, message)
            XCTAssertTrue(message.contains("\(name) received: stopped after step"), message)
            XCTAssertTrue(message.contains("Resume with: recurrent train charlm --data \(text) --out \(run.path) --resume"), message)
            XCTAssertFalse(message.contains("Fatal error"), message)
            guard let step = checkLoadable(run.appendingPathComponent("last.safetensors")) else { return XCTFail("no last.safetensors") }
            XCTAssertTrue(message.contains("stopped after step \(step);"), "the checkpoint holds the step the message names: \(message)")
            guard signal == SIGINT else { continue }

            // The steps since the last scheduled checkpoint were kept: resuming gives the uninterrupted run.
            let target = step + 3
            let resumed = try runToEnd(trainArguments(text: text, out: run.path, steps: target, evalEvery: 7) + ["--resume"])
            XCTAssertEqual(resumed.status, 0, resumed.error)
            let reference = folder.appendingPathComponent("reference")
            let whole = try runToEnd(trainArguments(text: text, out: reference.path, steps: target, evalEvery: 7))
            XCTAssertEqual(whole.status, 0, whole.error)
            try assertSameRun(reference.appendingPathComponent("last.safetensors"), run.appendingPathComponent("last.safetensors"))
        }
    }
}

extension KillResumeTests {
    /// The same on an epoch task, through the same command-line path as every task: a SIGINT lands inside an
    /// epoch, the run saves that step, says so with the epoch, and `--resume` gives the uninterrupted run.
    func testSIGINTInsideAnEpochOfAnEpochTaskResumesExactly() throws {
        let co2 = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Examples/data/co2/co2_mm_mlo.txt").path
        let arguments = { (out: URL) in ["train", "forecast", "--data", co2, "--hidden", "24", "--epochs", "12", "--batch", "16", "--out", out.path] }
        let run = folder.appendingPathComponent("stopped"), log = folder.appendingPathComponent("forecast.txt").path
        let process = try launch(arguments(run), log: log)
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: run.appendingPathComponent("last.safetensors").path), Date() < deadline { usleep(2_000) }
        usleep(UInt32.random(in: 5_000...40_000))
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        let message = try String(contentsOfFile: log, encoding: .utf8)
        XCTAssertEqual(process.terminationStatus, 128 + SIGINT, message)
        let last = try Checkpoint.load(from: run.appendingPathComponent("last.safetensors"))
        let step = try XCTUnwrap(last.extra["step"]), epoch = try XCTUnwrap(Int(last.extra["epoch"] ?? "")) + 1
        XCTAssertTrue(message.contains("SIGINT received: stopped after step \(step) (epoch \(epoch));"), message)
        XCTAssertTrue(message.contains("Resume with: recurrent train forecast --data \(co2) --out \(run.path) --resume"), message)
        let resumed = try runToEnd(arguments(run) + ["--resume"])
        XCTAssertEqual(resumed.status, 0, resumed.error)
        let reference = folder.appendingPathComponent("reference")
        XCTAssertEqual(try runToEnd(arguments(reference)).status, 0)
        for name in ["last.safetensors", "best.safetensors"] {
            XCTAssertEqual(try Data(contentsOf: run.appendingPathComponent(name)), try Data(contentsOf: reference.appendingPathComponent(name)), name)
        }
    }
}

/// A small seeded generator for the kill times, so that a failing seed can be replayed.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
