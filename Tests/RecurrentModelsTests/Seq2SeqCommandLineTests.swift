import Foundation
import RecurrentIO
import XCTest

/// `recurrent train translate`, `translate` and `eval translate` end to end on a tiny synthetic task.
final class Seq2SeqCommandLineTests: CommandLineTestCase {
    func train(_ extra: [String] = []) throws -> URL {
        let out = folder.appendingPathComponent("run")
        let r = try run(["train", "translate", "--synthetic", "reverse", "--symbols", "4", "--min-symbols", "3", "--max-symbols", "5",
                         "--synthetic-train", "128", "--synthetic-eval", "8", "--hidden", "12", "--embedding", "6", "--epochs", "1",
                         "--attention", "bahdanau", "--beam", "2", "--out", out.path] + extra)
        XCTAssertEqual(r.status, 0, r.error)
        XCTAssertTrue(r.output.contains("test (best model, greedy): loss"), r.output)
        XCTAssertTrue(r.output.contains("test (best model, beam 2, length penalty 0.00)"), r.output)
        return out.appendingPathComponent("best.safetensors")
    }

    /// `diagnose` on a translation checkpoint: the encoder's ‖∂L/∂h_t‖ over the source steps for the loss of the
    /// last target token; a synthetic task needs no --data.
    func testDiagnoseTranslation() throws {
        let checkpoint = try train()
        let out = folder.appendingPathComponent("diagnose")
        let diagnosed = try run(["diagnose", "--checkpoint", checkpoint.path, "--batch", "6", "--out", out.path])
        XCTAssertEqual(diagnosed.status, 0, diagnosed.error)
        XCTAssertTrue(diagnosed.output.contains("translate lstm 1×12, attention bahdanau,"), diagnosed.output)
        XCTAssertTrue(diagnosed.output.contains("batch 6"), diagnosed.output)
        let csv = try String(contentsOf: out.appendingPathComponent("gradient_norms.csv"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(csv.first, "t,distance,encoder.rnn.l0,encoder.rnn.l0_reverse")
        // Sources of 3–5 symbols: one row per step of the longest.
        XCTAssertTrue((4...6).contains(csv.count), "\(csv.count) lines")
        let lag = try run(["diagnose", "--checkpoint", checkpoint.path, "--lag", "3"])
        XCTAssertNotEqual(lag.status, 0)
        XCTAssertTrue(lag.error.contains("--lag"), lag.error)
    }

    /// `--cell jordan`: a bidirectional Jordan encoder (directions summed like the fused layers' `.sum`) and a
    /// Jordan decoder whose fed-back output y is its state. It learns to reverse 3–5 symbols (exact match
    /// 0.97 in 30 epochs when measured; ≥ 0.8 asked), and translate, beam search, eval and diagnose read it.
    func testJordanEncoderDecoderLearnsAndServes() throws {
        let out = folder.appendingPathComponent("jordan")
        let r = try run(["train", "translate", "--synthetic", "reverse", "--symbols", "4", "--min-symbols", "3", "--max-symbols", "5",
                         "--synthetic-train", "512", "--synthetic-eval", "32", "--hidden", "24", "--embedding", "8", "--epochs", "30",
                         "--lr", "0.01", "--attention", "bahdanau", "--cell", "jordan", "--out", out.path])
        XCTAssertEqual(r.status, 0, r.error)
        XCTAssertTrue(r.output.contains("model: bidirectional jordan 1×24, attention bahdanau"), r.output)
        let line = try XCTUnwrap(r.output.split(separator: "\n").first { $0.hasPrefix("test (best model, greedy)") }, r.output)
        let exact = try XCTUnwrap(Double(try XCTUnwrap(line.components(separatedBy: "exact match ").last?.split(separator: " ").first)))
        XCTAssertGreaterThanOrEqual(exact, 0.8, String(line))
        let checkpoint = out.appendingPathComponent("best.safetensors")
        let translated = try run(["translate", "--checkpoint", checkpoint.path, "--beam", "3", "a b c d"])
        XCTAssertEqual(translated.status, 0, translated.error)
        XCTAssertEqual(translated.output.trimmingCharacters(in: .whitespacesAndNewlines), "d c b a")
        let eval = try run(["eval", "translate", "--checkpoint", checkpoint.path, "--beam", "2"])
        XCTAssertEqual(eval.status, 0, eval.error)
        XCTAssertTrue(eval.output.hasPrefix("test (beam 2): loss"), eval.output)
        let diagnosed = try run(["diagnose", "--checkpoint", checkpoint.path, "--batch", "4", "--out", folder.appendingPathComponent("d").path])
        XCTAssertEqual(diagnosed.status, 0, diagnosed.error)
        XCTAssertTrue(diagnosed.output.contains("translate jordan 1×24"), diagnosed.output)
    }

    /// A 2-layer Jordan encoder–decoder with dropout between the encoder's layers, stopped after one epoch and
    /// resumed, writes the same checkpoints as a run never stopped (the Jordan dropout generator is saved).
    func testJordanResumeEqualsAnUninterruptedRun() throws {
        let common = ["train", "translate", "--synthetic", "reverse", "--symbols", "4", "--min-symbols", "3", "--max-symbols", "5",
                      "--synthetic-train", "96", "--synthetic-eval", "8", "--hidden", "8", "--embedding", "4", "--layers", "2",
                      "--dropout", "0.3", "--attention", "luong-general", "--cell", "jordan", "--batch", "32"]
        let whole = folder.appendingPathComponent("whole"), parts = folder.appendingPathComponent("parts")
        XCTAssertEqual(try run(common + ["--epochs", "2", "--out", whole.path]).status, 0)
        XCTAssertEqual(try run(common + ["--epochs", "1", "--out", parts.path]).status, 0)
        let resumed = try run(["train", "translate", "--synthetic", "reverse", "--out", parts.path, "--resume", "--epochs", "2"])
        XCTAssertEqual(resumed.status, 0, resumed.error)
        for name in ["last.safetensors", "best.safetensors"] {
            XCTAssertEqual(try Data(contentsOf: whole.appendingPathComponent(name)), try Data(contentsOf: parts.appendingPathComponent(name)), name)
        }
    }

    func testTrainTranslateEvalAndHeatmaps() throws {
        let checkpoint = try train()
        let heatmaps = folder.appendingPathComponent("maps")
        let args = try run(["translate", "--checkpoint", checkpoint.path, "--heatmaps", heatmaps.path, "a b c", "d a"])
        XCTAssertEqual(args.status, 0, args.error)
        XCTAssertEqual(args.output.split(separator: "\n", omittingEmptySubsequences: false).count, 3, "two lines and the final newline")
        let maps = try FileManager.default.contentsOfDirectory(atPath: heatmaps.path).sorted()
        XCTAssertEqual(maps, ["attention-001.svg", "attention-002.svg"])
        let stdin = try run(["translate", "--checkpoint", checkpoint.path, "--beam", "3", "--n-best", "2"], input: "a b c\n\nd zebra\n")
        XCTAssertEqual(stdin.status, 0, stdin.error)
        XCTAssertTrue(stdin.error.contains("unknown words read as <unk>: zebra"), stdin.error)
        XCTAssertEqual(stdin.output.split(separator: "\n").filter { $0.hasPrefix("1\t") || $0.hasPrefix("2\t") }.count, 4, stdin.output)
        let eval = try run(["eval", "translate", "--checkpoint", checkpoint.path, "--beam", "2"])
        XCTAssertEqual(eval.status, 0, eval.error)
        XCTAssertTrue(eval.output.hasPrefix("test (beam 2): loss"), eval.output)
        XCTAssertTrue(eval.output.contains("exact match"), eval.output)
    }

    func testBadInputFailsWithAMessage() throws {
        let checkpoint = try train(["--attention", "none"])
        let empty = try run(["translate", "--checkpoint", checkpoint.path, "  "])
        XCTAssertEqual(empty.status, 1)
        XCTAssertTrue(empty.error.contains("error: the sentence to translate is empty"), empty.error)
        let noHeatmap = try run(["translate", "--checkpoint", checkpoint.path, "--heatmaps", folder.path, "a b"])
        XCTAssertEqual(noHeatmap.status, 1)
        XCTAssertTrue(noHeatmap.error.contains("needs a model with attention"), noHeatmap.error)
        let missing = try run(["translate", "--checkpoint", folder.appendingPathComponent("none.safetensors").path, "a"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.error.hasPrefix("error: "), missing.error)
        let badAttention = try run(["train", "translate", "--synthetic", "reverse", "--attention", "luong-magic"])
        XCTAssertNotEqual(badAttention.status, 0)
        XCTAssertTrue(badAttention.error.contains("invalid for '--attention <attention>'") && badAttention.error.contains("'luong-concat'"), badAttention.error)
        let both = try run(["train", "translate", "--synthetic", "reverse", "--data", "x.tsv"])
        XCTAssertNotEqual(both.status, 0)
        // A checkpoint whose synthetic-task sizes would have eval generate 10¹² pairs is refused, not obeyed.
        var tampered = try Checkpoint.load(from: checkpoint)
        tampered.extra["synthetic_train"] = "1000000000000"
        let huge = folder.appendingPathComponent("huge.safetensors")
        try tampered.save(to: huge)
        let refused = try run(["eval", "translate", "--checkpoint", huge.path])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.error.contains("synthetic-task description is incomplete or out of range"), refused.error)
    }

    func testAnotherTasksCheckpointIsRefused() throws {
        let corpus = folder.appendingPathComponent("tiny.txt")
        try String(repeating: "hello world, this is a tiny corpus. ", count: 40).write(to: corpus, atomically: true, encoding: .utf8)
        let out = folder.appendingPathComponent("lm")
        let lm = try run(["train", "charlm", "--data", corpus.path, "--hidden", "8", "--layers", "1", "--embedding", "4", "--steps", "2",
                          "--batch", "2", "--seq-len", "8", "--eval-every", "2", "--out", out.path])
        XCTAssertEqual(lm.status, 0, lm.error)
        let r = try run(["translate", "--checkpoint", out.appendingPathComponent("last.safetensors").path, "a b"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.error.contains("expected 'translate'"), r.error)
    }

    /// A model trained on a pair file: eval needs the file back, scores either held-out split, and the cosine schedule runs.
    func testPairFileCheckpointAndEvalSplits() throws {
        let pairs = folder.appendingPathComponent("pairs.tsv")
        let words = ["cat", "dog", "bird", "fish", "cow", "hen", "fox", "owl"], french = ["chat", "chien", "oiseau", "poisson", "vache", "poule", "renard", "hibou"]
        var lines: [String] = []
        for (i, w) in words.enumerated() { for (j, v) in words.enumerated() { lines.append("the \(w) and the \(v).\tle \(french[i]) et le \(french[j]) .\tCC-BY") } }
        try lines.joined(separator: "\n").write(to: pairs, atomically: true, encoding: .utf8)
        let out = folder.appendingPathComponent("run")
        let train = try run(["train", "translate", "--data", pairs.path, "--hidden", "8", "--embedding", "4", "--epochs", "1",
                             "--attention", "luong-dot", "--lr-schedule", "cosine", "--out", out.path])
        XCTAssertEqual(train.status, 0, train.error)
        XCTAssertTrue(train.output.hasPrefix("translate: 58 training, 3 validation, 3 test pairs"), train.output)
        let checkpoint = out.appendingPathComponent("best.safetensors").path
        for split in ["test", "validation"] {
            let r = try run(["eval", "translate", "--checkpoint", checkpoint, "--data", pairs.path, "--split", split])
            XCTAssertEqual(r.status, 0, r.error)
            XCTAssertTrue(r.output.hasPrefix("\(split) (greedy): loss"), r.output)
            XCTAssertTrue(r.output.contains("(3 sentences)"), r.output)
        }
        let noData = try run(["eval", "translate", "--checkpoint", checkpoint])
        XCTAssertEqual(noData.status, 1)
        XCTAssertTrue(noData.error.contains("--data is needed"), noData.error)
        let badSplit = try run(["eval", "translate", "--checkpoint", checkpoint, "--data", pairs.path, "--split", "train"])
        XCTAssertNotEqual(badSplit.status, 0)
        XCTAssertTrue(badSplit.error.contains("--split must be test or validation"), badSplit.error)
    }

    /// `train translate --resume` continues a pair-file run after its last epoch: one epoch, then resumed to two, writes
    /// the checkpoint two epochs in a row write; resuming on other data or without a run fails with a message.
    func testResumeContinuesARun() throws {
        let pairs = folder.appendingPathComponent("pairs.tsv")
        let words = ["cat", "dog", "bird", "fish", "cow", "hen"], french = ["chat", "chien", "oiseau", "poisson", "vache", "poule"]
        var lines: [String] = []
        for (i, w) in words.enumerated() { for (j, v) in words.enumerated() { lines.append("the \(w) and the \(v).\tle \(french[i]) et le \(french[j]) .") } }
        try lines.joined(separator: "\n").write(to: pairs, atomically: true, encoding: .utf8)
        let common = ["train", "translate", "--data", pairs.path, "--hidden", "8", "--embedding", "4", "--attention", "luong-general",
                      "--dropout", "0.2", "--batch", "8"]
        let whole = folder.appendingPathComponent("whole"), parts = folder.appendingPathComponent("parts")
        XCTAssertEqual(try run(common + ["--epochs", "2", "--out", whole.path]).status, 0)
        XCTAssertEqual(try run(common + ["--epochs", "1", "--out", parts.path]).status, 0)
        let resumed = try run(["train", "translate", "--data", pairs.path, "--out", parts.path, "--resume", "--epochs", "2"])
        XCTAssertEqual(resumed.status, 0, resumed.error)
        XCTAssertTrue(resumed.output.contains("attention luong-general with input feeding"), resumed.output)
        for name in ["last.safetensors", "best.safetensors"] {
            XCTAssertEqual(try Data(contentsOf: whole.appendingPathComponent(name)), try Data(contentsOf: parts.appendingPathComponent(name)), name)
        }
        let fewer = folder.appendingPathComponent("fewer.tsv")
        try lines.dropLast(3).joined(separator: "\n").write(to: fewer, atomically: true, encoding: .utf8)
        let otherData = try run(["train", "translate", "--data", fewer.path, "--out", parts.path, "--resume", "--epochs", "3"])
        XCTAssertEqual(otherData.status, 1)
        XCTAssertTrue(otherData.error.contains("the run was trained on 36 pairs, --data has 33"), otherData.error)
        let noRun = try run(["train", "translate", "--data", pairs.path, "--out", folder.appendingPathComponent("none").path, "--resume"])
        XCTAssertEqual(noRun.status, 1)
        XCTAssertTrue(noRun.error.contains("does not exist"), noRun.error)
    }
}
