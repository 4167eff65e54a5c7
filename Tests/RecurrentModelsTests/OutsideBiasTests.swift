import Foundation
import RecurrentData
import RecurrentIO
@testable import RecurrentModels
import RecurrentNN
import RecurrentTensor
@testable import RecurrentTraining
import XCTest

/// Issue 20: the decoding bias against `O` (`OutsideBias`) and the pooled intent heads (`IntentPooling`).
final class OutsideBiasTests: ScratchFolderTestCase {
    func tagger(_ v: TaggingVocabularies, crf: Bool, pooling: IntentPooling = .final, seed: UInt64 = 7) -> SequenceTagger {
        var config = SequenceTaggerConfig(vocabularySize: v.words.count, tagCount: v.tags.count, intentCount: v.intents?.count ?? 0,
                                          embeddingSize: 8, hiddenSize: 8, layers: 1, dropout: 0.1, crf: crf)
        config.intentPooling = pooling
        return SequenceTagger(config, seed: seed, tags: v.tags.tokens)
    }

    /// The reference: the O column of (T, B, C) scores shifted by −bias, element by element.
    func shiftedByHand(_ scores: Tensor<Float>, outside: Int, bias: Float) -> Tensor<Float> {
        let C = scores.shape[2]
        var values = scores.scalars
        for i in values.indices where i % C == outside { values[i] -= bias }
        return Tensor(values, shape: scores.shape)
    }

    func testBiasDecodesAsAShiftOfTheOutsideScores() throws {
        let data = try TaggingDataset.load(folder: TagFixtures.snipsSlice(in: folder, train: 32, other: 12).path)
        let v = try TaggingVocabularies(training: data.train)
        let batch = TaggingBatch(data.test, indices: Array(0..<12), vocabularies: v)
        let outside = try XCTUnwrap(v.tags.id("O"))
        for crf in [true, false] {
            let model = tagger(v, crf: crf)
            XCTAssertEqual(model.outsideTag, outside)
            let (scores, _) = model.scores(batch)
            for bias: Float in [-0.75, 0.5, 2.25] {
                let shifted = shiftedByHand(scores, outside: outside, bias: bias)
                let reference = crf ? model.crf!.decode(shifted, lengths: batch.lengths)
                                    : model.decode(shifted, lengths: batch.lengths, constrainedBy: v.tags, outsideBias: 0)
                model.outsideBias = bias
                XCTAssertEqual(model.predict(batch, constrainedBy: v.tags).tags, reference, "crf \(crf), bias \(bias)")
                XCTAssertEqual(model.decode(scores, lengths: batch.lengths, constrainedBy: v.tags, outsideBias: bias), reference)
            }
            // Far enough either way, the bias decides alone: no O at all, or only O (always a valid IOB2 path).
            model.outsideBias = 1000
            XCTAssertFalse(model.predict(batch, constrainedBy: v.tags).tags.joined().contains(outside), "crf \(crf)")
            model.outsideBias = -1000
            XCTAssertEqual(model.predict(batch, constrainedBy: v.tags).tags, batch.lengths.map { [Int](repeating: outside, count: $0) })
        }
    }

