import Foundation
import RecurrentData
import RecurrentIO
@testable import RecurrentModels
import RecurrentNN
import RecurrentTensor
@testable import RecurrentTraining
import XCTest

final class LanguageModelTests: ScratchFolderTestCase {
    static let shakespeare = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Examples/data/tinyshakespeare/input.txt")

    func smallCorpus() throws -> TextCorpus {
        let text = String(try readTextFile(Self.shakespeare.path).prefix(20_000))
        return try TextCorpus(text: text)
    }

    func train(_ corpus: TextCorpus, steps: Int, cell: CellKind = .lstm, out: URL) throws -> Trainer<LanguageModelTask> {
        let config = LanguageModelConfig(vocabularySize: corpus.vocabulary.count, embeddingSize: 16, hiddenSize: 48, layers: 1, cell: cell)
        let trainer = try languageModelTrainer(config, corpus: corpus, seed: 3, steps: steps, evaluateEvery: 50, batch: 16, seqLen: 32,
                                               evalCharacters: 2000, out: out) { $0.learningRate = 1e-2 }
        try trainer.run()
        return trainer
    }

    /// The pieces together: a 1-layer LSTM on real text must get well below the uniform loss ln(V).
    func testOneLayerLSTMLearnsRealText() throws {
        let corpus = try smallCorpus()
        let trainer = try train(corpus, steps: 150, out: folder)
        let uniform = log(Double(corpus.vocabulary.count))
        XCTAssertEqual(trainer.history.count, 3)
        XCTAssertGreaterThan(trainer.history[0].evaluation, trainer.history[2].evaluation)
        XCTAssertLessThan(trainer.history[2].evaluation, 2.6, "uniform would be \(uniform)")
        for name in ["config.json", "options.json", "vocabulary.json", "metrics.csv", "best.safetensors", "last.safetensors"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent(name).path), name)
        }
        let metrics = try String(contentsOf: folder.appendingPathComponent("metrics.csv"), encoding: .utf8)
        XCTAssertEqual(metrics.split(separator: "\n").count, 4)
    }

    func testSameSeedGivesBitIdenticalCheckpoints() throws {
        let corpus = try smallCorpus()
        let a = folder.appendingPathComponent("a"), b = folder.appendingPathComponent("b")
        _ = try train(corpus, steps: 20, cell: .gru, out: a)
        _ = try train(corpus, steps: 20, cell: .gru, out: b)
        XCTAssertEqual(try Data(contentsOf: a.appendingPathComponent("best.safetensors")), try Data(contentsOf: b.appendingPathComponent("best.safetensors")))
        XCTAssertEqual(try Data(contentsOf: a.appendingPathComponent("last.safetensors")), try Data(contentsOf: b.appendingPathComponent("last.safetensors")))
    }

    /// Stopping and resuming gives the numbers of an uninterrupted run: parameters, optimizer state, losses.
    func testResumeIsBitIdenticalToAnUninterruptedRun() throws {
        let corpus = try smallCorpus()
        func trainer(steps: Int, out: URL) throws -> Trainer<LanguageModelTask> {
            let config = LanguageModelConfig(vocabularySize: corpus.vocabulary.count, embeddingSize: 8, hiddenSize: 24, layers: 2, cell: .lstm, dropout: 0.2)
            return try languageModelTrainer(config, corpus: corpus, seed: 5, steps: steps, evaluateEvery: 10, batch: 8, seqLen: 16, evalCharacters: 500, out: out)
        }
        let whole = folder.appendingPathComponent("whole"), parts = folder.appendingPathComponent("parts")
        try trainer(steps: 40, out: whole).run()
        try trainer(steps: 20, out: parts).run()
        let resumed = try trainer(steps: 40, out: parts)
        try resumed.run(resume: true)
        XCTAssertEqual(resumed.history.map(\.step), [10, 20, 30, 40])

        let a = try Checkpoint.load(from: whole.appendingPathComponent("last.safetensors"))
        let b = try Checkpoint.load(from: parts.appendingPathComponent("last.safetensors"))
        XCTAssertEqual(Set(a.tensors.keys), Set(b.tensors.keys))
        XCTAssertTrue(a.tensors.keys.contains { $0.hasPrefix(Checkpoint.optimizerPrefix) })
        for (name, tensor) in a.tensors { XCTAssertEqual(tensor.scalars, b.tensors[name]!.scalars, name) }
        for key in ["step", "tokens", "running_loss_bits", "generator.order", "generator.dropout"] { XCTAssertEqual(a.extra[key], b.extra[key], key) }
        let columns = [0, 2, 3, 4]   // step, train_loss, val_loss, val_bpc (not the times)
        let rowsA = try RunLog.rows(in: whole).map { r in columns.map { r[$0] } }, rowsB = try RunLog.rows(in: parts).map { r in columns.map { r[$0] } }
        XCTAssertEqual(rowsA, rowsB)
        XCTAssertEqual(rowsA.count, 4)

        // A run folder of another shape refuses to resume.
        let other = LanguageModel(LanguageModelConfig(vocabularySize: corpus.vocabulary.count, embeddingSize: 8, hiddenSize: 12, layers: 1), seed: 5)
        let wrong = Trainer(task: try LanguageModelTask(model: other, corpus: corpus), options: LanguageModelTask.defaultOptions, folder: parts)
        XCTAssertThrowsError(try wrong.run(resume: true)) {
            XCTAssertEqual($0 as? TrainingError, .cannotResume("the checkpoint's model configuration differs from this run's (\(parts.appendingPathComponent("last.safetensors").path))"))
        }
        let empty = Trainer(task: try LanguageModelTask(model: other, corpus: corpus), options: LanguageModelTask.defaultOptions,
                            folder: folder.appendingPathComponent("none"))
        XCTAssertThrowsError(try empty.run(resume: true))
    }

    func testCheckpointLoadsAndSamplesAndBadCheckpointsAreRefused() throws {
        let corpus = try smallCorpus()
        let trainer = try train(corpus, steps: 10, cell: .rnn, out: folder)
        let url = folder.appendingPathComponent("last.safetensors")
        let (model, vocabulary) = try LanguageModel.load(from: url)
        XCTAssertEqual(vocabulary, corpus.vocabulary)
        for (p, q) in zip(model.parameters(), trainer.task.model.parameters()) { XCTAssertEqual(p.scalars, q.scalars) }
        var g1 = RandomGenerator(seed: 4), g2 = RandomGenerator(seed: 4)
        let prime = try vocabulary.encode(characters: "ROMEO:")
        let s1 = model.sample(prime: prime, length: 50, temperature: 0.8, topK: 5, generator: &g1)
        XCTAssertEqual(s1, model.sample(prime: prime, length: 50, temperature: 0.8, topK: 5, generator: &g2))
        XCTAssertEqual(s1.count, 50)

        var checkpoint = try Checkpoint.load(from: url)
        checkpoint.extra["task"] = "classify"
        try checkpoint.save(to: folder.appendingPathComponent("wrong-task.safetensors"))
        XCTAssertThrowsError(try LanguageModel.load(from: folder.appendingPathComponent("wrong-task.safetensors"))) {
            XCTAssertEqual($0 as? ModelError, .wrongTask(expected: "charlm", found: "classify"))
        }
        checkpoint = try Checkpoint.load(from: url)
        checkpoint.config = #"{"vocabularySize": 5, "embeddingSize": 16, "hiddenSize": 100000000, "layers": 1, "cell": "lstm", "dropout": 0}"#
        try checkpoint.save(to: folder.appendingPathComponent("huge.safetensors"))
        XCTAssertThrowsError(try LanguageModel.load(from: folder.appendingPathComponent("huge.safetensors"))) {
            XCTAssertEqual($0 as? ModelError, .badConfig("hiddenSize must be in 1...65536, got 100000000"))
        }
        // A dropout below 1 as a Double that rounds to 1 as a Float: refused with a message, not a crash in the layer.
        checkpoint = try Checkpoint.load(from: url)
        checkpoint.config = checkpoint.config?.replacingOccurrences(of: #""dropout":0"#, with: #""dropout":0.99999999"#)
            .replacingOccurrences(of: #""dropout" : 0"#, with: #""dropout" : 0.99999999"#)
        XCTAssertTrue(checkpoint.config?.contains("0.99999999") ?? false, checkpoint.config ?? "no config")
        try checkpoint.save(to: folder.appendingPathComponent("dropout.safetensors"))
        XCTAssertThrowsError(try LanguageModel.load(from: folder.appendingPathComponent("dropout.safetensors"))) {
            XCTAssertEqual($0 as? ModelError, .badConfig("dropout must be in [0, 1) in single precision, got 0.99999999"))
        }
        checkpoint = try Checkpoint.load(from: url)
        checkpoint.tensors["head.bias"] = Tensor.zeros([3])
        try checkpoint.save(to: folder.appendingPathComponent("shape.safetensors"))
        XCTAssertThrowsError(try LanguageModel.load(from: folder.appendingPathComponent("shape.safetensors"))) {
            XCTAssertEqual($0 as? ModuleError, .shapeMismatch(name: "head.bias", expected: [corpus.vocabulary.count], found: [3]))
        }
        checkpoint = try Checkpoint.load(from: url)
        checkpoint.tensors["head.bias"]!.data[0] = .nan
        try checkpoint.save(to: folder.appendingPathComponent("nan.safetensors"))
        XCTAssertThrowsError(try LanguageModel.load(from: folder.appendingPathComponent("nan.safetensors"))) {
            XCTAssertEqual($0 as? ModelError, .nonFiniteParameters("head.bias"))
        }
        try Data("not a checkpoint".utf8).write(to: folder.appendingPathComponent("junk.safetensors"))
        XCTAssertThrowsError(try LanguageModel.load(from: folder.appendingPathComponent("junk.safetensors"))) {
            XCTAssertTrue($0 is SafetensorsError, "\($0)")
        }
    }
}
