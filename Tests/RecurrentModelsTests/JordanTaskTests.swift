import Foundation
import RecurrentData
import RecurrentIO
@testable import RecurrentModels
import RecurrentNN
import RecurrentTensor
@testable import RecurrentTraining
import XCTest

/// Jordan networks in the task models (`--cell jordan`): the character language model, the classifier and
/// the tagger. The state a Jordan network carries is its fed-back output y, through `RecurrentState.hidden`.
final class JordanTaskTests: ScratchFolderTestCase {
    // MARK: character language model

    /// Sampling feeds one token at a time and carries the state between calls: that must give the logits of
    /// the whole sequence run at once.
    func testLanguageModelCarriesItsStateAcrossCalls() {
        let model = LanguageModel(LanguageModelConfig(vocabularySize: 7, embeddingSize: 4, hiddenSize: 6, layers: 2, cell: .jordan), seed: 1)
        model.eval()
        let ids = [1, 3, 5, 2, 6, 0, 4]
        let whole = model(ids, steps: ids.count, batch: 1).logits                       // (T, 1, V)
        var state: RecurrentState<Float>? = nil
        for (t, id) in ids.enumerated() {
            let step = model([id], steps: 1, batch: 1, state: state)
            state = step.state
            for v in 0..<7 { XCTAssertEqual(step.logits.data[v], whole.data[t * 7 + v], accuracy: 1e-5, "step \(t)") }
        }
        XCTAssertEqual(state?.h.shape, [2, 1, 6])
        XCTAssertNil(state?.lstmState)                                  // a Jordan network's state is .hidden(y)
        // Without the carried state the next step's logits differ: the state matters.
        let fresh = model([4], steps: 1, batch: 1).logits
        XCTAssertNotEqual(fresh.scalars, model([4], steps: 1, batch: 1, state: state).logits.scalars)
    }

    func smallCorpus() throws -> TextCorpus {
        try TextCorpus(text: String(try readTextFile(LanguageModelTests.shakespeare.path).prefix(20_000)))
    }

    func languageModelTrainer(_ corpus: TextCorpus, layers: Int, dropout: Double, steps: Int, out: URL) throws -> Trainer<LanguageModelTask> {
        let config = LanguageModelConfig(vocabularySize: corpus.vocabulary.count, embeddingSize: 16, hiddenSize: 32, layers: layers,
                                         cell: .jordan, dropout: dropout)
        return try RecurrentModelsTests.languageModelTrainer(config, corpus: corpus, seed: 3, steps: steps, evaluateEvery: steps / 3, batch: 16,
                                                             seqLen: 32, evalCharacters: 2000, out: out) { $0.learningRate = 1e-2 }
    }

    /// A one-layer Jordan language model learns real text, and its checkpoint loads back and samples.
    func testLanguageModelLearnsAndLoads() throws {
        let corpus = try smallCorpus()
        let trainer = try languageModelTrainer(corpus, layers: 1, dropout: 0, steps: 150, out: folder)
        try trainer.run()
        let losses = trainer.history.map(\.evaluation), uniform = log(Double(corpus.vocabulary.count))
        XCTAssertEqual(losses.count, 3)
        XCTAssertGreaterThan(losses[0], losses[2])
        XCTAssertLessThan(losses[2], 2.8, "uniform would be \(uniform)")

        let (model, vocabulary) = try LanguageModel.load(from: folder.appendingPathComponent("best.safetensors"))   // the trainer ends with the best weights
        XCTAssertEqual(model.config.cell, .jordan)
        XCTAssertTrue(model.rnn is Jordan<Float>)
        XCTAssertEqual(model.namedParameters().map(\.name), trainer.task.model.namedParameters().map(\.name))
        XCTAssertTrue(model.namedParameters().map(\.name).contains("rnn.weight_yh_l0"))
        for (p, q) in zip(model.parameters(), trainer.task.model.parameters()) { XCTAssertEqual(p.scalars, q.scalars) }
        var g1 = RandomGenerator(seed: 2), g2 = RandomGenerator(seed: 2)
        let prime = try vocabulary.encode(characters: "ROMEO:")
        let sample = model.sample(prime: prime, length: 40, temperature: 0.8, generator: &g1)
        XCTAssertEqual(sample.count, 40)
        XCTAssertEqual(sample, trainer.task.languageModel.sample(prime: prime, length: 40, temperature: 0.8, generator: &g2))
    }

