import Foundation
import RecurrentData
import RecurrentIO
@testable import RecurrentModels
import RecurrentTensor
@testable import RecurrentTraining
import RecurrentPresentation
import XCTest

/// BLEU against sacrebleu, the parallel corpus reader and split, synthetic tasks, batches, and bad input.
final class Seq2SeqDataTests: ScratchFolderTestCase {
    func testBLEUMatchesSacrebleu() throws {
        for c in try Seq2SeqFixtures.cases("bleu", generator: "Scripts/make_bleu_fixtures.py") {
            let name = c["name"] as? String ?? "?"
            let hypotheses = try XCTUnwrap(c["hypotheses"] as? [String]).map { $0.split(separator: " ").map(String.init) }
            let references = try XCTUnwrap(c["references"] as? [[String]]).map { $0.map { $0.split(separator: " ").map(String.init) } }
            let bleu = BLEU.corpus(hypotheses: hypotheses, references: references)
            XCTAssertEqual(bleu.score, try XCTUnwrap(c["score"] as? Double), accuracy: 1e-9, name)
            for (a, b) in zip(bleu.precisions, try XCTUnwrap(c["precisions"] as? [Double])) { XCTAssertEqual(a, b, accuracy: 1e-9, name) }
            XCTAssertEqual(bleu.brevityPenalty, try XCTUnwrap(c["brevity_penalty"] as? Double), accuracy: 1e-12, name)
            XCTAssertEqual(bleu.hypothesisLength, c["hypothesis_length"] as? Int, name)
            XCTAssertEqual(bleu.referenceLength, c["reference_length"] as? Int, name)
        }
        let perfect = BLEU.corpus(hypotheses: [["a", "b", "c", "d"]], references: [[["a", "b", "c", "d"]]])
        XCTAssertEqual(perfect.score, 100, accuracy: 1e-9)
    }

    func testReadsPairsAndSplitsBySourceWithASeed() throws {
        let path = folder.appendingPathComponent("pairs.tsv")
        var lines: [String] = []
        for i in 0..<40 { lines.append("Word\(i) here.\tMot\(i) ici !\tCC-BY attribution") }
        lines.append("Word0 here.\tAutre traduction.\tCC-BY")
        lines.append("This sentence is far too long to be kept here.\tNon.")
        try (lines.joined(separator: "\r\n") + "\n").write(to: path, atomically: true, encoding: .utf8)
        let pairs = try ParallelCorpus.readPairs(path: path.path, maxLength: 5)
        XCTAssertEqual(pairs.count, 41)
        XCTAssertEqual(pairs[0], SentencePair(source: ["word0", "here", "."], target: ["mot0", "ici", "!"]))
        let corpus = ParallelCorpus(splitting: pairs, seed: 7, validationFraction: 0.1, testFraction: 0.1)
        XCTAssertEqual(corpus.test.count + corpus.validation.count + corpus.train.count, 41)
        XCTAssertEqual(Set(corpus.test.map(\.source)).count, 4)
        let bySplit = [corpus.train, corpus.validation, corpus.test].map { Set($0.map(\.source)) }
        XCTAssertTrue(bySplit[0].isDisjoint(with: bySplit[2]) && bySplit[1].isDisjoint(with: bySplit[2]) && bySplit[0].isDisjoint(with: bySplit[1]))
        let twice = [corpus.train, corpus.validation, corpus.test].first { $0.contains { $0.source == ["word0", "here", "."] } }!
        XCTAssertEqual(twice.filter { $0.source == ["word0", "here", "."] }.count, 2, "both translations of a source stay together")
        let again = ParallelCorpus(splitting: pairs, seed: 7, validationFraction: 0.1, testFraction: 0.1)
        XCTAssertEqual(again.test, corpus.test)
        XCTAssertNotEqual(ParallelCorpus(splitting: pairs, seed: 8, validationFraction: 0.1, testFraction: 0.1).test, corpus.test)
        XCTAssertEqual(try ParallelCorpus.readPairs(path: path.path, maxLength: 5, maxPairs: 3).count, 3)
    }

