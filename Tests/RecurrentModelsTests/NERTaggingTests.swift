import Foundation
import RecurrentData
import RecurrentIO
@testable import RecurrentModels
import RecurrentNN
import RecurrentTensor
@testable import RecurrentTraining
import XCTest

/// Issue 20: early stopping and the plateau schedule of the one trainer, the CRF tagger, and
/// checkpoints of earlier taggers.
final class NERTaggingTests: ScratchFolderTestCase {
    func smallConfig(_ v: TaggingVocabularies, crf: Bool = false) -> SequenceTaggerConfig {
        SequenceTaggerConfig(vocabularySize: v.words.count, tagCount: v.tags.count, intentCount: v.intents?.count ?? 0,
                             embeddingSize: 16, hiddenSize: 16, layers: 1, dropout: 0.1, crf: crf)
    }

    /// A learning rate so small that the validation score cannot move: every evaluation after the first is "no improvement".
    func frozenRun(epochs: Int, configure: (inout TrainingOptions) -> Void) throws -> (Trainer<TaggingTask>, [[Double]]) {
        let data = try TaggingDataset.load(folder: TagFixtures.snipsSlice(in: folder, train: 48, other: 16).path)
        let v = try TaggingVocabularies(training: data.train)
        let trainer = try taggerTrainer(smallConfig(v), data: data, vocabularies: v, seed: 3, epochs: epochs, batch: 16,
                                        out: folder.appendingPathComponent("run")) {
            $0.learningRate = 1e-9
            configure(&$0)
        }
        var rates: [[Double]] = []   // per epoch, the rate of each update
        trainer.onEvent = { event in
            guard case let .step(p) = event else { return }
            if rates.count < p.epoch { rates.append([]) }
            rates[p.epoch - 1].append(p.learningRate)
        }
        try trainer.run()
        return (trainer, rates)
    }