    func testTuningPicksTheBestValidationF1AndTheCheckpointKeepsIt() throws {
        let data = try TaggingDataset.load(folder: TagFixtures.snipsSlice(in: folder, train: 64, other: 24).path)
        let v = try TaggingVocabularies(training: data.train)
        let model = tagger(v, crf: true)
        let task = try TaggingTask(model: model, data: data, vocabularies: v)
        let trainer = Trainer(task: task, options: options(TaggingTask.defaultOptions, .epochs(2), batch: 16) { $0.learningRate = 1e-2 },
                              folder: folder.appendingPathComponent("run"))
        try trainer.run()
        let search = try XCTUnwrap(task.outsideBiasSearch)
        XCTAssertEqual(search.scores.map(\.bias), OutsideBias.grid)
        XCTAssertEqual(search.f1(at: search.bias), search.scores.map(\.f1).max())
        // Each F1 of the search is what the evaluation gives at that bias.
        let chosen = model.outsideBias
        XCTAssertEqual(chosen, search.bias)
        for bias: Float in [0, search.bias, 3] {
            model.outsideBias = bias
            XCTAssertEqual(TaggingEvaluation.evaluate(model, data.validation, vocabularies: v).chunks.f1, search.f1(at: bias)!, accuracy: 1e-12)
        }
        let best = folder.appendingPathComponent("run/best.safetensors")
        XCTAssertEqual(try SequenceTagger.load(from: best).model.outsideBias, chosen)
        let test = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("run/test.json"))) as! [String: Any]
        XCTAssertEqual(test["o_bias"] as? Double, Double(chosen))

        // A fixed bias is used as it is, without a search.
        let fixed = try TaggingTask(model: tagger(v, crf: true), data: data, vocabularies: v, settings: .init(outsideBias: 1.5))
        try Trainer(task: fixed, options: options(TaggingTask.defaultOptions, .epochs(1), batch: 16), folder: folder.appendingPathComponent("fixed")).run()
        XCTAssertNil(fixed.outsideBiasSearch)
        XCTAssertEqual(try SequenceTagger.load(from: folder.appendingPathComponent("fixed/best.safetensors")).model.outsideBias, 1.5)
        XCTAssertThrowsError(try TaggingTask(model: tagger(v, crf: true), data: data, vocabularies: v, settings: .init(outsideBias: .nan)))
    }

    func testCheckpointsWithoutABiasLoadWithZeroAndBadValuesAreRefused() throws {
        let data = try TaggingDataset.load(folder: TagFixtures.snipsSlice(in: folder, train: 16, other: 4).path)
        let v = try TaggingVocabularies(training: data.train)
        let model = tagger(v, crf: true)
        var extra = ["task": "tag", "tags": v.tags.jsonString()]
        extra["intents"] = v.intents?.jsonString()
        func saved(_ bias: String?) throws -> URL {
            var fields = extra
            fields[OutsideBias.checkpointKey] = bias
            let url = folder.appendingPathComponent("m\(bias ?? "none").safetensors")
            try Checkpoint(tensors: model.stateDict(), config: String(decoding: try JSONEncoder().encode(model.config), as: UTF8.self),
                           vocabulary: v.words.tokens, extra: fields).save(to: url)
            return url
        }
        XCTAssertEqual(try SequenceTagger.load(from: saved(nil)).model.outsideBias, 0)
        XCTAssertEqual(try SequenceTagger.load(from: saved("1.25")).model.outsideBias, 1.25)
        for bad in ["nan", "inf", "abc", "1e9", ""] {
            XCTAssertThrowsError(try SequenceTagger.load(from: saved(bad)), bad) { error in
                XCTAssertTrue("\(error)".contains("o_bias") || "\(error)".contains("bias against O"), "\(error)")
            }
        }
        XCTAssertThrowsError(try OutsideBias.validated(-101))
        XCTAssertEqual(try OutsideBias.validated(-100), -100)
    }

    func testPooledIntentHeadsIgnorePaddingAndReload() throws {
        let data = try TaggingDataset.load(folder: TagFixtures.snipsSlice(in: folder, train: 24, other: 8).path)
        let v = try TaggingVocabularies(training: data.train)
        let longest = data.test.indices.max { data.test[$0].tokens.count < data.test[$1].tokens.count }!
        let shortest = data.test.indices.min { data.test[$0].tokens.count < data.test[$1].tokens.count }!
        XCTAssertLessThan(data.test[shortest].tokens.count, data.test[longest].tokens.count)
        for pooling in IntentPooling.allCases {
            let model = tagger(v, crf: true, pooling: pooling)
            model.eval()
            XCTAssertEqual(model.intentHead?.weight.shape, [v.intents!.count, pooling == .final || pooling == .votes ? 16 : 32])
            XCTAssertEqual(model.namedParameters().contains { $0.name.hasPrefix("intent_attention.") }, pooling == .attention)
            // A sentence's intent logits do not depend on the padding a longer neighbour adds.
            let alone = withoutGrad { model(TaggingBatch(data.test, indices: [shortest], vocabularies: v)).intents!.scalars }
            let padded = withoutGrad { model(TaggingBatch(data.test, indices: [longest, shortest], vocabularies: v)).intents!.scalars }
            let C = v.intents!.count
            for (a, b) in zip(alone, padded[C..<(2 * C)]) { XCTAssertEqual(a, b, accuracy: 1e-5, "\(pooling)") }
            // Saved and reloaded: the same head, the same intents.
            let url = folder.appendingPathComponent("\(pooling).safetensors")
            var extra = ["task": "tag", "tags": v.tags.jsonString()]
            extra["intents"] = v.intents?.jsonString()
            try Checkpoint(tensors: model.stateDict(), config: String(decoding: try JSONEncoder().encode(model.config), as: UTF8.self),
                           vocabulary: v.words.tokens, extra: extra).save(to: url)
            let (loaded, _) = try SequenceTagger.load(from: url)
            XCTAssertEqual(loaded.config.intentPooling, pooling)
            let batch = TaggingBatch(data.test, indices: Array(0..<8), vocabularies: v)
            XCTAssertEqual(loaded.predict(batch).intents, model.predict(batch).intents)
        }
        // A config written before the pooling existed reads as the final states.
        var object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(tagger(v, crf: true).config)) as! [String: Any]
        object["intentPooling"] = nil
        let old = try JSONDecoder().decode(SequenceTaggerConfig.self, from: JSONSerialization.data(withJSONObject: object))
        XCTAssertEqual(old.intentPooling, .final)
    }

    func testPooledIntentHeadGradientsByFiniteDifferences() throws {
        // The pooling ops' own gradients are checked elsewhere; here the wiring: d(intent loss)/d(attention weight), numerically.
        let data = try TaggingDataset.load(folder: TagFixtures.snipsSlice(in: folder, train: 12, other: 4).path)
        let v = try TaggingVocabularies(training: data.train)
        for pooling in [IntentPooling.max, .attention, .votes] {
            var config = SequenceTaggerConfig(vocabularySize: v.words.count, tagCount: v.tags.count, intentCount: v.intents!.count,
                                              embeddingSize: 6, hiddenSize: 5, layers: 1, dropout: 0)
            config.intentPooling = pooling
            let model = SequenceTagger(config, seed: 3, tags: v.tags.tokens)
            let batch = TaggingBatch(data.train, indices: [0, 1, 2], vocabularies: v)
            func loss() -> Float { model.loss(batch).item }
            model.zeroGrad()
            let l = model.loss(batch)
            l.backward()
            let probe = pooling == .attention ? model.intentAttention!.weight : model.intentHead!.weight
            let analytic = try XCTUnwrap(probe.grad).scalars
            for i in [0, 3, probe.count - 1] {
                let x = probe.data[i], h: Float = 1e-2
                probe.data[i] = x + h
                let up = withoutGrad { loss() }
                probe.data[i] = x - h
                let down = withoutGrad { loss() }
                probe.data[i] = x
                XCTAssertEqual(analytic[i], (up - down) / (2 * h), accuracy: 2e-3 + 2e-2 * abs(analytic[i]), "\(pooling) [\(i)]")
            }
        }
    }
}