    func testBadPairFilesThrowTypedErrors() throws {
        let noTab = folder.appendingPathComponent("notab.tsv")
        try "hello\tbonjour\njust one column\n".write(to: noTab, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ParallelCorpus.readPairs(path: noTab.path)) { error in
            XCTAssertEqual(error as? DataError, .badRow(path: noTab.path, line: 2, reason: "expected source<TAB>target, found no tab"))
        }
        XCTAssertThrowsError(try ParallelCorpus.readPairs(path: folder.appendingPathComponent("missing.tsv").path)) { error in
            guard case .fileNotFound = error as? DataError else { return XCTFail("\(error)") }
        }
        let empty = folder.appendingPathComponent("empty-sides.tsv")
        try "\t\n  \t x\n".write(to: empty, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ParallelCorpus.readPairs(path: empty.path)) { error in
            guard case .tooFewValues = error as? DataError else { return XCTFail("\(error)") }
        }
    }

    func testSyntheticTasksAndBatches() throws {
        let reverse = SyntheticTask.reverse.pairs(count: 50, lengths: 20...40, symbols: 10, seed: 3)
        XCTAssertEqual(reverse, SyntheticTask.reverse.pairs(count: 50, lengths: 20...40, symbols: 10, seed: 3))
        XCTAssertTrue(reverse.allSatisfy { $0.target == $0.source.reversed() && (20...40).contains($0.source.count) })
        XCTAssertEqual(Set(reverse.flatMap(\.source)).count, 10)
        XCTAssertTrue(SyntheticTask.sort.pairs(count: 20, lengths: 3...6, symbols: 5, seed: 1).allSatisfy { $0.target == $0.source.sorted() })

        let pairs = [SentencePair(source: ["a", "b", "c"], target: ["x"]), SentencePair(source: ["b"], target: ["y", "z"])]
        let vocabularies = try Seq2SeqVocabularies(training: pairs)
        XCTAssertEqual(Array(vocabularies.target.tokens.prefix(4)), ["<pad>", "<unk>", "<s>", "</s>"])
        let batch = Seq2SeqBatch(pairs + [SentencePair(source: ["never", "seen"], target: ["q"])], indices: [0, 1, 2], vocabularies: vocabularies)
        let (a, b, c) = (vocabularies.source.id("a")!, vocabularies.source.id("b")!, vocabularies.source.id("c")!)
        XCTAssertEqual(batch.source, [a, b, 1, b, 0, 1, c, 0, 0], "(S, B) time-major, padded with 0, unknown words as <unk>")
        XCTAssertEqual(batch.sourceLengths, [3, 1, 2])
        let (x, y, z) = (vocabularies.target.id("x")!, vocabularies.target.id("y")!, vocabularies.target.id("z")!)
        XCTAssertEqual(batch.targetInput, [2, 2, 2, x, y, 1, 0, z, 0])
        XCTAssertEqual(batch.targetOutput, [x, y, 1, 3, z, 3, 0, 3, 0])
        XCTAssertEqual(vocabularies.targetTokens([x, 1, 3, y]), ["x", "<unk>"])
        XCTAssertThrowsError(try Seq2SeqVocabularies(source: Vocabulary(tokens: ["<pad>", "<unk>"]), target: Vocabulary(tokens: ["<pad>", "<unk>", "x"])))
    }

    func trainedSynthetic(out: URL) throws -> Trainer<TranslationTask> {
        let corpus = SyntheticTask.reverse.corpus(train: 256, validation: 16, test: 16, lengths: 3...5, symbols: 4, seed: 1)
        let vocabularies = try Seq2SeqVocabularies(training: corpus.train)
        let config = Seq2SeqConfig(sourceVocabularySize: vocabularies.source.count, targetVocabularySize: vocabularies.target.count,
                                   embeddingSize: 8, hiddenSize: 16, attention: .luongGeneral, dropout: 0)
        var settings = TranslationTask.Settings()
        settings.maxDecodeLength = 12
        let trainer = try translationTrainer(config, corpus: corpus, vocabularies: vocabularies, seed: 2, epochs: 3, batch: 32, out: out,
                                             settings: settings, dataDescription: ["synthetic": "reverse"]) { $0.learningRate = 1e-2 }
        try trainer.run()
        return trainer
    }