    /// Two layers with dropout between them: stopped and resumed equals a run never stopped, bit for bit
    /// (the between-layer masks' generator is saved and restored).
    func testLanguageModelResumeIsBitIdentical() throws {
        let corpus = try smallCorpus()
        let whole = folder.appendingPathComponent("whole"), parts = folder.appendingPathComponent("parts")
        try languageModelTrainer(corpus, layers: 2, dropout: 0.3, steps: 30, out: whole).run()
        try languageModelTrainer(corpus, layers: 2, dropout: 0.3, steps: 15, out: parts).run()
        try languageModelTrainer(corpus, layers: 2, dropout: 0.3, steps: 30, out: parts).run(resume: true)
        let a = try Checkpoint.load(from: whole.appendingPathComponent("last.safetensors"))
        let b = try Checkpoint.load(from: parts.appendingPathComponent("last.safetensors"))
        XCTAssertEqual(Set(a.tensors.keys), Set(b.tensors.keys))
        for (name, tensor) in a.tensors { XCTAssertEqual(tensor.scalars, b.tensors[name]!.scalars, name) }
        for key in ["step", "generator.order", "generator.dropout"] { XCTAssertEqual(a.extra[key], b.extra[key], key) }
        // The masks' generator did advance: dropout ran.
        let fresh = LanguageModel(LanguageModelConfig(vocabularySize: corpus.vocabulary.count, embeddingSize: 16, hiddenSize: 32, layers: 2,
                                                      cell: .jordan, dropout: 0.3), seed: 3)
        XCTAssertNotEqual(a.extra["generator.dropout"], fresh.rnn.dropoutGenerator.state.map(String.init).joined(separator: ","))
    }

    // MARK: classifier

    /// A bidirectional Jordan classifier on 300 real sentences fits them beyond chance and loads back; a
    /// two-layer one pooling its final states, stopped after one epoch and resumed, equals one never stopped.
    func testClassifierLearnsAndResumes() throws {
        let sentiment = ClassifyTests.sentiment
        let yelp = try ClassificationTSV.read(path: sentiment.appendingPathComponent("yelp_labelled.txt").path)
        let amazon = try ClassificationTSV.read(path: sentiment.appendingPathComponent("amazon_cells_labelled.txt").path)
        let data = try SentenceClassificationData(Array(yelp.prefix(150)) + Array(amazon.prefix(150)), splitSeed: 3)
        var config = SequenceClassifierConfig(vocabularySize: data.vocabulary.count, embeddingSize: 16, hiddenSize: 16, cell: .jordan,
                                              dropout: 0.1)
        let learner = try classifierTrainer(config, data: data, seed: 5, epochs: 4, batch: 16, out: folder.appendingPathComponent("learn")) {
            $0.learningRate = 1e-2
        }
        try learner.run()
        let fit = learner.task.classifier.evaluate(on: data.train)
        XCTAssertGreaterThan(fit.accuracy, 0.8, "must fit its training sentences beyond chance (0.5): \(fit.summary)")
        XCTAssertLessThan(learner.history.last!.trainLoss, learner.history.first!.trainLoss)
        let (loaded, _, _) = try SequenceClassifier.load(from: folder.appendingPathComponent("learn/best.safetensors"))
        XCTAssertTrue(loaded.rnn is Jordan<Float>)
        XCTAssertEqual(loaded.featureSize, 32)

        config.layers = 2; config.pooling = .final; config.dropout = 0.3
        let whole = folder.appendingPathComponent("whole"), parts = folder.appendingPathComponent("parts")
        let make = { (epochs: Int, out: URL) in try classifierTrainer(config, data: data, seed: 5, epochs: epochs, batch: 16, out: out) { $0.learningRate = 1e-2 } }
        let expected = try make(3, whole).run().report?.test
        try make(1, parts).run()
        XCTAssertEqual(try make(3, parts).run(resume: true).report?.test, expected)
        XCTAssertEqual(try Data(contentsOf: whole.appendingPathComponent("last.safetensors")),
                       try Data(contentsOf: parts.appendingPathComponent("last.safetensors")))
    }

    // MARK: tagger

    /// A Jordan tagger: padding never changes a sentence's tags, and resuming equals a run never stopped.
    func testTaggerIgnoresPaddingAndResumes() throws {
        let data = try TaggingDataset.load(folder: TagFixtures.snipsSlice(in: folder, train: 48, other: 8).path)
        let vocabularies = try TaggingVocabularies(training: data.train)
        let config = SequenceTaggerConfig(vocabularySize: vocabularies.words.count, tagCount: vocabularies.tags.count,
                                          intentCount: vocabularies.intents?.count ?? 0, embeddingSize: 8, hiddenSize: 8, layers: 2,
                                          dropout: 0.2, cell: .jordan)
        let whole = folder.appendingPathComponent("whole"), parts = folder.appendingPathComponent("parts")
        let make = { (epochs: Int, out: URL) in
            try taggerTrainer(config, data: data, vocabularies: vocabularies, seed: 3, dataSeed: 3, epochs: epochs, batch: 16, out: out)
        }
        let uninterrupted = try make(3, whole)
        let expected = try XCTUnwrap(try uninterrupted.run().report)
        XCTAssertTrue(uninterrupted.task.tagger.rnn is Jordan<Float>)
        XCTAssertLessThan(uninterrupted.history.last!.trainLoss, uninterrupted.history.first!.trainLoss)
        try make(2, parts).run()
        XCTAssertEqual(try make(3, parts).run(resume: true).report?.chunks, expected.chunks)
        XCTAssertEqual(try Data(contentsOf: whole.appendingPathComponent("last.safetensors")),
                       try Data(contentsOf: parts.appendingPathComponent("last.safetensors")))

        let model = uninterrupted.task.tagger
        let alone = model.predict(TaggingBatch(data.test, indices: [0], vocabularies: vocabularies))
        let longest = data.test.indices.max { data.test[$0].tokens.count < data.test[$1].tokens.count }!
        let padded = model.predict(TaggingBatch(data.test, indices: [longest, 0], vocabularies: vocabularies))
        XCTAssertGreaterThan(data.test[longest].tokens.count, data.test[0].tokens.count)
        XCTAssertEqual(alone.tags[0], padded.tags[1])
        XCTAssertEqual(alone.intents?[0], padded.intents?[1])
    }
}

