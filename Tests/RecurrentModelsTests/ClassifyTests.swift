import Foundation
import RecurrentData
import RecurrentIO
@testable import RecurrentModels
import RecurrentNN
import RecurrentTensor
@testable import RecurrentTraining
import XCTest

/// A tiny sentence<TAB>label file for quick end-to-end runs: 80 reviews, 40 of each label, each sentence 10 times
/// with a numbered suffix.
enum ClassifyFixtures {
    static func smallReviews(in folder: URL) throws -> URL {
        let data = folder.appendingPathComponent("small.tsv")
        let good = ["a great phone", "works great , love it", "excellent value", "very good"]
        let bad = ["terrible battery", "it broke , awful", "waste of money", "very bad"]
        let rows = (0..<10).flatMap { i in good.map { "\($0) \(i)\t1" } + bad.map { "\($0) \(i)\t0" } }
        try rows.joined(separator: "\n").write(to: data, atomically: true, encoding: .utf8)
        return data
    }
}

final class ClassifyTests: ScratchFolderTestCase {
    static let sentiment = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Examples/data/sentiment")

    /// 150 sentences of each of the yelp and amazon files: 300 real sentences, half positive.
    func smallSlice() throws -> [LabelledSentence] {
        let yelp = try ClassificationTSV.read(path: Self.sentiment.appendingPathComponent("yelp_labelled.txt").path)
        let amazon = try ClassificationTSV.read(path: Self.sentiment.appendingPathComponent("amazon_cells_labelled.txt").path)
        return Array(yelp.prefix(150)) + Array(amazon.prefix(150))
    }

    func testMetrics() {
        // labels 1 1 1 0 0 ; predictions 1 0 1 1 0 → TP 2, FP 1, FN 1 for class 1; TP 1, FP 1, FN 1 for class 0.
        let m = ClassificationMetrics(predictions: [1, 0, 1, 1, 0], labels: [1, 1, 1, 0, 0], classes: 2)
        XCTAssertEqual(m.accuracy, 0.6, accuracy: 1e-12)
        XCTAssertEqual(m.f1, 2.0 / 3.0, accuracy: 1e-12)
        XCTAssertEqual(m.macroF1, (2.0 / 3.0 + 0.5) / 2, accuracy: 1e-12)
        XCTAssertEqual(m.confusion, [[1, 1], [1, 2]])
        let none = ClassificationMetrics(predictions: [0, 0], labels: [0, 0], classes: 2)
        XCTAssertEqual(none.f1, 0, "no positives predicted or present: F1 0, not NaN")
        XCTAssertEqual(none.accuracy, 1)
    }

    func testPoolingsGiveLogitsPerSentenceAndIgnorePadding() throws {
        for pooling in Pooling.allCases {
            for cell in CellKind.allCases {
                let config = SequenceClassifierConfig(vocabularySize: 10, embeddingSize: 4, hiddenSize: 5, layers: 2, cell: cell,
                                                      bidirectional: true, dropout: 0.3, classes: 3, pooling: pooling)
                let model = SequenceClassifier(config, seed: 2)
                model.eval()
                let alone = ClassificationBatch(sequences: [[3, 4]], paddingId: 0)
                let padded = ClassificationBatch(sequences: [[3, 4], [5, 6, 7, 8, 9]], paddingId: 0)
                let a = model(alone), b = model(padded)
                XCTAssertEqual(b.shape, [2, 3])
                for c in 0..<3 { XCTAssertEqual(a.data[c], b.data[c], accuracy: 1e-5, "\(cell) \(pooling): padding must not change the result") }
            }
        }
    }

    func train(_ sentences: [LabelledSentence], epochs: Int, out: URL) throws -> Trainer<ClassificationTask> {
        let data = try SentenceClassificationData(sentences, splitSeed: 3)
        let config = SequenceClassifierConfig(vocabularySize: data.vocabulary.count, embeddingSize: 16, hiddenSize: 16, dropout: 0.1)
        let trainer = try classifierTrainer(config, data: data, seed: 5, epochs: epochs, batch: 16, out: out) { $0.learningRate = 1e-2 }
        try trainer.run()
        return trainer
    }