    func testTrainerWritesTheRunFolderAndTheCheckpointLoads() throws {
        let out = folder.appendingPathComponent("run")
        let trainer = try trainedSynthetic(out: out)
        for file in ["config.json", "options.json", "vocabulary.json", "metrics.csv", "best.safetensors", "last.safetensors", "test.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent(file).path), file)
        }
        let losses = trainer.history.map(\.trainLoss)
        XCTAssertLessThan(losses.last!, 0.8 * losses.first!, "training loss must fall: \(losses)")
        let (model, vocabularies, extra) = try Seq2Seq<Float>.load(from: out.appendingPathComponent("best.safetensors"))
        XCTAssertEqual(extra["synthetic"], "reverse")
        XCTAssertEqual(vocabularies, trainer.task.vocabularies)
        XCTAssertEqual(model.config, trainer.task.seq2seq.config)
        let sources = trainer.task.data.test.map(\.source)
        let a = TranslationEvaluation.translate(model, sources, vocabularies: vocabularies, maxLength: 12).map(\.ids)
        let b = TranslationEvaluation.translate(trainer.task.seq2seq, sources, vocabularies: vocabularies, maxLength: 12).map(\.ids)
        XCTAssertEqual(a, b, "the best checkpoint is the model the trainer ends with")
    }

    func testBadInputToTheTranslator() throws {
        let out = folder.appendingPathComponent("run")
        let trainer = try trainedSynthetic(out: out)
        let translator = Translator(model: trainer.task.seq2seq, vocabularies: trainer.task.vocabularies)
        var rng = RandomGenerator(seed: 1)
        XCTAssertThrowsError(try translator.translate("   ", generator: &rng)) { XCTAssertEqual($0 as? TranslationInputError, .emptySentence) }
        XCTAssertThrowsError(try translator.translate("a b", beam: 2, nBest: 3, generator: &rng)) { error in
            guard case .badOption = error as? TranslationInputError else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try translator.translate("a b", beam: 2, sample: true, generator: &rng))
        let result = try translator.translate("a zebra b", beam: 3, nBest: 2, generator: &rng)
        XCTAssertEqual(result.unknownWords, ["zebra"])
        XCTAssertEqual(result.hypotheses.count, 2)
        XCTAssertEqual(result.hypotheses[0].attention.first?.count, 3)
        // A checkpoint of another task, and a file that is no checkpoint.
        let tagger = Checkpoint(tensors: ["w": Tensor<Float>.zeros([1])], config: "{}", vocabulary: ["<pad>"], extra: ["task": "tag"])
        let wrong = folder.appendingPathComponent("tagger.safetensors")
        try tagger.save(to: wrong)
        XCTAssertThrowsError(try Seq2Seq<Float>.load(from: wrong)) { XCTAssertEqual($0 as? ModelError, .wrongTask(expected: "translate", found: "tag")) }
        let garbage = folder.appendingPathComponent("garbage.safetensors")
        try Data("not a checkpoint".utf8).write(to: garbage)
        XCTAssertThrowsError(try Seq2Seq<Float>.load(from: garbage))
        // A translate checkpoint whose config does not fit its vocabularies.
        var checkpoint = try Checkpoint.load(from: out.appendingPathComponent("best.safetensors"))
        checkpoint.vocabulary = ["<pad>", "<unk>", "a"]
        let mismatched = folder.appendingPathComponent("mismatched.safetensors")
        try checkpoint.save(to: mismatched)
        XCTAssertThrowsError(try Seq2Seq<Float>.load(from: mismatched)) { error in
            guard case .badConfig = error as? ModelError else { return XCTFail("\(error)") }
        }
    }

    func testHeatmapSVG() {
        let svg = AttentionHeatmap(source: ["je", "<b>"], output: ["i", "&"], weights: [[0.9, 0.1], [0.0, 1.0]], title: "t").svg()
        XCTAssertTrue(svg.hasPrefix("<svg"))
        XCTAssertTrue(svg.contains("&lt;b&gt;") && svg.contains("&amp;"))
        XCTAssertEqual(svg.components(separatedBy: "<rect x=").count - 1, 4, "one cell per output × source pair")
        XCTAssertTrue(svg.contains("rgb(8,48,107)"), "weight 1 is the darkest colour")
    }
}
