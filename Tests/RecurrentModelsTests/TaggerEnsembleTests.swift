import Foundation
import RecurrentData
import RecurrentIO
@testable import RecurrentModels
import RecurrentNN
import RecurrentTensor
import XCTest

/// Issue 20: several taggers decoding as one (`TaggerEnsemble`, `eval tag --checkpoint a b …`).
final class TaggerEnsembleTests: ScratchFolderTestCase {
    func tagger(_ v: TaggingVocabularies, crf: Bool, seed: UInt64, characters: Bool = false) -> SequenceTagger {
        var config = SequenceTaggerConfig(vocabularySize: v.words.count, tagCount: v.tags.count, intentCount: v.intents?.count ?? 0,
                                          embeddingSize: 8, hiddenSize: 8, layers: 1, dropout: 0.1, crf: crf)
        if characters { (config.characterFeatures, config.alphabetSize) = (.cnn, v.characters!.count) }
        return SequenceTagger(config, seed: seed, tags: v.tags.tokens)
    }

    func testAnEnsembleOfOneDecodesAsItsMember() throws {
        let data = try TaggingDataset.load(folder: TagFixtures.snipsSlice(in: folder, train: 120, other: 20).path)
        let v = try TaggingVocabularies(training: data.train)
        for crf in [true, false] {
            let model = tagger(v, crf: crf, seed: 3)
            model.outsideBias = 0.75
            let ensemble = try TaggerEnsemble([(model, v)])
            for batch in TaggingBatch.sequential(data.test, batch: 8, vocabularies: v) {
                let one = model.predict(batch, constrainedBy: v.tags)
                let all = ensemble.predict(data.test, indices: batch.indices)
                XCTAssertEqual(all.tags, one.tags, "crf \(crf)")
                XCTAssertEqual(all.intents, one.intents, "crf \(crf)")
            }
            let single = TaggingEvaluation.evaluate(model, data.test, vocabularies: v)
            let joint = TaggingEvaluation.evaluate(ensemble, data.test)
            XCTAssertEqual(joint.chunks.f1, single.chunks.f1, "crf \(crf)")
            XCTAssertEqual(joint.intentAccuracy, single.intentAccuracy, "crf \(crf)")
            // The ensemble's loss is the tags' alone (`loss` adds the intents'), on batches whose tags the model knows.
            var compared = 0
            for batch in TaggingBatch.sequential(data.test, batch: 1, vocabularies: v) {
                guard let loss = ensemble.predict(data.test, indices: batch.indices).loss else { continue }
                let reference = withoutGrad { () -> Float in
                    model.eval()
                    defer { model.train() }
                    return model.lossTerms(batch)[0].loss!.item
                }
                XCTAssertEqual(loss, Double(reference), accuracy: 1e-5, "crf \(crf)")
                compared += 1
            }
            XCTAssertGreaterThan(compared, 0)
            // An overriding bias replaces the member's.
            ensemble.outsideBias = -1000
            XCTAssertEqual(ensemble.predict(data.test, indices: [0, 1]).tags, [0, 1].map { [Int](repeating: v.tags.id("O")!, count: data.test[$0].tokens.count) })
        }
    }

    /// With CRFs, the ensemble's path is the one with the highest mean of the members' path scores (constraints
    /// included), found here by trying every path of short sentences over O, B-X, I-X.
    func testCRFEnsemblePathMaximisesTheMembersMeanPathScore() throws {
        var g = RandomGenerator(seed: 11)
        let words = ["a", "b", "c", "d", "e", "f"], names = ["O", "B-X", "I-X"]
        func sentence(_ n: Int) -> TaggedSentence {
            TaggedSentence(tokens: (0..<n).map { _ in words[Int(g.nextDouble() * 6) % 6] }, tags: (0..<n).map { _ in names[Int(g.nextDouble() * 3) % 3] })
        }
        let training = (0..<12).map { _ in sentence(4) }
        let v = try TaggingVocabularies(training: training)
        let members = [tagger(v, crf: true, seed: 1), tagger(v, crf: true, seed: 2), tagger(v, crf: true, seed: 5)]
        members[1].outsideBias = 0.5
        let ensemble = try TaggerEnsemble(members.map { ($0, v) })
        let sentences = (1...4).map(sentence)
        let guessed = ensemble.predict(sentences, indices: Array(sentences.indices)).tags
        let K = v.tags.count
        for (s, sentence) in sentences.enumerated() {
            let T = sentence.tokens.count
            // Each member's emissions of this sentence alone, its bias against O applied.
            let emissions: [[Float]] = members.map { m in
                let (scores, _) = m.scores(TaggingBatch([sentence], indices: [0], vocabularies: v))
                let o = m.outsideTag!
                return scores.scalars.enumerated().map { $0.offset % K == o ? $0.element - m.outsideBias : $0.element }
            }
            func meanScore(_ path: [Int]) -> Double {
                zip(members, emissions).map { m, e -> Double in
                    let crf = m.crf!, c = crf.constraints!
                    func penalty(_ ok: Bool) -> Double { ok ? 0 : TransitionConstraints.penalty }
                    var score = Double(crf.startTransitions.data[path[0]]) + penalty(c.allowedStart[path[0]])
                    for t in 0..<T {
                        score += Double(e[t * K + path[t]])
                        if t > 0 {
                            score += Double(crf.transitions.data[path[t - 1] * K + path[t]]) + penalty(c.allowed[path[t - 1] * K + path[t]])
                        }
                    }
                    return score + Double(crf.endTransitions.data[path[T - 1]]) + penalty(c.allowedEnd[path[T - 1]])
                }.reduce(0, +) / Double(members.count)
            }
            var best: (path: [Int], score: Double) = ([], -.infinity)
            for code in 0..<Int(pow(Double(K), Double(T))) {
                let path = (0..<T).map { code / Int(pow(Double(K), Double($0))) % K }
                let score = meanScore(path)
                if score > best.score { best = (path, score) }
            }
            XCTAssertEqual(guessed[s], best.path, "sentence \(s)")
            XCTAssertEqual(meanScore(guessed[s]), best.score, accuracy: 1e-4)
        }
    }