/// `--cell jordan` through the command line: each task trains, reports, and its checkpoint is read back by
/// the commands that use it (sample, eval, predict, diagnose).
final class JordanCommandLineTests: CommandLineTestCase {
    func testEveryTaskTakesTheJordanCell() throws {
        let text = folder.appendingPathComponent("text.txt")
        try String(repeating: "To be, or not to be, that is the question.\n", count: 40).write(to: text, atomically: true, encoding: .utf8)
        let lm = folder.appendingPathComponent("lm").path
        let trained = try run(["train", "charlm", "--data", text.path, "--cell", "jordan", "--hidden", "16", "--layers", "2", "--dropout", "0.2",
                               "--embedding", "8", "--steps", "6", "--eval-every", "3", "--batch", "4", "--seq-len", "16", "--out", lm])
        XCTAssertEqual(trained.status, 0, trained.error)
        XCTAssertTrue(trained.output.contains("model: jordan 2×16"), trained.output)
        let sampled = try run(["sample", "--checkpoint", lm + "/best.safetensors", "--prime", "To be", "--length", "20", "--seed", "2"])
        XCTAssertEqual(sampled.status, 0, sampled.error)
        XCTAssertTrue(sampled.output.hasPrefix("To be"))
        XCTAssertGreaterThanOrEqual(sampled.output.count, 25)
        let evaluated = try run(["eval", "charlm", "--checkpoint", lm + "/best.safetensors", "--data", text.path])
        XCTAssertEqual(evaluated.status, 0, evaluated.error)
        let diagnosed = try run(["diagnose", "--checkpoint", lm + "/best.safetensors", "--data", text.path, "--lag", "30", "--batch", "3",
                                 "--out", folder.appendingPathComponent("d").path])
        XCTAssertEqual(diagnosed.status, 0, diagnosed.error)
        XCTAssertTrue(diagnosed.output.contains("charlm jordan 2×16, 30 steps, batch 3"), diagnosed.output)
        XCTAssertTrue(diagnosed.output.contains("σ(rnn.weight_yh_l1)"), diagnosed.output)

        let reviews = try ClassifyFixtures.smallReviews(in: folder)
        let classifier = folder.appendingPathComponent("classify").path
        let classified = try run(["train", "classify", "--data", reviews.path, "--cell", "jordan", "--hidden", "8", "--embedding", "8",
                                  "--epochs", "2", "--batch", "8", "--pooling", "final", "--out", classifier])
        XCTAssertEqual(classified.status, 0, classified.error)
        XCTAssertTrue(classified.output.contains("bidirectional jordan 1×8"), classified.output)
        let predicted = try run(["predict", "classify", "--checkpoint", classifier + "/best.safetensors"], input: "a great phone\nvery bad\n")
        XCTAssertEqual(predicted.status, 0, predicted.error)
        XCTAssertEqual(predicted.output.split(separator: "\n").count, 2, predicted.output)

        let snips = try TagFixtures.snipsSlice(in: folder, train: 64, other: 16)
        let tagger = folder.appendingPathComponent("tag").path
        let tagged = try run(["train", "tag", "--data", snips.path, "--cell", "jordan", "--hidden", "16", "--embedding", "8", "--epochs", "1",
                              "--batch", "16", "--out", tagger])
        XCTAssertEqual(tagged.status, 0, tagged.error)
        XCTAssertTrue(tagged.output.contains("intent accuracy"), tagged.output)
        let slots = try run(["predict", "tag", "--checkpoint", tagger + "/best.safetensors"], input: "play some jazz on spotify\n")
        XCTAssertEqual(slots.status, 0, slots.error)
        XCTAssertEqual(slots.output.split(separator: "\t")[0].split(separator: " ").count, 5, slots.output)
    }
}
