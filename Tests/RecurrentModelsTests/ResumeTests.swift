import Foundation
import RecurrentData
import RecurrentIO
@testable import RecurrentModels
import RecurrentNN
import RecurrentTensor
import XCTest

/// `run(resume: true)` of the epoch-based trainers: a run stopped after k epochs and resumed reaches the
/// same weights, optimizer state, generators and metrics as a run that was never stopped.
final class ResumeTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("recurrent-resume-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { if let folder { try? FileManager.default.removeItem(at: folder) } }

    /// Both folders' checkpoints are byte-identical and their metrics equal in every column but the clock's.
    func assertSameRun(_ a: URL, _ b: URL, clockColumns: Set<String>, file: StaticString = #filePath, line: UInt = #line) throws {
        for name in ["last.safetensors", "best.safetensors"] {
            XCTAssertEqual(try Data(contentsOf: a.appendingPathComponent(name)), try Data(contentsOf: b.appendingPathComponent(name)),
                           "\(name) differs", file: file, line: line)
        }
        let rows = { (url: URL) in try String(contentsOf: url.appendingPathComponent("metrics.csv"), encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",") } }
        let (x, y) = (try rows(a), try rows(b))
        XCTAssertEqual(x.count, y.count, file: file, line: line)
        let header = x[0].map(String.init)
        for (r, s) in zip(x, y) {
            for (k, name) in header.enumerated() where !clockColumns.contains(name) {
                XCTAssertEqual(r[k], s[k], "metrics.csv column \(name)", file: file, line: line)
            }
        }
    }

    func testClassifierResumeEqualsAnUninterruptedRun() throws {
        let yelp = try ClassificationTSV.read(path: ClassifyTests.sentiment.appendingPathComponent("yelp_labelled.txt").path)
        let data = try SentenceClassificationData(Array(yelp.prefix(100)), classes: 2, splitSeed: 1, minCount: 1)
        let config = SequenceClassifierConfig(vocabularySize: data.vocabulary.count, embeddingSize: 8, hiddenSize: 8, layers: 2, cell: "gru",
                                              bidirectional: true, dropout: 0.3, classes: 2, pooling: "max")
        var options = ClassifierTrainingOptions()
        options.epochs = 3; options.batch = 16; options.seed = 4
        let whole = folder.appendingPathComponent("whole"), parts = folder.appendingPathComponent("parts")
        let uninterrupted = SequenceClassifierTrainer(model: SequenceClassifier(config, seed: 4), data: data, options: options, runFolder: whole)
        let expected = try uninterrupted.run(progress: false)

        var first = options
        first.epochs = 1
        try SequenceClassifierTrainer(model: SequenceClassifier(config, seed: 4), data: data, options: first, runFolder: parts).run(progress: false)
        let resumed = SequenceClassifierTrainer(model: SequenceClassifier(config, seed: 4), data: data, options: options, runFolder: parts)
        XCTAssertEqual(try resumed.run(progress: false, resume: true), expected)
        XCTAssertEqual(resumed.history, uninterrupted.history)
        XCTAssertEqual(resumed.bestEpoch, uninterrupted.bestEpoch)
        try assertSameRun(whole, parts, clockColumns: ["seconds", "tokens_per_second"])

        // Another configuration or another data set is refused with a reason.
        var other = config
        other.hiddenSize = 9
        XCTAssertThrowsError(try SequenceClassifierTrainer(model: SequenceClassifier(other, seed: 4), data: data, options: options, runFolder: parts)
            .run(progress: false, resume: true)) {
            guard case .cannotResume? = $0 as? TrainingError else { return XCTFail("\($0)") }
        }
        XCTAssertThrowsError(try SequenceClassifierTrainer(model: SequenceClassifier(config, seed: 4), data: data, options: options,
                                                           runFolder: folder.appendingPathComponent("none")).run(progress: false, resume: true)) {
            XCTAssertTrue("\($0)".contains("does not exist"), "\($0)")
        }
    }

    func testTaggerResumeEqualsAnUninterruptedRun() throws {
        let data = try TaggingDataset.load(folder: TagFixtures.snipsSlice(in: folder, train: 48, other: 8).path)
        let vocabularies = try TaggingVocabularies(training: data.train)
        let config = SequenceTaggerConfig(vocabularySize: vocabularies.words.count, tagCount: vocabularies.tags.count,
                                          intentCount: vocabularies.intents?.count ?? 0, embeddingSize: 8, hiddenSize: 8, layers: 2, dropout: 0.2)
        var options = SequenceTaggerTrainingOptions()
        options.epochs = 3; options.batch = 16; options.seed = 3
        options.update = UpdateRule(optimizer: "rmsprop", momentum: 0.5)   // two state buffers per parameter
        let whole = folder.appendingPathComponent("whole"), parts = folder.appendingPathComponent("parts")
        let make = { (o: SequenceTaggerTrainingOptions, out: URL) in
            SequenceTaggerTrainer(model: SequenceTagger(config, seed: 3), data: data, vocabularies: vocabularies, options: o, runFolder: out)
        }
        let uninterrupted = make(options, whole)
        let expected = try uninterrupted.run(progress: false)
        var first = options
        first.epochs = 2
        try make(first, parts).run(progress: false)
        let resumed = make(options, parts)
        let test = try resumed.run(progress: false, resume: true)
        XCTAssertEqual(test.chunks, expected.chunks)
        XCTAssertEqual(test.loss, expected.loss)
        XCTAssertEqual(resumed.history.map(\.epoch), [1, 2, 3])
        XCTAssertEqual(resumed.history.map(\.trainLoss), uninterrupted.history.map(\.trainLoss))
        XCTAssertEqual(resumed.bestScore, uninterrupted.bestScore)
        try assertSameRun(whole, parts, clockColumns: ["seconds", "tokens_per_second"])
    }

    func testForecasterResumeEqualsAnUninterruptedRunAndStepsCapTheRun() throws {
        var series = try TimeSeriesReader.read(path: ForecastTests.co2.path)
        series.values = Array(series.values.suffix(120))
        let data = try ForecastDataset(series: series.values, window: 12)
        let config = ForecasterConfig(cell: "lstm", hiddenSize: 8, layers: 1, window: 12, scaler: data.scaler)
        var options = ForecastTrainingOptions()
        options.epochs = 4; options.batch = 16
        options.update = UpdateRule(optimizer: "sgd", momentum: 0.9, clipValue: 0.5)
        options.learningRate = 0.05
        let whole = folder.appendingPathComponent("whole"), parts = folder.appendingPathComponent("parts")
        let make = { (o: ForecastTrainingOptions, out: URL) in
            ForecastTrainer(model: Forecaster(config, seed: 6), data: data, options: o, runFolder: out)
        }
        let expected = try make(options, whole).run(progress: false)
        var first = options
        first.epochs = 3
        try make(first, parts).run(progress: false)
        XCTAssertEqual(try make(options, parts).run(progress: false, resume: true), expected)
        try assertSameRun(whole, parts, clockColumns: ["seconds"])

        // --steps: the run stops after that many batches, and the epoch cut short is still recorded.
        var capped = options
        capped.maxSteps = 5
        let batchesPerEpoch = (data.train.count + 15) / 16
        XCTAssertGreaterThan(batchesPerEpoch, 2)
        let short = make(capped, folder.appendingPathComponent("capped"))
        try short.run(progress: false)
        XCTAssertEqual(short.history.count, (5 + batchesPerEpoch - 1) / batchesPerEpoch)
        let last = try Checkpoint.load(from: folder.appendingPathComponent("capped/last.safetensors"))
        XCTAssertEqual(last.extra["step"], "5")
    }

    /// Element-wise clipping clamps before the norm is clipped, and a NaN hidden by the clamp still stops the step.
    /// Translation: stopped inside epoch 2 and resumed (which repeats epoch 2) equals a run never stopped, with
    /// dropout in encoder and decoder, scheduled sampling and a cosine schedule all drawing on saved state.
    func testTranslationResumeEqualsAnUninterruptedRun() throws {
        let corpus = SyntheticTask.reverse.corpus(train: 96, validation: 8, test: 8, lengths: 3...5, symbols: 4, seed: 1)
        let vocabularies = try Seq2SeqVocabularies(training: corpus.train)
        let config = Seq2SeqConfig(sourceVocabularySize: vocabularies.source.count, targetVocabularySize: vocabularies.target.count,
                                   embeddingSize: 6, hiddenSize: 8, layers: 2, attention: "luong-general", dropout: 0.3, inputFeeding: true)
        var options = Seq2SeqTrainingOptions()
        options.epochs = 3; options.batch = 32; options.learningRate = 1e-2; options.maxDecodeLength = 12; options.seed = 5
        options.learningRateSchedule = "cosine"; options.teacherForcingEnd = 0.5
        options.update = UpdateRule(optimizer: "rmsprop", momentum: 0.5)
        func make(_ out: URL) -> Seq2SeqTrainer {
            let trainer = Seq2SeqTrainer(model: Seq2Seq(config, seed: 5), data: corpus, vocabularies: vocabularies, options: options, runFolder: out)
            trainer.dataDescription = ["synthetic": "reverse"]
            return trainer
        }
        let whole = folder.appendingPathComponent("whole"), parts = folder.appendingPathComponent("parts")
        let uninterrupted = make(whole)
        let expected = try uninterrupted.run(progress: false)

        let interrupted = make(parts)
        var polls = 0
        interrupted.stopRequested = { polls += 1; return polls == 3 + 2 }   // 3 batches per epoch: the second batch of epoch 2
        XCTAssertThrowsError(try interrupted.run(progress: false)) { XCTAssertEqual($0 as? TrainingError, .stopped(epoch: 2)) }
        XCTAssertEqual(try Checkpoint.load(from: parts.appendingPathComponent("last.safetensors")).extra["epoch"], "1")
        let resumed = make(parts)
        let test = try resumed.run(progress: false, resume: true)
        XCTAssertEqual(test.bleu, expected.bleu)
        XCTAssertEqual(test.loss, expected.loss)
        XCTAssertEqual(resumed.history.map(\.epoch), [1, 2, 3])
        XCTAssertEqual(resumed.history.map(\.trainLoss), uninterrupted.history.map(\.trainLoss))
        XCTAssertEqual(resumed.bestBLEU, uninterrupted.bestBLEU)
        try assertSameRun(whole, parts, clockColumns: ["seconds", "tokens_per_second"])

        // Other vocabularies (another data set) are refused with a reason.
        let otherCorpus = SyntheticTask.reverse.corpus(train: 96, validation: 8, test: 8, lengths: 3...5, symbols: 5, seed: 1)
        let otherVocabularies = try Seq2SeqVocabularies(training: otherCorpus.train)
        XCTAssertThrowsError(try Seq2SeqTrainer(model: Seq2Seq(config, seed: 5), data: otherCorpus, vocabularies: otherVocabularies, options: options,
                                                runFolder: parts).run(progress: false, resume: true)) {
            XCTAssertTrue("\($0)".contains("vocabularies"), "\($0)")
        }
    }

    func testClipValueClampsAndNonFiniteGradientsStillStop() throws {
        let w = Tensor<Float>([1, 1, 1], shape: [3], requiresGrad: true)
        let optimizer = SGD(parameters: [w], learningRate: 1)
        let loss = (w * Tensor([10, -0.1, 3], shape: [3])).sum()
        try applyUpdate(loss: loss, optimizer: optimizer, clipNorm: 0, clipValue: 0.5, step: 1)
        XCTAssertEqual((0..<3).map { w.data[$0] }, [0.5, 1.1, 0.5], "gradients clamped to ±0.5, no norm clipping")
        let v = Tensor<Float>([1, 1], shape: [2], requiresGrad: true)
        let loss2 = (v * Tensor([30, 40], shape: [2])).sum()
        try applyUpdate(loss: loss2, optimizer: SGD(parameters: [v], learningRate: 1), clipNorm: 1, clipValue: 35, step: 1)
        XCTAssertEqual(Double(v.data[0]), 1 - 30.0 / (30 * 30 + 35 * 35).squareRoot(), accuracy: 1e-5, "clamped to (30, 35), then norm 1")
        XCTAssertEqual(Double(v.data[1]), 1 - 35.0 / (30 * 30 + 35 * 35).squareRoot(), accuracy: 1e-5)
        let u = Tensor<Float>([1], shape: [1], requiresGrad: true)
        u.grad = Tensor([.nan], shape: [1])   // a NaN gradient, finite loss: clamping would turn it into ±1
        let bad = (u * Tensor([2], shape: [1])).sum()
        XCTAssertThrowsError(try applyUpdate(loss: bad, optimizer: SGD(parameters: [u], learningRate: 1), clipNorm: 0, clipValue: 1, step: 7))
        XCTAssertEqual(u.data[0], 1, "parameters untouched")
    }

    /// A stop request (SIGINT/SIGTERM in the CLI) inside an epoch throws `stopped`, keeps the completed
    /// epochs in last.safetensors, and `--resume` from there equals an uninterrupted run.
    func testStopRequestInsideAnEpochLosesOnlyThatEpoch() throws {
        var series = try TimeSeriesReader.read(path: ForecastTests.co2.path)
        series.values = Array(series.values.suffix(120))
        let data = try ForecastDataset(series: series.values, window: 12)
        let config = ForecasterConfig(cell: "gru", hiddenSize: 6, window: 12, scaler: data.scaler)
        var options = ForecastTrainingOptions()
        options.epochs = 3; options.batch = 16
        let batchesPerEpoch = (data.train.count + 15) / 16
        let whole = folder.appendingPathComponent("whole"), parts = folder.appendingPathComponent("parts")
        let expected = try ForecastTrainer(model: Forecaster(config, seed: 2), data: data, options: options, runFolder: whole).run(progress: false)
        let interrupted = ForecastTrainer(model: Forecaster(config, seed: 2), data: data, options: options, runFolder: parts)
        var polls = 0
        interrupted.stopRequested = { polls += 1; return polls > batchesPerEpoch + 2 }   // two steps into epoch 2
        XCTAssertThrowsError(try interrupted.run(progress: false)) { XCTAssertEqual($0 as? TrainingError, .stopped(epoch: 2)) }
        XCTAssertEqual(try Checkpoint.load(from: parts.appendingPathComponent("last.safetensors")).extra["epoch"], "1")
        let resumed = ForecastTrainer(model: Forecaster(config, seed: 2), data: data, options: options, runFolder: parts)
        XCTAssertEqual(try resumed.run(progress: false, resume: true), expected)
        try assertSameRun(whole, parts, clockColumns: ["seconds"])
    }

    /// --on-nonfinite for the epoch-based trainers: stop names the step and leaves the parameters as they
    /// were after the last good step; skip drops the batch and finishes with finite parameters.
    func testNonFiniteBatchesStopOrAreSkipped() throws {
        var series = try TimeSeriesReader.read(path: ForecastTests.co2.path)
        series.values = Array(series.values.suffix(100))
        let data = try ForecastDataset(series: series.values, window: 12)
        let config = ForecasterConfig(cell: "lstm", hiddenSize: 4, window: 12, scaler: data.scaler)
        var options = ForecastTrainingOptions()
        options.epochs = 2; options.batch = 16
        let stopping = ForecastTrainer(model: Forecaster(config, seed: 3), data: data, options: options, runFolder: folder.appendingPathComponent("stop"))
        stopping.injectNonFiniteLossAtSteps = [3]
        XCTAssertThrowsError(try stopping.run(progress: false)) { XCTAssertEqual($0 as? TrainingError, .nonFiniteLoss(step: 3)) }
        var capped = options
        capped.maxSteps = 2
        let twoSteps = ForecastTrainer(model: Forecaster(config, seed: 3), data: data, options: capped, runFolder: folder.appendingPathComponent("two"))
        try twoSteps.run(progress: false)
        let last = try Checkpoint.load(from: folder.appendingPathComponent("two/last.safetensors"))
        for (name, tensor) in stopping.model.stateDict() {
            XCTAssertEqual((0..<tensor.count).map { tensor.data[$0] }, (0..<tensor.count).map { last.tensors[name]!.data[$0] }, "\(name): as after step 2")
        }
        let skipping = ForecastTrainer(model: Forecaster(config, seed: 3), data: data, options: options, runFolder: folder.appendingPathComponent("skip"))
        skipping.onNonFinite = .skip
        skipping.injectNonFiniteLossAtSteps = [3, 4]
        try skipping.run(progress: false)
        XCTAssertTrue(skipping.model.stateDict().values.allSatisfy { t in (0..<t.count).allSatisfy { t.data[$0].isFinite } })
        XCTAssertEqual(skipping.history.count, 2)
    }

    /// Every trainer logs how many updates clipping changed; `diagnose` reads it back per update, not per epoch.
    func testClippingIsCountedInMetrics() throws {
        var series = try TimeSeriesReader.read(path: ForecastTests.co2.path)
        series.values = Array(series.values.suffix(100))
        let data = try ForecastDataset(series: series.values, window: 12)
        let config = ForecasterConfig(cell: "rnn", hiddenSize: 4, window: 12, scaler: data.scaler)
        for (clipNorm, expected) in [(1e-4, 1.0), (0, 0.0)] {
            var options = ForecastTrainingOptions()
            options.epochs = 2; options.batch = 16; options.clipNorm = clipNorm
            let out = folder.appendingPathComponent("clip\(clipNorm)")
            try ForecastTrainer(model: Forecaster(config, seed: 1), data: data, options: options, runFolder: out).run(progress: false)
            let history = try XCTUnwrap(try ClippingHistory.read(folder: out))
            XCTAssertEqual(history.totalSteps, 2 * ((data.train.count + 15) / 16), "counted in updates")
            XCTAssertEqual(history.fraction, expected, "clip-norm \(clipNorm)")
        }
    }

    func testCheckpointsWithOptimizerStateStillLoadForPrediction() throws {
        var series = try TimeSeriesReader.read(path: ForecastTests.co2.path)
        series.values = Array(series.values.suffix(100))
        let data = try ForecastDataset(series: series.values, window: 12)
        var options = ForecastTrainingOptions()
        options.epochs = 1
        let trainer = ForecastTrainer(model: Forecaster(ForecasterConfig(cell: "gru", hiddenSize: 4, window: 12, scaler: data.scaler), seed: 1),
                                      data: data, options: options, runFolder: folder)
        try trainer.run(progress: false)
        let last = try Checkpoint.load(from: folder.appendingPathComponent("last.safetensors"))
        XCTAssertTrue(last.tensors.keys.contains { $0.hasPrefix(ResumeState.optimizerPrefix) }, "last.safetensors holds the optimizer state")
        XCTAssertNotNil(last.extra["generator.order"])
        XCTAssertNil(last.extra["seconds"], "nothing clock-dependent in a checkpoint")
        let loaded = try Forecaster.load(from: folder.appendingPathComponent("last.safetensors"))
        XCTAssertEqual(loaded.stateDict().keys.sorted(), trainer.model.stateDict().keys.sorted())
    }
}

final class TaggerConfigTests: XCTestCase {
    /// Checkpoints written before the tagger had a `cell` hold LSTM taggers and still load as such.
    func testConfigWithoutCellIsAnLSTMTagger() throws {
        let old = #"{"vocabularySize": 10, "tagCount": 3, "intentCount": 0, "embeddingSize": 4, "hiddenSize": 4, "layers": 1, "dropout": 0}"#
        let config = try JSONDecoder().decode(SequenceTaggerConfig.self, from: Data(old.utf8))
        XCTAssertEqual(config.cell, "lstm")
        XCTAssertTrue(SequenceTagger(config, seed: 1).rnn is LSTM<Float>)
        var gru = config
        gru.cell = "gru"
        XCTAssertTrue(SequenceTagger(gru, seed: 1).rnn is GRU<Float>)
        gru.cell = "transformer"
        XCTAssertThrowsError(try gru.validate())
    }
}