    func testMembersMustShareTagsIntentsAndOutputLayer() throws {
        let snips = try TaggingDataset.load(folder: TagFixtures.snipsSlice(in: folder, train: 32, other: 8).path)
        let v = try TaggingVocabularies(training: snips.train)
        let fewer = try TaggingVocabularies(training: Array(snips.train.prefix(4)))
        XCTAssertNotEqual(fewer.tags.tokens, v.tags.tokens)
        func refused(_ members: [(model: SequenceTagger, vocabularies: TaggingVocabularies)], mentioning text: String) {
            XCTAssertThrowsError(try TaggerEnsemble(members)) { XCTAssertTrue("\($0)".contains(text), "\($0)") }
        }
        refused([], mentioning: "at least one")
        refused([(tagger(v, crf: true, seed: 1), v), (tagger(fewer, crf: true, seed: 2), fewer)], mentioning: "other tags")
        refused([(tagger(v, crf: true, seed: 1), v), (tagger(v, crf: false, seed: 2), v)], mentioning: "CRF")
        var noIntents = v
        noIntents.intents = nil
        refused([(tagger(v, crf: true, seed: 1), v), (tagger(noIntents, crf: true, seed: 2), noIntents)], mentioning: "other intents")
        // Members may read words and characters differently: each gets its own batch.
        var withCharacters = try TaggingVocabularies(training: Array(snips.train.prefix(20)))
        (withCharacters.tags, withCharacters.intents) = (v.tags, v.intents)
        withCharacters.characters = try TaggingVocabularies.characters(of: snips.train)
        let mixed = try TaggerEnsemble([(tagger(v, crf: true, seed: 1), v), (tagger(withCharacters, crf: true, seed: 2, characters: true), withCharacters)])
        XCTAssertEqual(mixed.predict(snips.test, indices: [0, 1, 2]).tags.map(\.count), [0, 1, 2].map { snips.test[$0].tokens.count })
    }
}

/// `eval tag` with several checkpoints.
final class TaggerEnsembleCommandLineTests: CommandLineTestCase {
    func testEvalTagScoresAnEnsembleOfCheckpoints() throws {
        let snips = try TagFixtures.snipsSlice(in: folder, train: 48, other: 12)
        var checkpoints: [String] = []
        for seed in ["1", "2"] {
            let out = folder.appendingPathComponent("run\(seed)").path
            let trained = try run(["train", "tag", "--data", snips.path, "--hidden", "8", "--embedding", "8", "--epochs", "1", "--batch", "16",
                                   "--char-features", "none", "--seed", seed, "--out", out])
            XCTAssertEqual(trained.status, 0, trained.error)
            checkpoints.append(out + "/best.safetensors")
        }
        let both = try run(["eval", "tag", "--checkpoint"] + checkpoints + ["--data", snips.path])
        XCTAssertEqual(both.status, 0, both.error)
        XCTAssertTrue(both.output.contains("an ensemble of 2 taggers"), both.output)
        XCTAssertTrue(both.output.contains("intent accuracy"), both.output)
        let repeated = try run(["eval", "tag", "--checkpoint", checkpoints[0], "--data", snips.path, "--checkpoint", checkpoints[1], "--o-bias", "0.5"])
        XCTAssertEqual(repeated.status, 0, repeated.error)
        XCTAssertTrue(repeated.output.contains("an ensemble of 2 taggers, bias against O 0.5"), repeated.output)
        try assertFails(["eval", "tag", "--checkpoint"] + checkpoints + ["--data", snips.path, "--tune-o-bias"], mentioning: "one checkpoint")
        // predict tag: one line per input line from the ensemble, tags and intent.
        let input = folder.appendingPathComponent("in.txt")
        try "play the latest album by radiohead\n\nwhat is the weather in paris\n".write(to: input, atomically: true, encoding: .utf8)
        let predicted = try run(["predict", "tag", "--checkpoint"] + checkpoints + ["--input", input.path])
        XCTAssertEqual(predicted.status, 0, predicted.error)
        let lines = predicted.output.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        XCTAssertEqual(lines.count, 3, predicted.output)
        XCTAssertEqual(lines[0].split(separator: "\t")[0].split(separator: " ").count, 6, predicted.output)
        XCTAssertEqual(lines[1], "")
        try assertFails(["predict", "tag", "--input", input.path], mentioning: "--checkpoint")
        try assertFails(["eval", "tag", "--data", snips.path], mentioning: "--checkpoint")
        // A member trained on other data (other tags) is refused with a message.
        let wnut = try TagFixtures.wnutSlice(in: folder)
        let other = folder.appendingPathComponent("other").path
        XCTAssertEqual(try run(["train", "tag", "--data", wnut.path, "--hidden", "8", "--embedding", "8", "--epochs", "1", "--char-features", "none",
                                "--out", other]).status, 0)
        try assertFails(["eval", "tag", "--checkpoint", checkpoints[0], other + "/best.safetensors", "--data", snips.path], mentioning: "other")
    }
}