    func testEarlyStoppingEndsTheRunAfterPatienceEvaluationsWithoutImprovement() throws {
        let (trainer, _) = try frozenRun(epochs: 10) { $0.patience = 2; $0.learningRateSchedule = .constant }
        XCTAssertTrue(trainer.stoppedEarly)
        XCTAssertEqual(trainer.history.map(\.epoch), [1, 2, 3], "epoch 1 is the best; 2 and 3 bring nothing; the run ends")
        XCTAssertEqual(trainer.best?.epoch, 1)
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent("run/test.json").path), "the best model is still scored")
        let (full, _) = try frozenRun(epochs: 3) { $0.patience = 0; $0.learningRateSchedule = .constant }
        XCTAssertFalse(full.stoppedEarly)
    }

    func testPlateauScheduleHalvesTheRateAfterTwoFlatEvaluations() throws {
        let (trainer, rates) = try frozenRun(epochs: 5) { $0.patience = 0; $0.learningRateSchedule = .plateau }
        XCTAssertFalse(trainer.stoppedEarly)
        XCTAssertEqual(rates.count, 5)
        // Evaluations: 1 best, 2 and 3 flat (halve), 4 and 5 flat (halve again, after the last update).
        let perEpoch = rates.map { Set($0.map { Float($0) }) }
        XCTAssertEqual(perEpoch, [[1e-9], [1e-9], [1e-9], [5e-10], [5e-10]].map { Set($0.map { Float($0) }) })
        XCTAssertEqual(trainer.plateauFactor, 0.25)
    }

    func testOptionsWrittenBeforeEarlyStoppingStillRead() throws {
        var options = TaggingTask.defaultOptions
        options.patience = 7
        var object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(options)) as! [String: Any]
        XCTAssertEqual(object["patience"] as? Int, 7)
        object["patience"] = nil
        let old = try JSONDecoder().decode(TrainingOptions.self, from: JSONSerialization.data(withJSONObject: object))
        XCTAssertEqual(old.patience, 0)
        XCTAssertEqual(old.learningRateSchedule, .plateau)
    }

    func testCRFTaggerLearnsAndDecodesValidIOB2() throws {
        let data = try TaggingDataset.load(folder: TagFixtures.snipsSlice(in: folder, train: 160, other: 24).path)
        let v = try TaggingVocabularies(training: data.train)
        let config = smallConfig(v, crf: true)
        let task = try TaggingTask(model: SequenceTagger(config, seed: 4, tags: v.tags.tokens), data: data, vocabularies: v)
        let trainer = Trainer(task: task, options: options(TaggingTask.defaultOptions, .epochs(3), batch: 16) { $0.learningRate = 1e-2 },
                              folder: folder.appendingPathComponent("crf"))
        try trainer.run()
        XCTAssertNotNil(trainer.task.tagger.crf)
        let losses = trainer.history.map(\.trainLoss)
        XCTAssertLessThan(losses.last!, 0.7 * losses.first!, "the CRF's negative log-likelihood must fall: \(losses)")
        // The checkpoint holds the CRF under pytorch-crf's names and reloads with its constraints.
        let best = folder.appendingPathComponent("crf/best.safetensors")
        let checkpoint = try Checkpoint.load(from: best)
        XCTAssertEqual(checkpoint.tensors["crf.transitions"]?.shape, [v.tags.count, v.tags.count])
        XCTAssertNotNil(checkpoint.tensors["crf.start_transitions"])
        let (model, loaded) = try SequenceTagger.load(from: best)
        XCTAssertTrue(model.config.crf)
        let batch = TaggingBatch(data.test, indices: Array(0..<16), vocabularies: loaded)
        let paths = model.predict(batch).tags
        XCTAssertEqual(paths, trainer.task.tagger.predict(batch).tags)
        XCTAssertEqual(paths.map(\.count), batch.lengths)
        for path in paths {
            let names = path.map { loaded.tags.tokens[$0] }
            XCTAssertFalse(names.contains("<pad>"))
            for (t, name) in names.enumerated() where name.hasPrefix("I-") {
                XCTAssertTrue(t > 0 && names[t - 1].dropFirst(2) == name.dropFirst(2) && names[t - 1] != "O", "invalid IOB2: \(names)")
            }
        }
        let evaluation = TaggingEvaluation.evaluate(model, data.test, vocabularies: loaded)
        XCTAssertGreaterThan(evaluation.chunks.tokenAccuracy, 0.5)
    }

    func testCRFLossLeavesOutSentencesWithTagsTheModelLacks() throws {
        let train = [TaggedSentence(tokens: ["play", "jazz"], tags: ["O", "B-genre"]), TaggedSentence(tokens: ["rock"], tags: ["B-genre"])]
        let v = try TaggingVocabularies(training: train)
        let model = SequenceTagger(smallConfig(v, crf: true), seed: 2, tags: v.tags.tokens)
        model.eval()
        let withUnknown = train + [TaggedSentence(tokens: ["in", "paris", "now"], tags: ["O", "B-city", "O"])]
        let alone = model.loss(TaggingBatch(withUnknown, indices: [0, 1], vocabularies: v)).item
        let mixed = model.loss(TaggingBatch(withUnknown, indices: [2, 0, 1], vocabularies: v)).item
        XCTAssertEqual(mixed, alone, accuracy: 1e-5 * abs(alone), "the sentence with B-city adds nothing (not a 10⁴ penalty)")
        XCTAssertLessThan(mixed, 100)
    }

    func testCheckpointsOfEarlierTaggersStillLoad() throws {
        // A softmax tagger saved with the config keys of before issue 20 (no crf, no lowercase).
        let data = try TaggingDataset.load(folder: TagFixtures.snipsSlice(in: folder, train: 32, other: 8).path)
        let v = try TaggingVocabularies(training: data.train)
        let config = smallConfig(v)
        let model = SequenceTagger(config, seed: 9)
        var object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(config)) as! [String: Any]
        object["crf"] = nil
        object["lowercase"] = nil
        let oldConfig = String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
        var extra = ["task": "tag", "tags": v.tags.jsonString()]
        extra["intents"] = v.intents?.jsonString()
        let url = folder.appendingPathComponent("old.safetensors")
        try Checkpoint(tensors: model.stateDict(), config: oldConfig, vocabulary: v.words.tokens, extra: extra).save(to: url)
        let (loaded, vocabularies) = try SequenceTagger.load(from: url)
        XCTAssertFalse(loaded.config.crf)
        XCTAssertFalse(vocabularies.lowercase)
        XCTAssertNil(loaded.crf)
        let batch = TaggingBatch(data.test, indices: Array(0..<8), vocabularies: v)
        XCTAssertEqual(loaded.predict(batch, constrainedBy: v.tags).tags, model.predict(batch, constrainedBy: v.tags).tags)
    }

    func testMultiIntentLabelsAndUnseenIntents() throws {
        let v = try TaggingVocabularies(training: [TaggedSentence(tokens: ["a"], tags: ["O"], intent: "flight"),
                                                   TaggedSentence(tokens: ["b"], tags: ["O"], intent: "airfare")])
        XCTAssertTrue(TaggingEvaluation.intentMatches(gold: "flight#airfare", guessed: "airfare"))
        XCTAssertTrue(TaggingEvaluation.intentMatches(gold: "flight", guessed: "flight"))
        XCTAssertFalse(TaggingEvaluation.intentMatches(gold: "flight", guessed: "airfare"))
        XCTAssertFalse(TaggingEvaluation.intentMatches(gold: "flight#airfare", guessed: "flight#meal"))
        let gold = [TaggedSentence(tokens: ["a"], tags: ["O"], intent: "flight#airfare"),
                    TaggedSentence(tokens: ["a"], tags: ["O"], intent: "meal"),
                    TaggedSentence(tokens: ["a"], tags: ["O"], intent: "flight")]
        let o = v.tags.id("O")!
        let e = TaggingEvaluation.score(gold, paths: [[o], [o], [o]], intents: [v.intents!.id("airfare")!, 0, v.intents!.id("flight")!],
                                        lossSum: 0, lossBatches: 0, vocabularies: v, hasIntentHead: true)
        XCTAssertEqual(e.intentAccuracy!, 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(e.unseenIntents, 1)
        XCTAssertEqual(e.unseenIntentLabels, ["meal"])
        XCTAssertTrue(e.summary.contains("1 with intents unseen in training, counted wrong: meal"), e.summary)
    }
}

