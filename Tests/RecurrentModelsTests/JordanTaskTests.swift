import Foundation
import RecurrentData
import RecurrentIO
@testable import RecurrentModels
import RecurrentNN
import RecurrentTensor
import XCTest

/// Jordan networks in the task models (`--cell jordan`): the character language model, the classifier and
/// the tagger. The state a Jordan network carries is its fed-back output y, through `RecurrentState.hidden`.
final class JordanTaskTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("recurrent-jordan-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { if let folder { try? FileManager.default.removeItem(at: folder) } }

    // MARK: character language model

    /// Sampling feeds one token at a time and carries the state between calls: that must give the logits of
    /// the whole sequence run at once.
    func testLanguageModelCarriesItsStateAcrossCalls() {
        let model = LanguageModel(LanguageModelConfig(vocabularySize: 7, embeddingSize: 4, hiddenSize: 6, layers: 2, cell: "jordan"), seed: 1)
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

    func languageModelTrainer(_ corpus: TextCorpus, layers: Int, dropout: Double, steps: Int, out: URL) -> LanguageModelTrainer {
        let config = LanguageModelConfig(vocabularySize: corpus.vocabulary.count, embeddingSize: 16, hiddenSize: 32, layers: layers,
                                         cell: "jordan", dropout: dropout)
        var options = LanguageModelTrainingOptions()
        options.steps = steps; options.batch = 16; options.seqLen = 32; options.evalEvery = steps / 3; options.evalCharacters = 2000
        options.learningRate = 1e-2
        return LanguageModelTrainer(model: LanguageModel(config, seed: 3), corpus: corpus, options: options, runFolder: out)
    }

    /// A one-layer Jordan language model learns real text, and its checkpoint loads back and samples.
    func testLanguageModelLearnsAndLoads() throws {
        let corpus = try smallCorpus()
        let trainer = languageModelTrainer(corpus, layers: 1, dropout: 0, steps: 150, out: folder)
        try trainer.run(progress: false)
        let losses = trainer.history.map(\.validationLoss), uniform = log(Double(corpus.vocabulary.count))
        XCTAssertEqual(losses.count, 3)
        XCTAssertGreaterThan(losses[0], losses[2])
        XCTAssertLessThan(losses[2], 2.8, "uniform would be \(uniform)")

        let (model, vocabulary) = try LanguageModel.load(from: folder.appendingPathComponent("last.safetensors"))
        XCTAssertEqual(model.config.cell, "jordan")
        XCTAssertTrue(model.rnn is Jordan<Float>)
        XCTAssertEqual(model.namedParameters().map(\.name), trainer.model.namedParameters().map(\.name))
        XCTAssertTrue(model.namedParameters().map(\.name).contains("rnn.weight_yh_l0"))
        for (p, q) in zip(model.parameters(), trainer.model.parameters()) { XCTAssertEqual(p.scalars, q.scalars) }
        var g1 = RandomGenerator(seed: 2), g2 = RandomGenerator(seed: 2)
        let prime = try vocabulary.encode(characters: "ROMEO:")
        let sample = model.sample(prime: prime, length: 40, temperature: 0.8, generator: &g1)
        XCTAssertEqual(sample.count, 40)
        XCTAssertEqual(sample, trainer.model.sample(prime: prime, length: 40, temperature: 0.8, generator: &g2))
    }

    /// Two layers with dropout between them: stopped and resumed equals a run never stopped, bit for bit
    /// (the between-layer masks' generator is saved and restored).
    func testLanguageModelResumeIsBitIdentical() throws {
        let corpus = try smallCorpus()
        let whole = folder.appendingPathComponent("whole"), parts = folder.appendingPathComponent("parts")
        try languageModelTrainer(corpus, layers: 2, dropout: 0.3, steps: 30, out: whole).run(progress: false)
        try languageModelTrainer(corpus, layers: 2, dropout: 0.3, steps: 15, out: parts).run(progress: false)
        try languageModelTrainer(corpus, layers: 2, dropout: 0.3, steps: 30, out: parts).run(progress: false, resume: true)
        let a = try Checkpoint.load(from: whole.appendingPathComponent("last.safetensors"))
        let b = try Checkpoint.load(from: parts.appendingPathComponent("last.safetensors"))
        XCTAssertEqual(Set(a.tensors.keys), Set(b.tensors.keys))
        for (name, tensor) in a.tensors { XCTAssertEqual(tensor.scalars, b.tensors[name]!.scalars, name) }
        for key in ["step", "generator", "dropout_generator"] { XCTAssertEqual(a.extra[key], b.extra[key], key) }
        // The masks' generator did advance: dropout ran.
        let fresh = LanguageModel(LanguageModelConfig(vocabularySize: corpus.vocabulary.count, embeddingSize: 16, hiddenSize: 32, layers: 2,
                                                      cell: "jordan", dropout: 0.3), seed: 3)
        XCTAssertNotEqual(a.extra["dropout_generator"], fresh.rnn.dropoutGenerator.state.map(String.init).joined(separator: ","))
    }

    // MARK: classifier

    /// A bidirectional Jordan classifier on 300 real sentences fits them beyond chance and loads back; a
    /// two-layer one pooling its final states, stopped after one epoch and resumed, equals one never stopped.
    func testClassifierLearnsAndResumes() throws {
        let sentiment = ClassifyTests.sentiment
        let yelp = try ClassificationTSV.read(path: sentiment.appendingPathComponent("yelp_labelled.txt").path)
        let amazon = try ClassificationTSV.read(path: sentiment.appendingPathComponent("amazon_cells_labelled.txt").path)
        let data = try SentenceClassificationData(Array(yelp.prefix(150)) + Array(amazon.prefix(150)), splitSeed: 3)
        var config = SequenceClassifierConfig(vocabularySize: data.vocabulary.count, embeddingSize: 16, hiddenSize: 16, cell: "jordan",
                                              dropout: 0.1)
        var options = ClassifierTrainingOptions()
        options.epochs = 4; options.batch = 16; options.learningRate = 1e-2
        let learner = SequenceClassifierTrainer(model: SequenceClassifier(config, seed: 5), data: data, options: options,
                                                runFolder: folder.appendingPathComponent("learn"))
        try learner.run(progress: false)
        let fit = SequenceClassifierTrainer.evaluate(learner.model, on: data.train)
        XCTAssertGreaterThan(fit.accuracy, 0.8, "must fit its training sentences beyond chance (0.5): \(fit.summary)")
        XCTAssertLessThan(learner.history.last!.trainLoss, learner.history.first!.trainLoss)
        let (loaded, _, _) = try SequenceClassifier.load(from: folder.appendingPathComponent("learn/best.safetensors"))
        XCTAssertTrue(loaded.rnn is Jordan<Float>)
        XCTAssertEqual(loaded.featureSize, 32)

        config.layers = 2; config.pooling = "final"; config.dropout = 0.3
        options.epochs = 3
        let whole = folder.appendingPathComponent("whole"), parts = folder.appendingPathComponent("parts")
        let expected = try SequenceClassifierTrainer(model: SequenceClassifier(config, seed: 5), data: data, options: options, runFolder: whole)
            .run(progress: false)
        var first = options
        first.epochs = 1
        try SequenceClassifierTrainer(model: SequenceClassifier(config, seed: 5), data: data, options: first, runFolder: parts).run(progress: false)
        let resumed = SequenceClassifierTrainer(model: SequenceClassifier(config, seed: 5), data: data, options: options, runFolder: parts)
        XCTAssertEqual(try resumed.run(progress: false, resume: true), expected)
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
                                          dropout: 0.2, cell: "jordan")
        var options = SequenceTaggerTrainingOptions()
        options.epochs = 3; options.batch = 16; options.seed = 3
        let whole = folder.appendingPathComponent("whole"), parts = folder.appendingPathComponent("parts")
        let make = { (o: SequenceTaggerTrainingOptions, out: URL) in
            SequenceTaggerTrainer(model: SequenceTagger(config, seed: 3), data: data, vocabularies: vocabularies, options: o, runFolder: out)
        }
        let uninterrupted = make(options, whole)
        let expected = try uninterrupted.run(progress: false)
        XCTAssertTrue(uninterrupted.model.rnn is Jordan<Float>)
        XCTAssertLessThan(uninterrupted.history.last!.trainLoss, uninterrupted.history.first!.trainLoss)
        var first = options
        first.epochs = 2
        try make(first, parts).run(progress: false)
        let resumed = make(options, parts)
        XCTAssertEqual(try resumed.run(progress: false, resume: true).chunks, expected.chunks)
        XCTAssertEqual(try Data(contentsOf: whole.appendingPathComponent("last.safetensors")),
                       try Data(contentsOf: parts.appendingPathComponent("last.safetensors")))

        let model = uninterrupted.model
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
