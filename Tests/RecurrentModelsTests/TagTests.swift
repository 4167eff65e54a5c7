import Foundation
import RecurrentData
import RecurrentIO
@testable import RecurrentModels
import RecurrentNN
import RecurrentTensor
@testable import RecurrentTraining
import XCTest

/// Writes small slices of the bundled SNIPS and WNUT-17 data into a folder, for quick end-to-end runs.
enum TagFixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Examples/data")

    static func lines(_ path: String, _ count: Int) throws -> String {
        try readTextFile(root.appendingPathComponent(path).path).split(separator: "\n").prefix(count).joined(separator: "\n") + "\n"
    }

    /// A SNIPS-format folder with the first `train` / `other` sentences of each split.
    static func snipsSlice(in folder: URL, train: Int = 240, other: Int = 40) throws -> URL {
        let out = folder.appendingPathComponent("snips")
        for (split, n) in [("train", train), ("valid", other), ("test", other)] {
            let dir = out.appendingPathComponent(split)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            for file in ["seq.in", "seq.out", "label"] {
                try lines("snips/\(split)/\(file)", n).write(to: dir.appendingPathComponent(file), atomically: true, encoding: .utf8)
            }
        }
        return out
    }

    /// A CoNLL-format folder with the first `lines` lines of each WNUT-17 file.
    static func wnutSlice(in folder: URL, lines count: Int = 400) throws -> URL {
        let out = folder.appendingPathComponent("wnut")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        for (source, name) in [("wnut17train.conll", "train.conll"), ("emerging.dev.conll", "dev.conll"), ("emerging.test.annotated", "test.conll")] {
            let text = try readTextFile(root.appendingPathComponent("wnut17/\(source)").path)
            let kept = text.split(separator: "\n", omittingEmptySubsequences: false).prefix(count).joined(separator: "\n") + "\n"
            try kept.write(to: out.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        return out
    }
}

final class TagTests: ScratchFolderTestCase {
    func trainSmall(_ data: TaggingDataset, epochs: Int, out: URL) throws -> Trainer<TaggingTask> {
        let vocabularies = try TaggingVocabularies(training: data.train)
        let config = SequenceTaggerConfig(vocabularySize: vocabularies.words.count, tagCount: vocabularies.tags.count,
                                          intentCount: vocabularies.intents?.count ?? 0, embeddingSize: 24, hiddenSize: 32, layers: 1, dropout: 0.1)
        let trainer = try taggerTrainer(config, data: data, vocabularies: vocabularies, seed: 5, dataSeed: 5, epochs: epochs, batch: 16, out: out) {
            $0.learningRate = 1e-2
        }
        try trainer.run()
        return trainer
    }

    func testJointTaggerTrainsOnASNIPSSliceAndWritesTheRunFolder() throws {
        let data = try TaggingDataset.load(folder: TagFixtures.snipsSlice(in: folder).path)
        let out = folder.appendingPathComponent("run")
        let trainer = try trainSmall(data, epochs: 4, out: out)
        XCTAssertNotNil(trainer.task.tagger.intentHead)
        for file in ["config.json", "options.json", "vocabulary.json", "metrics.csv", "best.safetensors", "last.safetensors", "test.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent(file).path), file)
        }
        let metrics = try String(contentsOf: out.appendingPathComponent("metrics.csv"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(metrics.count, 5, "a header and one row per epoch")
        XCTAssertTrue(metrics[0].hasPrefix("epoch,step,seconds,train_loss,val_loss,val_precision,val_recall,val_f1,val_intent_accuracy"))
        let losses = trainer.history.map(\.trainLoss)
        XCTAssertLessThan(losses.last!, 0.6 * losses.first!, "training loss must fall: \(losses)")
        let firstBatches = trainer.updateLosses.prefix(3).reduce(0, +) / 3, lastBatches = trainer.updateLosses.suffix(3).reduce(0, +) / 3
        XCTAssertLessThan(lastBatches, firstBatches)
        let vocabularyJSON = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("vocabulary.json"))) as? [String: [String]]
        XCTAssertEqual(vocabularyJSON?["words"]?.prefix(2), ["<pad>", "<unk>"])
        XCTAssertEqual(vocabularyJSON?["tags"]?.first, "<pad>")
        XCTAssertEqual(vocabularyJSON?["intents"]?.count, trainer.task.vocabularies.intents?.count)

        let checkpoint = try Checkpoint.load(from: out.appendingPathComponent("best.safetensors"))
        XCTAssertEqual(checkpoint.extra["task"], "tag")
        let (model, vocabularies) = try SequenceTagger.load(from: out.appendingPathComponent("best.safetensors"))
        XCTAssertEqual(vocabularies, trainer.task.vocabularies)
        // The trainer ends with the best model loaded: the loaded checkpoint predicts the same.
        let batch = TaggingBatch(data.test, indices: Array(0..<8), vocabularies: vocabularies)
        let a = model.predict(batch, constrainedBy: vocabularies.tags), b = trainer.task.tagger.predict(batch, constrainedBy: vocabularies.tags)
        XCTAssertEqual(a.tags, b.tags)
        XCTAssertEqual(a.intents, b.intents)
        XCTAssertEqual(a.tags.map(\.count), batch.lengths)
        XCTAssertFalse(a.tags.joined().contains(0), "never predicts <pad>")
        let test = TaggingEvaluation.evaluate(model, data.test, vocabularies: vocabularies)
        XCTAssertGreaterThan(test.intentAccuracy ?? 0, 0.3, "better than chance among 7 intents")
        XCTAssertGreaterThan(test.chunks.tokenAccuracy, 0.5)
    }

    func testCoNLLTaggerHasNoIntentHeadAndPaddingDoesNotChangeOutputs() throws {
        let data = try TaggingDataset.load(folder: TagFixtures.wnutSlice(in: folder).path)
        let trainer = try trainSmall(data, epochs: 1, out: folder.appendingPathComponent("run"))
        XCTAssertNil(trainer.task.tagger.intentHead)
        XCTAssertNil(trainer.history.last?.evaluation.intentAccuracy)
        // A sentence tagged alone or next to a longer one gets the same tags (lengths mask the padding).
        let v = trainer.task.vocabularies
        let alone = trainer.task.tagger.predict(TaggingBatch(data.test, indices: [0], vocabularies: v)).tags[0]
        let longest = data.test.indices.max { data.test[$0].tokens.count < data.test[$1].tokens.count }!
        let padded = trainer.task.tagger.predict(TaggingBatch(data.test, indices: [longest, 0], vocabularies: v)).tags[1]
        XCTAssertEqual(alone, padded)
    }

    func testConstrainedDecodingKeepsToValidBIO() throws {
        let names = ["<pad>", "O", "B-X", "I-X", "B-Y", "I-Y"]
        let allowed = try XCTUnwrap(SequenceTagger.bioTransitions(names))
        XCTAssertEqual(allowed[names.count], [false, true, true, false, true, false], "no I- at the start, never <pad>")
        XCTAssertEqual(allowed[1][3], false, "O → I-X")
        XCTAssertEqual(allowed[2][3], true, "B-X → I-X")
        XCTAssertEqual(allowed[3][3], true, "I-X → I-X")
        XCTAssertEqual(allowed[4][3], false, "B-Y → I-X")
        XCTAssertNil(SequenceTagger.bioTransitions(["<pad>", "O", "B-X"]), "nothing to constrain")
        // Step 0 prefers O a little, step 1 prefers I-X strongly: argmax gives O I-X (invalid);
        // the best valid path is B-X I-X.
        let logits: [[Float]] = [[0, 2.0, 1.8, 0, 0, 0], [0, 0, 0, 5, 0, 0]]
        let rows = logits.map { row -> UnsafeMutablePointer<Float> in
            let p = UnsafeMutablePointer<Float>.allocate(capacity: row.count)
            p.initialize(from: row, count: row.count)
            return p
        }
        defer { rows.forEach { $0.deallocate() } }
        XCTAssertEqual(rows.map { SequenceTagger.argmax($0, from: 1, to: 6) }, [1, 3])
        XCTAssertEqual(SequenceTagger.viterbi(rows.map { UnsafePointer($0) }, classes: 6, allowed: allowed), [2, 3])
    }

    func testLoadRefusesOtherCheckpoints() throws {
        let data = try TaggingDataset.load(folder: TagFixtures.snipsSlice(in: folder, train: 32, other: 8).path)
        _ = try trainSmall(data, epochs: 1, out: folder.appendingPathComponent("run"))
        let url = folder.appendingPathComponent("run/last.safetensors")
        var checkpoint = try Checkpoint.load(from: url)
        checkpoint.extra["task"] = "charlm"
        try checkpoint.save(to: folder.appendingPathComponent("charlm.safetensors"))
        XCTAssertThrowsError(try SequenceTagger.load(from: folder.appendingPathComponent("charlm.safetensors"))) {
            XCTAssertEqual($0 as? ModelError, .wrongTask(expected: "tag", found: "charlm"))
        }
        checkpoint = try Checkpoint.load(from: url)
        checkpoint.extra["tags"] = #"["<pad>", "O"]"#
        try checkpoint.save(to: folder.appendingPathComponent("tags.safetensors"))
        XCTAssertThrowsError(try SequenceTagger.load(from: folder.appendingPathComponent("tags.safetensors"))) {
            guard case .badConfig? = $0 as? ModelError else { return XCTFail("\($0)") }
        }
        checkpoint = try Checkpoint.load(from: url)
        checkpoint.tensors["head.bias"]!.data[0] = .infinity
        try checkpoint.save(to: folder.appendingPathComponent("inf.safetensors"))
        XCTAssertThrowsError(try SequenceTagger.load(from: folder.appendingPathComponent("inf.safetensors"))) {
            XCTAssertEqual($0 as? ModelError, .nonFiniteParameters("head.bias"))
        }
    }
}

/// `recurrent train tag` and `recurrent predict tag` end to end.
final class TagCommandLineTests: CommandLineTestCase {
    override class var refusalMaximumLines: Int? { 3 }

    func testTrainPredictAndBadInputs() throws {
        let data = try TagFixtures.snipsSlice(in: folder, train: 64, other: 16)
        let out = folder.appendingPathComponent("run").path
        let trained = try run(["train", "tag", "--data", data.path, "--hidden", "16", "--embedding", "8", "--epochs", "1",
                               "--batch", "16", "--out", out])
        XCTAssertEqual(trained.status, 0, trained.error)
        XCTAssertTrue(trained.output.contains("test (best model)"), trained.output)
        XCTAssertTrue(trained.output.contains("intent accuracy"), trained.output)
        let checkpoint = out + "/best.safetensors"

        // Half the validation split trained on: said, and saved for --resume (option files without it read as 0).
        let onDev = folder.appendingPathComponent("on-dev").path
        let withDev = try run(["train", "tag", "--data", data.path, "--hidden", "8", "--embedding", "8", "--epochs", "1",
                               "--batch", "16", "--train-on-dev", "0.5", "--out", onDev])
        XCTAssertEqual(withDev.status, 0, withDev.error)
        XCTAssertTrue(withDev.output.contains("training on 8 of the 16 validation sentences"), withDev.output)
        XCTAssertTrue(withDev.output.contains("72 training, 8 validation"), withDev.output)
        let saved = try JSONDecoder().decode(RunOptions<TaggingTask.Settings>.self, from: Data(contentsOf: URL(fileURLWithPath: onDev + "/options.json")))
        XCTAssertEqual(saved.task.validationIntoTraining, 0.5)
        let evaluated = try run(["eval", "tag", "--checkpoint", onDev + "/best.safetensors", "--data", data.path, "--split", "validation"])
        XCTAssertEqual(evaluated.status, 0, evaluated.error)
        XCTAssertTrue(evaluated.output.contains("validation: the 8 sentences the model did not train on"), evaluated.output)
        XCTAssertTrue(evaluated.output.contains("validation (8 sentences"), evaluated.output)
        let whole = try run(["eval", "tag", "--checkpoint", onDev + "/best.safetensors", "--data", data.path, "--split", "validation",
                             "--train-on-dev", "0"])
        XCTAssertTrue(whole.output.contains("validation (16 sentences"), whole.output)
        try assertFails(["eval", "tag", "--checkpoint", checkpoint, "--data", data.path, "--train-on-dev", "1.5"], mentioning: "--train-on-dev")
        let old = try JSONDecoder().decode(TaggingTask.Settings.self, from: Data(#"{"minCount": 1, "wordDropout": 0.5}"#.utf8))
        XCTAssertEqual(old, TaggingTask.Settings(minCount: 1, wordDropout: 0.5, validationIntoTraining: 0))
        XCTAssertThrowsError(try JSONDecoder().decode(TaggingTask.Settings.self,
                                                      from: Data(#"{"minCount": 1, "wordDropout": 0.5, "validationIntoTraining": 1}"#.utf8)))

        let predicted = try run(["predict", "tag", "--checkpoint", checkpoint], input: "play some jazz on spotify\n\nadd this song to my playlist\n")
        XCTAssertEqual(predicted.status, 0, predicted.error)
        let lines = predicted.output.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        XCTAssertEqual(lines.count, 3, predicted.output)
        XCTAssertEqual(lines[0].split(separator: "\t")[0].split(separator: " ").count, 5, "one tag per token")
        XCTAssertEqual(lines[0].split(separator: "\t", omittingEmptySubsequences: false).count, 3, "tags, tab, intent, tab, entities")
        XCTAssertEqual(lines[1], "")
        let inputFile = folder.appendingPathComponent("input.txt")
        try "what is the weather in paris\n".write(to: inputFile, atomically: true, encoding: .utf8)
        let fromFile = try run(["predict", "tag", "--checkpoint", checkpoint, "--input", inputFile.path])
        XCTAssertEqual(fromFile.status, 0, fromFile.error)
        XCTAssertEqual(fromFile.output.split(separator: "\t")[0].split(separator: " ").count, 6)

        // Bad data: one line on stderr naming the file and line, non-zero exit.
        let bad = folder.appendingPathComponent("bad")
        try FileManager.default.copyItem(at: data, to: bad)
        try "O O\n".write(to: bad.appendingPathComponent("valid/seq.out"), atomically: true, encoding: .utf8)
        try assertFails(["train", "tag", "--data", bad.path, "--epochs", "1", "--out", folder.appendingPathComponent("r2").path],
                        mentioning: "valid/seq.out, line 2")
        let conll = folder.appendingPathComponent("conll")
        try FileManager.default.createDirectory(at: conll, withIntermediateDirectories: true)
        try "a\tO\nb\n".write(to: conll.appendingPathComponent("x.train"), atomically: true, encoding: .utf8)
        try "a\tO\n".write(to: conll.appendingPathComponent("x.dev"), atomically: true, encoding: .utf8)
        try "a\tO\n".write(to: conll.appendingPathComponent("x.test"), atomically: true, encoding: .utf8)
        try assertFails(["train", "tag", "--data", conll.path, "--out", folder.appendingPathComponent("r3").path],
                        mentioning: "x.train, line 2: expected a token and a tag")
        try assertFails(["train", "tag", "--data", folder.appendingPathComponent("missing").path], mentioning: "not found")
        try assertFails(["train", "tag", "--data", inputFile.path], mentioning: "expected a folder")
        try assertFails(["train", "tag", "--data", data.path, "--dropout", "1.5"], mentioning: "--dropout")
        try assertFails(["train", "tag", "--data", data.path, "--train-on-dev", "1"], mentioning: "--train-on-dev")
        try assertFails(["train", "tag", "--data", data.path, "--epochs", "0"], mentioning: "--epochs")
        try assertFails(["predict", "tag", "--checkpoint", folder.appendingPathComponent("none.safetensors").path], mentioning: "error")
        try assertFails(["predict", "tag", "--checkpoint", inputFile.path], mentioning: "error")
        try assertFails(["predict", "tag", "--checkpoint", checkpoint, "--input", folder.appendingPathComponent("none.txt").path],
                        mentioning: "not found")
    }
}