/// `train tag` with the NER options, `eval tag` refusing data that does not match, and `predict tag`
/// tokenizing raw text and printing spans.
final class NERCommandLineTests: CommandLineTestCase {
    func testCRFTrainingEvalRefusalsAndPredictedSpans() throws {
        let snips = try TagFixtures.snipsSlice(in: folder, train: 64, other: 16)
        let wnut = try TagFixtures.wnutSlice(in: folder, lines: 200)
        let out = folder.appendingPathComponent("run").path
        let trained = try run(["train", "tag", "--data", snips.path, "--crf", "--hidden", "16", "--embedding", "8", "--epochs", "2",
                               "--batch", "16", "--out", out])
        XCTAssertEqual(trained.status, 0, trained.error)
        XCTAssertTrue(trained.output.contains("tag (snips: snips format, IOB2 tags)"), trained.output)
        XCTAssertTrue(trained.output.contains("CRF"), trained.output)
        let checkpoint = out + "/best.safetensors"

        let scored = try run(["eval", "tag", "--checkpoint", checkpoint, "--data", snips.path])
        XCTAssertEqual(scored.status, 0, scored.error)
        XCTAssertTrue(scored.output.hasPrefix("snips test (16 sentences, IOB2 tags)"), scored.output)
        // Another data set's tags, or data without intents: refused with a message, not scored as zeros.
        try assertFails(["eval", "tag", "--checkpoint", checkpoint, "--data", wnut.path], mentioning: "entity types are not the model's")
        let noIntents = folder.appendingPathComponent("nointents")
        for split in ["train", "dev", "test"] {
            try FileManager.default.createDirectory(at: noIntents, withIntermediateDirectories: true)
            try "play\tO\njazz\tB-genre\n".write(to: noIntents.appendingPathComponent("x.\(split)"), atomically: true, encoding: .utf8)
        }
        let snipsTags = try SequenceTagger.load(from: URL(fileURLWithPath: checkpoint)).vocabularies.tags.tokens
        if snipsTags.contains("B-genre") {
            try assertFails(["eval", "tag", "--checkpoint", checkpoint, "--data", noIntents.path], mentioning: "the data has none")
        }

        // Raw text is tokenized as SNIPS was (lowercase words, punctuation apart); spans point into the line.
        let predicted = try run(["predict", "tag", "--checkpoint", checkpoint], input: "Play some Jazz on Spotify?\n\nadd this song\n")
        XCTAssertEqual(predicted.status, 0, predicted.error)
        let lines = predicted.output.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        XCTAssertEqual(lines.count, 3, predicted.output)
        let fields = lines[0].split(separator: "\t", omittingEmptySubsequences: false)
        XCTAssertEqual(fields.count, 3, "tags, intent, entities: \(lines[0])")
        XCTAssertEqual(fields[0].split(separator: " ").count, 6, "Spotify and ? are two tokens")
        XCTAssertEqual(lines[1], "")
        let json = try run(["predict", "tag", "--checkpoint", checkpoint, "--json"], input: "Play some Jazz on Spotify?\n")
        XCTAssertEqual(json.status, 0, json.error)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any])
        XCTAssertEqual(object["tokens"] as? [String], ["Play", "some", "Jazz", "on", "Spotify", "?"])
        XCTAssertEqual((object["tags"] as? [String])?.count, 6)
        XCTAssertNotNil(object["intent"] as? String)
        let line = Array("Play some Jazz on Spotify?")
        for entity in try XCTUnwrap(object["entities"] as? [[String: Any]]) {
            let start = try XCTUnwrap(entity["start"] as? Int), end = try XCTUnwrap(entity["end"] as? Int)
            XCTAssertEqual(entity["text"] as? String, String(line[start..<end]))
        }
        // A CoNLL file is read by its first column, one sentence per block.
        let conllInput = folder.appendingPathComponent("in.conll")
        try "play\tO\njazz\tB-genre\n\nadd\tO\n".write(to: conllInput, atomically: true, encoding: .utf8)
        let fromCoNLL = try run(["predict", "tag", "--checkpoint", checkpoint, "--input", conllInput.path, "--format", "conll"])
        XCTAssertEqual(fromCoNLL.status, 0, fromCoNLL.error)
        let rows = fromCoNLL.output.split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertEqual(rows.prefix(4).map { $0.split(separator: "\t").first.map(String.init) ?? "" }, ["play", "jazz", "", "add"])
    }

    func testPredictOnACoNLLFileTagsAsTheEvaluationDoes() throws {
        // A --lowercase model with casing features: predict must hand it the tokens as written, as training did.
        let data = try TagFixtures.wnutSlice(in: folder, lines: 300)
        let out = folder.appendingPathComponent("lower").path
        let trained = try run(["train", "tag", "--data", data.path, "--lowercase", "--casing", "4", "--hidden", "8", "--embedding", "8",
                               "--epochs", "1", "--batch", "16", "--out", out])
        XCTAssertEqual(trained.status, 0, trained.error)
        let testFile = data.appendingPathComponent("test.conll").path
        let predicted = try run(["predict", "tag", "--checkpoint", out + "/best.safetensors", "--format", "conll", "--input", testFile])
        XCTAssertEqual(predicted.status, 0, predicted.error)
        let printed = predicted.output.split(separator: "\n").map { String($0.split(separator: "\t")[1]) }
        let (model, vocabularies) = try SequenceTagger.load(from: URL(fileURLWithPath: out + "/best.safetensors"))
        XCTAssertTrue(vocabularies.lowercase)
        let test = try TaggingDataset.load(folder: data.path).test
        let paths = TaggingEvaluation.predictions(model, test, vocabularies: vocabularies) { 0..<$0 }.paths
        XCTAssertEqual(printed, paths.flatMap { $0.map { vocabularies.tags.tokens[$0] } })
    }

    func testPretrainedVectorsInitialiseAFrozenEmbedding() throws {
        let data = folder.appendingPathComponent("vectors-data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        try "Alice\tB-PER\nmet\tO\nBob\tB-PER\n\n".write(to: data.appendingPathComponent("v.train"), atomically: true, encoding: .utf8)
        try "Carol\tB-PER\nmet\tO\n".write(to: data.appendingPathComponent("v.dev"), atomically: true, encoding: .utf8)
        try "Dave\tB-PER\nleft\tO\n".write(to: data.appendingPathComponent("v.test"), atomically: true, encoding: .utf8)
        // GloVe-style text without a header, lowercased words: found for Alice and met (lowercased), and for
        // dave, a test word that joins the vocabulary because it has a vector.
        let vectors = folder.appendingPathComponent("vectors.txt")
        try "alice 0.5 -1 2\nmet 0.25 0 1\ndave 3 3 3\nunused 1 1 1\n".write(to: vectors, atomically: true, encoding: .utf8)
        let out = folder.appendingPathComponent("run").path
        let trained = try run(["train", "tag", "--data", data.path, "--embeddings", vectors.path, "--freeze-embeddings", "--no-lowercase", "--hidden", "4",
                               "--epochs", "2", "--batch", "2", "--out", out])
        XCTAssertEqual(trained.status, 0, trained.error)
        XCTAssertTrue(trained.output.contains("embedding 3 (frozen)"), trained.output)
        XCTAssertTrue(trained.output.contains("pretrained vectors for 3 of"), trained.output)
        let checkpoint = try Checkpoint.load(from: URL(fileURLWithPath: out + "/best.safetensors"))
        let words = try XCTUnwrap(checkpoint.vocabulary)
        let weight = try XCTUnwrap(checkpoint.tensors["embedding.weight"])
        for (word, vector) in [("Alice", [Float(0.5), -1, 2]), ("met", [0.25, 0, 1]), ("Dave", [3, 3, 3])] {
            let id = try XCTUnwrap(words.firstIndex(of: word), "\(word) in \(words)")
            XCTAssertEqual(Array(weight.scalars[(id * 3)..<(id * 3 + 3)]), vector, "\(word): the pretrained vector, unchanged by training")
        }
        try assertFails(["train", "tag", "--data", data.path, "--embeddings", folder.appendingPathComponent("none.txt").path,
                         "--out", folder.appendingPathComponent("r2").path], mentioning: "not found")
    }

    func testPlainTagsAndEarlyStoppingThroughTheCommandLine() throws {
        // Tags without prefixes are converted (never scored as zero chunks); --patience ends the run early.
        let data = folder.appendingPathComponent("plain")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        let sentence = "Alice PER\nmet O\nBob PER\nin O\nParis LOC\n\n"
        try String(repeating: sentence, count: 8).write(to: data.appendingPathComponent("p.train"), atomically: true, encoding: .utf8)
        try sentence.write(to: data.appendingPathComponent("p.dev"), atomically: true, encoding: .utf8)
        try sentence.write(to: data.appendingPathComponent("p.test"), atomically: true, encoding: .utf8)
        let out = folder.appendingPathComponent("run").path
        let trained = try run(["train", "tag", "--data", data.path, "--hidden", "8", "--embedding", "8", "--epochs", "40", "--patience", "2",
                               "--lr", "0.05", "--batch", "4", "--out", out])
        XCTAssertEqual(trained.status, 0, trained.error)
        XCTAssertTrue(trained.output.contains("PLAIN tags"), trained.output)
        XCTAssertTrue(trained.output.contains("stopped early"), trained.output)
        let test = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/test.json"))) as? [String: Any]
        XCTAssertEqual(test?["chunks_gold"] as? Int, 3)
        XCTAssertEqual(test?["f1"] as? Double, 1, "a memorised sentence of plain tags scores F1 1")
    }

    /// Word dropout (Lample et al.'s singleton replacement): in training batches, words seen once in training
    /// become `<unk>` with the given probability, drawn in order from the batch generator; other words never do.
    func testWordDropoutReplacesOnlySingletonsWithTheirProbability() throws {
        let train = [TaggedSentence(tokens: ["the", "cat", "sat"], tags: ["O", "B-animal", "O"]),
                     TaggedSentence(tokens: ["The", "cat", "sat"], tags: ["O", "B-animal", "O"]),
                     TaggedSentence(tokens: ["Zork", "saw", "the", "grue", "zork"], tags: ["B-person", "O", "O", "B-animal", "B-person"])]
        let data = TaggingDataset(format: .conll, train: train, validation: train, test: train)
        for lowercase in [false, true] {
            let v = try TaggingVocabularies(training: train, lowercase: lowercase)
            let unk = try XCTUnwrap(v.words.unknownId)
            // Seen once: "The", "Zork", "saw", "grue", "zork" as written; "saw" and "grue" lowercased ("the" ×3, "zork" ×2).
            let singletons = Set((lowercase ? ["saw", "grue"] : ["The", "Zork", "saw", "grue", "zork"]).map { v.words.id($0)! })
            let config = SequenceTaggerConfig(vocabularySize: v.words.count, tagCount: v.tags.count, embeddingSize: 4, hiddenSize: 4)
            func task(_ p: Double) throws -> TaggingTask {
                try TaggingTask(model: SequenceTagger(config, seed: 1), data: data, vocabularies: v,
                                settings: .init(wordDropout: p))
            }
            XCTAssertEqual(try task(0.5).singletons, singletons)
            let indices = Array(0..<3)[...]
            let plain = TaggingBatch(train, indices: Array(indices), vocabularies: v)
            var generator = RandomGenerator(seed: 9)
            XCTAssertEqual(try task(0).makeBatch(indices, generator: &generator).words, plain.words, "no dropout: the words as encoded")
            let dropping = try task(0.5)
            var replaced = 0, candidates = 0
            for round in 0..<400 {
                var drawn = RandomGenerator(seed: UInt64(round)), reference = drawn
                let words = dropping.makeBatch(indices, generator: &drawn).words
                for (i, id) in plain.words.enumerated() {
                    if singletons.contains(id) {
                        // The same draws, in the same order: replaced exactly where the draw falls under p.
                        let expected = reference.nextUniform(Double.self) < 0.5 ? unk : id
                        XCTAssertEqual(words[i], expected, "round \(round), position \(i)")
                        candidates += 1
                        if words[i] == unk { replaced += 1 }
                    } else {
                        XCTAssertEqual(words[i], id, "a word seen more than once (or padding) is never replaced")
                    }
                }
            }
            XCTAssertEqual(candidates, 400 * (lowercase ? 2 : 5))
            XCTAssertEqual(Double(replaced) / Double(candidates), 0.5, accuracy: 0.05, "lowercase \(lowercase)")
        }
    }
}