    /// End to end on 300 real sentences: the run folder's files, learning beyond chance, loading back.
    func testShortTrainingWritesRunFolderAndLearns() throws {
        let trainer = try train(try smallSlice(), epochs: 4, out: folder)
        XCTAssertEqual(trainer.task.data.train.count, 240)
        XCTAssertEqual(trainer.history.count, 4)
        for name in ["config.json", "options.json", "vocabulary.json", "metrics.csv", "best.safetensors", "last.safetensors", "test.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent(name).path), name)
        }
        let metrics = try String(contentsOf: folder.appendingPathComponent("metrics.csv"), encoding: .utf8)
        XCTAssertEqual(metrics.split(separator: "\n").count, 5)
        XCTAssertTrue(metrics.hasPrefix("epoch,step,seconds,train_loss,train_accuracy,val_loss,val_accuracy,val_f1,val_macro_f1"))
        let train = trainer.task.classifier.evaluate(on: trainer.task.data.train)
        XCTAssertGreaterThan(train.accuracy, 0.8, "must fit its training sentences well beyond chance (0.5): \(train.summary)")
        XCTAssertLessThan(trainer.history.last!.trainLoss, trainer.history.first!.trainLoss)

        let checkpoint = try Checkpoint.load(from: folder.appendingPathComponent("best.safetensors"))
        XCTAssertEqual(checkpoint.extra["task"], "classify")
        XCTAssertEqual(checkpoint.extra["split_seed"], "3")
        let (model, vocabulary, _) = try SequenceClassifier.load(from: folder.appendingPathComponent("best.safetensors"))
        XCTAssertEqual(vocabulary, trainer.task.data.vocabulary)
        let report = try Data(contentsOf: folder.appendingPathComponent("test.json"))
        XCTAssertEqual(model.evaluate(on: trainer.task.data.test), try JSONDecoder().decode(ClassificationTask.Report.self, from: report).test)

        var wrong = checkpoint
        wrong.extra["task"] = "charlm"
        try wrong.save(to: folder.appendingPathComponent("wrong.safetensors"))
        XCTAssertThrowsError(try SequenceClassifier.load(from: folder.appendingPathComponent("wrong.safetensors"))) {
            XCTAssertEqual($0 as? ModelError, .wrongTask(expected: "classify", found: "charlm"))
        }
        XCTAssertThrowsError(try LanguageModel.load(from: folder.appendingPathComponent("best.safetensors"))) {
            XCTAssertEqual($0 as? ModelError, .wrongTask(expected: "charlm", found: "classify"))
        }
        var bad = checkpoint
        bad.config = #"{"vocabularySize": 5, "embeddingSize": 16, "hiddenSize": 16, "layers": 1, "cell": "lstm", "bidirectional": true, "dropout": 0, "classes": 1, "pooling": "max"}"#
        try bad.save(to: folder.appendingPathComponent("bad.safetensors"))
        XCTAssertThrowsError(try SequenceClassifier.load(from: folder.appendingPathComponent("bad.safetensors"))) {
            XCTAssertEqual($0 as? ModelError, .badConfig("classes must be in 2...100000, got 1"))
        }
    }

    func testSameSeedGivesBitIdenticalCheckpoints() throws {
        let sentences = Array(try smallSlice().prefix(120))
        let a = folder.appendingPathComponent("a"), b = folder.appendingPathComponent("b")
        _ = try train(sentences, epochs: 1, out: a)
        _ = try train(sentences, epochs: 1, out: b)
        XCTAssertEqual(try Data(contentsOf: a.appendingPathComponent("last.safetensors")), try Data(contentsOf: b.appendingPathComponent("last.safetensors")))
    }
}

/// `recurrent train/eval/predict classify` end to end: bad input gets a one-line message and a non-zero exit.
final class ClassifyCommandLineTests: CommandLineTestCase {
    /// Errors in the data or checkpoint are one line; option errors caught by `validate()` get ArgumentParser's usage hint after it.
    override class var refusalMaximumLines: Int? { 1 }
    override class var refusalNamesProblemFirst: Bool { true }