/// `--o-bias`, `--tune-o-bias` and `--intent-pooling` through the command line.
final class OutsideBiasCommandLineTests: CommandLineTestCase {
    func testBiasFlagsAndPooling() throws {
        let snips = try TagFixtures.snipsSlice(in: folder, train: 48, other: 12)
        let out = folder.appendingPathComponent("run").path
        let trained = try run(["train", "tag", "--data", snips.path, "--hidden", "8", "--embedding", "8", "--epochs", "1",
                               "--batch", "16", "--intent-pooling", "max", "--out", out])
        XCTAssertEqual(trained.status, 0, trained.error)
        XCTAssertTrue(trained.output.contains("intent head on max pooling"), trained.output)
        XCTAssertTrue(trained.output.contains("bias against O chosen on validation"), trained.output)
        let checkpoint = out + "/best.safetensors"
        let fixed = try run(["eval", "tag", "--checkpoint", checkpoint, "--data", snips.path, "--o-bias", "2.5"])
        XCTAssertEqual(fixed.status, 0, fixed.error)
        XCTAssertTrue(fixed.output.contains("bias against O 2.5"), fixed.output)
        let tuned = try run(["eval", "tag", "--checkpoint", checkpoint, "--data", snips.path, "--tune-o-bias", "--split", "validation"])
        XCTAssertEqual(tuned.status, 0, tuned.error)
        XCTAssertTrue(tuned.output.contains("bias against O on validation: -1 → "), tuned.output)
        for command in [["eval", "tag", "--data", snips.path], ["predict", "tag"], ["train", "tag", "--data", snips.path, "--out", out + "2"]] {
            try assertFails(command + (command[0] == "train" ? [] : ["--checkpoint", checkpoint]) + ["--o-bias", "nan"], mentioning: "--o-bias")
            try assertFails(command + (command[0] == "train" ? [] : ["--checkpoint", checkpoint]) + ["--o-bias", "1000"], mentioning: "--o-bias")
        }
        try assertFails(["eval", "tag", "--checkpoint", checkpoint, "--data", snips.path, "--o-bias", "1", "--tune-o-bias"], mentioning: "exclude")
        try assertFails(["train", "tag", "--data", snips.path, "--intent-pooling", "mean"], mentioning: "intent-pooling")
    }
}