    func testTrainEvalPredictAndBadInputs() throws {
        let data = try ClassifyFixtures.smallReviews(in: folder)
        let runFolder = folder.appendingPathComponent("run").path
        let trained = try run(["train", "classify", "--data", data.path, "--hidden", "8", "--embedding", "8", "--epochs", "2",
                               "--batch", "8", "--out", runFolder])
        XCTAssertEqual(trained.status, 0, trained.error)
        XCTAssertTrue(trained.output.contains("test: accuracy"), trained.output)
        let checkpoint = runFolder + "/best.safetensors"

        let evaluated = try run(["eval", "classify", "--checkpoint", checkpoint, "--data", data.path])
        XCTAssertEqual(evaluated.status, 0, evaluated.error)
        XCTAssertTrue(evaluated.output.hasPrefix("test: accuracy"), evaluated.output)
        XCTAssertTrue(evaluated.output.contains("(8 sentences)"), evaluated.output)

        let predicted = try run(["predict", "classify", "--checkpoint", checkpoint], input: "a great phone\nnever seen words\n\nvery bad\n")
        XCTAssertEqual(predicted.status, 0, predicted.error)
        let lines = predicted.output.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        XCTAssertEqual(lines.count, 4, "one line per input line, blank ones included: \(predicted.output)")
        for line in lines {
            let fields = line.split(separator: "\t")
            XCTAssertEqual(fields.count, 2)
            XCTAssertTrue(["0", "1"].contains(String(fields[0])), String(line))
            let p = Double(fields[1]) ?? -1
            XCTAssertTrue(p >= 0.5 && p <= 1, String(line))
        }
        let input = folder.appendingPathComponent("input.txt")
        try "excellent value\n".write(to: input, atomically: true, encoding: .utf8)
        let fromFile = try run(["predict", "classify", "--checkpoint", checkpoint, "--input", input.path])
        XCTAssertEqual(fromFile.status, 0, fromFile.error)
        XCTAssertEqual(fromFile.output.split(separator: "\n").count, 1)

        let missing = folder.appendingPathComponent("missing.tsv").path
        try assertFails(["train", "classify", "--data", missing], mentioning: "not found")
        try assertFails(["train", "classify", "--data", data.path, "--hidden", "65536", "--layers", "64", "--out", folder.appendingPathComponent("big").path],
                        mentioning: "of memory to train")
        let badRow = folder.appendingPathComponent("bad.tsv")
        try "fine\t1\nno label here\n".write(to: badRow, atomically: true, encoding: .utf8)
        try assertFails(["train", "classify", "--data", badRow.path], mentioning: "bad.tsv, line 2: missing tab")
        let badLabel = folder.appendingPathComponent("label.tsv")
        try "fine\t1\nnot fine\t7\n".write(to: badLabel, atomically: true, encoding: .utf8)
        try assertFails(["train", "classify", "--data", badLabel.path], mentioning: "line 2: label 7 is not a known class")
        try assertFails(["train", "classify", "--data", data.path, "--cell", "transformer"], mentioning: "--cell", oneLine: false)
        try assertFails(["train", "classify", "--data", data.path, "--dropout", "1"], mentioning: "--dropout", oneLine: false)
        let tiny = folder.appendingPathComponent("tiny.tsv")
        try "good\t1\nbad\t0\nfine\t1\n".write(to: tiny, atomically: true, encoding: .utf8)
        try assertFails(["train", "classify", "--data", tiny.path], mentioning: "needs at least 10")
        let emptyFolder = folder.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: emptyFolder, withIntermediateDirectories: true)
        try assertFails(["train", "classify", "--data", emptyFolder.path], mentioning: "no *_labelled.txt files")
        try assertFails(["eval", "classify", "--checkpoint", checkpoint, "--data", badRow.path], mentioning: "line 2")
        try assertFails(["eval", "classify", "--checkpoint", missing, "--data", data.path], mentioning: "error")
        try assertFails(["predict", "classify", "--checkpoint", data.path], mentioning: "error")
        try assertFails(["predict", "classify", "--checkpoint", checkpoint, "--input", missing], mentioning: "not found")

        // A checkpoint of another task is refused by name.
        let text = folder.appendingPathComponent("text.txt")
        try String(repeating: "To be, or not to be, that is the question.\n", count: 20).write(to: text, atomically: true, encoding: .utf8)
        let lmRun = folder.appendingPathComponent("lm").path
        let lm = try run(["train", "charlm", "--data", text.path, "--hidden", "8", "--layers", "1", "--embedding", "4",
                          "--steps", "2", "--eval-every", "2", "--batch", "2", "--seq-len", "8", "--out", lmRun])
        XCTAssertEqual(lm.status, 0, lm.error)
        try assertFails(["predict", "classify", "--checkpoint", lmRun + "/best.safetensors"], mentioning: "task 'charlm', expected 'classify'")
        try assertFails(["eval", "classify", "--checkpoint", lmRun + "/best.safetensors", "--data", data.path], mentioning: "task 'charlm'")
        try assertFails(["sample", "--checkpoint", checkpoint], mentioning: "task 'classify', expected 'charlm'")
    }
}
