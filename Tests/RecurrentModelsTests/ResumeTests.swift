import Foundation
import RecurrentData
import RecurrentIO
@testable import RecurrentModels
import RecurrentNN
import RecurrentTensor
@testable import RecurrentTraining
import XCTest

/// `run(resume: true)` of every task: a run stopped inside an epoch (or between evaluations), or after k
/// epochs, and resumed reaches the same weights, optimizer state, generators and metrics as a run that was never stopped.
final class ResumeTests: ScratchFolderTestCase {
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

    /// Runs `make` three ways into three folders: uninterrupted; stopped by a request before poll
    /// `stopAtPoll` (inside an epoch) and resumed; and, when `firstEpochs` is given, run to that many
    /// epochs and resumed with the full schedule. Each resumed run must equal the uninterrupted one bit for bit.
    func assertResumesExactly<Task: TrainingTask>(_ make: (URL) throws -> Trainer<Task>, stopAtPoll: Int,
                                                  clockColumns: Set<String> = ["seconds", "tokens_per_second"],
                                                  shorter: ((URL) throws -> Trainer<Task>)? = nil,
                                                  file: StaticString = #filePath, line: UInt = #line) throws {
        let whole = folder.appendingPathComponent("whole"), stopped = folder.appendingPathComponent("stopped")
        let uninterrupted = try make(whole)
        try uninterrupted.run()
        let interrupted = try make(stopped)
        var polls = 0
        interrupted.stopRequested = { polls += 1; return polls == stopAtPoll }
        guard case let .stopped(position) = try interrupted.run() else { return XCTFail("the stop request was not honoured", file: file, line: line) }
        XCTAssertEqual(position.step, stopAtPoll - 1, file: file, line: line)
        XCTAssertEqual(try Checkpoint.load(from: stopped.appendingPathComponent("last.safetensors")).extra["step"], "\(stopAtPoll - 1)",
                       "the stop saves the step it happened at", file: file, line: line)
        let resumed = try make(stopped)
        XCTAssertNotNil(try resumed.run(resume: true).report, file: file, line: line)
        XCTAssertEqual(resumed.history.map(\.step), uninterrupted.history.map(\.step), file: file, line: line)
        XCTAssertEqual(resumed.history.map(\.trainLoss), uninterrupted.history.map(\.trainLoss), file: file, line: line)
        try assertSameRun(whole, stopped, clockColumns: clockColumns, file: file, line: line)
        if let shorter {
            let parts = folder.appendingPathComponent("parts")
            try shorter(parts).run()
            try make(parts).run(resume: true)
            try assertSameRun(whole, parts, clockColumns: clockColumns, file: file, line: line)
        }
    }

    func testClassifierResumesExactlyInsideAndBetweenEpochs() throws {
        let yelp = try ClassificationTSV.read(path: ClassifyTests.sentiment.appendingPathComponent("yelp_labelled.txt").path)
        let data = try SentenceClassificationData(Array(yelp.prefix(100)), classes: 2, splitSeed: 1, minCount: 1)
        let config = SequenceClassifierConfig(vocabularySize: data.vocabulary.count, embeddingSize: 8, hiddenSize: 8, layers: 2, cell: .gru,
                                              bidirectional: true, dropout: 0.3, classes: 2, pooling: .max)
        let make = { (epochs: Int, out: URL) in try classifierTrainer(config, data: data, seed: 4, dataSeed: 4, epochs: epochs, batch: 16, out: out) }
        // 80 training sentences: 5 batches per epoch; the stop comes before the third batch of epoch 2.
        try assertResumesExactly({ try make(3, $0) }, stopAtPoll: 8, shorter: { try make(1, $0) })

        // Another configuration or another data set is refused with a reason.
        var other = config
        other.hiddenSize = 9
        let parts = folder.appendingPathComponent("parts")
        XCTAssertThrowsError(try classifierTrainer(other, data: data, seed: 4, epochs: 3, batch: 16, out: parts).run(resume: true)) {
            guard case .cannotResume? = $0 as? TrainingError else { return XCTFail("\($0)") }
        }
        let otherData = try SentenceClassificationData(Array(yelp.prefix(100)), classes: 2, splitSeed: 1, minCount: 2)
        var smaller = config
        smaller.vocabularySize = otherData.vocabulary.count
        XCTAssertThrowsError(try classifierTrainer(config, data: otherData, seed: 4, epochs: 3, batch: 16, out: parts).run(resume: true)) {
            XCTAssertTrue("\($0)".contains("vocabulary"), "\($0)")
        }
        XCTAssertThrowsError(try make(3, folder.appendingPathComponent("none")).run(resume: true)) {
            XCTAssertTrue("\($0)".contains("does not exist"), "\($0)")
        }
    }

    func testTaggerResumesExactlyInsideAndBetweenEpochs() throws {
        let data = try TaggingDataset.load(folder: TagFixtures.snipsSlice(in: folder, train: 48, other: 8).path)
        let vocabularies = try TaggingVocabularies(training: data.train)
        let config = SequenceTaggerConfig(vocabularySize: vocabularies.words.count, tagCount: vocabularies.tags.count,
                                          intentCount: vocabularies.intents?.count ?? 0, embeddingSize: 8, hiddenSize: 8, layers: 2, dropout: 0.2)
        let make = { (epochs: Int, out: URL) in
            try taggerTrainer(config, data: data, vocabularies: vocabularies, seed: 3, dataSeed: 3, epochs: epochs, batch: 16, out: out) {
                $0.update = UpdateRule(optimizer: .rmsprop, momentum: 0.5)   // two state buffers per parameter
            }
        }
        // 3 batches per epoch; word dropout draws on the order stream inside the epoch.
        try assertResumesExactly({ try make(3, $0) }, stopAtPoll: 6, shorter: { try make(2, $0) })
    }

    func testForecasterResumesExactlyAndStepsCapTheRun() throws {
        var series = try TimeSeriesReader.read(path: ForecastTests.co2.path)
        series.values = Array(series.values.suffix(120))
        let data = try ForecastDataset(series: series.values, window: 12)
        let config = ForecasterConfig(cell: .lstm, hiddenSize: 8, layers: 1, window: 12, scaler: data.scaler)
        let make = { (epochs: Int, out: URL, maxSteps: Int) in
            try forecastTrainer(config, data: data, seed: 6, epochs: epochs, batch: 16, out: out) {
                $0.update = UpdateRule(optimizer: .sgd, momentum: 0.9, clipValue: 0.5)
                $0.learningRate = 0.05
                $0.maxSteps = maxSteps
            }
        }
        let batchesPerEpoch = (data.train.count + 15) / 16
        XCTAssertGreaterThan(batchesPerEpoch, 2)
        try assertResumesExactly({ try make(4, $0, 0) }, stopAtPoll: batchesPerEpoch + 3, clockColumns: ["seconds"], shorter: { try make(3, $0, 0) })

        // --steps: the run stops after that many batches, and the epoch cut short is still recorded.
        let short = try make(4, folder.appendingPathComponent("capped"), 5)
        try short.run()
        XCTAssertEqual(short.history.count, (5 + batchesPerEpoch - 1) / batchesPerEpoch)
        let last = try Checkpoint.load(from: folder.appendingPathComponent("capped/last.safetensors"))
        XCTAssertEqual(last.extra["step"], "5")
    }

    /// Translation: dropout in encoder and decoder, scheduled sampling (drawing on the order stream) and a
    /// cosine schedule, stopped inside epoch 2 and resumed, equal a run never stopped.
    func testTranslationResumesExactlyInsideAnEpoch() throws {
        let corpus = SyntheticTask.reverse.corpus(train: 96, validation: 8, test: 8, lengths: 3...5, symbols: 4, seed: 1)
        let vocabularies = try Seq2SeqVocabularies(training: corpus.train)
        let config = Seq2SeqConfig(sourceVocabularySize: vocabularies.source.count, targetVocabularySize: vocabularies.target.count,
                                   embeddingSize: 6, hiddenSize: 8, layers: 2, attention: .luongGeneral, dropout: 0.3, inputFeeding: true)
        var settings = TranslationTask.Settings()
        settings.maxDecodeLength = 12
        settings.teacherForcingEnd = 0.5
        let make = { (out: URL, corpus: ParallelCorpus, vocabularies: Seq2SeqVocabularies) in
            try translationTrainer(config, corpus: corpus, vocabularies: vocabularies, seed: 5, dataSeed: 5, epochs: 3, batch: 32, out: out,
                                   settings: settings, dataDescription: ["synthetic": "reverse"]) {
                $0.learningRate = 1e-2
                $0.learningRateSchedule = .cosine
                $0.update = UpdateRule(optimizer: .rmsprop, momentum: 0.5)
            }
        }
        try assertResumesExactly({ try make($0, corpus, vocabularies) }, stopAtPoll: 3 + 2)   // 3 batches per epoch

        // Other vocabularies (another data set) are refused with a reason.
        let otherCorpus = SyntheticTask.reverse.corpus(train: 96, validation: 8, test: 8, lengths: 3...5, symbols: 5, seed: 1)
        let otherVocabularies = try Seq2SeqVocabularies(training: otherCorpus.train)
        XCTAssertThrowsError(try make(folder.appendingPathComponent("stopped"), otherCorpus, otherVocabularies).run(resume: true)) {
            XCTAssertTrue("\($0)".contains("vocabularies"), "\($0)")
        }
    }

    /// charlm between two evaluations: the stop saves the step, the resumed run is the uninterrupted one.
    func testLanguageModelResumesExactlyBetweenEvaluations() throws {
        let corpus = try TextCorpus(text: String(try readTextFile(LanguageModelTests.shakespeare.path).prefix(8_000)))
        let config = LanguageModelConfig(vocabularySize: corpus.vocabulary.count, embeddingSize: 8, hiddenSize: 12, layers: 2, cell: .gru, dropout: 0.2)
        let make = { (steps: Int, out: URL) in
            try languageModelTrainer(config, corpus: corpus, seed: 2, steps: steps, evaluateEvery: 4, batch: 4, seqLen: 12, evalCharacters: 300, out: out)
        }
        try assertResumesExactly({ try make(10, $0) }, stopAtPoll: 7, shorter: { try make(4, $0) })
    }

    /// Label-conditioned generation, the task added on the one loop, stops and resumes like the others.
    func testGenerationResumesExactlyInsideAnEpoch() throws {
        let yelp = try ClassificationTSV.read(path: ClassifyTests.sentiment.appendingPathComponent("yelp_labelled.txt").path)
        let settings = GenerationTask.Settings(minCount: 2)
        let (words, splits) = try GenerationTask.data(Array(yelp.prefix(120)), settings: settings)
        let config = ConditionedGeneratorConfig(classes: 2, vocabularySize: words.count, embeddingSize: 8, hiddenSize: 12, cell: .gru)
        let make = { (epochs: Int, out: URL) in
            Trainer(task: try GenerationTask(model: ConditionedGenerator(config, seed: 2), config: config, sentences: splits, words: words, settings: settings),
                    options: options(GenerationTask.defaultOptions, .epochs(epochs), batch: 16, seed: 2), folder: out)
        }
        try assertResumesExactly({ try make(3, $0) }, stopAtPoll: 9, shorter: { try make(1, $0) })   // 6 batches per epoch
    }

    /// A schedule of the wrong kind for its task (an edited options.json) is refused, not trapped on.
    func testAScheduleOfTheWrongKindIsRefused() throws {
        let config = MemoryTaskConfig(task: .adding, cell: .rnn, hiddenSize: 3, lag: 4)
        let stream = try memoryTrainer(config, seed: 1, steps: 2, evaluateEvery: 1, batch: 2, validationSize: 2,
                                       out: folder.appendingPathComponent("stream")) { $0.schedule = .epochs(2) }
        XCTAssertThrowsError(try stream.run()) { XCTAssertTrue("\($0)".contains("schedule of steps"), "\($0)") }
        var series = try TimeSeriesReader.read(path: ForecastTests.co2.path)
        series.values = Array(series.values.suffix(60))
        let data = try ForecastDataset(series: series.values, window: 12)
        let epochs = try forecastTrainer(ForecasterConfig(cell: .gru, hiddenSize: 3, window: 12, scaler: data.scaler), data: data, seed: 1,
                                         epochs: 1, batch: 8, out: folder.appendingPathComponent("epochs")) { $0.schedule = .steps(3, evaluateEvery: 1) }
        XCTAssertThrowsError(try epochs.run()) { XCTAssertTrue("\($0)".contains("schedule of epochs"), "\($0)") }
    }

    /// The memory tasks (adding, copy) stop and resume like every other task.
    func testMemoryTasksResumeExactly() throws {
        for config in [MemoryTaskConfig(task: .adding, cell: .lstm, hiddenSize: 4, lag: 6),
                       MemoryTaskConfig(task: .copy, cell: .rnn, hiddenSize: 4, lag: 2, symbols: 3, copyLength: 2)] {
            let make = { (steps: Int, out: URL) in
                try memoryTrainer(config, seed: 3, steps: steps, evaluateEvery: 3, batch: 4, validationSize: 8, out: out)
            }
            try assertResumesExactly({ try make(8, $0) }, stopAtPoll: 5, clockColumns: ["seconds"], shorter: { try make(3, $0) })
            try FileManager.default.removeItem(at: folder)
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

    /// --on-nonfinite for the epoch-based trainers: stop names the step and leaves the parameters as they
    /// were after the last good step; skip drops the batch and finishes with finite parameters.
    func testNonFiniteBatchesStopOrAreSkipped() throws {
        var series = try TimeSeriesReader.read(path: ForecastTests.co2.path)
        series.values = Array(series.values.suffix(100))
        let data = try ForecastDataset(series: series.values, window: 12)
        let config = ForecasterConfig(cell: .lstm, hiddenSize: 4, window: 12, scaler: data.scaler)
        let make = { (name: String, configure: (inout TrainingOptions) -> Void) in
            try forecastTrainer(config, data: data, seed: 3, epochs: 2, batch: 16, out: self.folder.appendingPathComponent(name), configure: configure)
        }
        let stopping = try make("stop") { _ in }
        stopping.injectNonFiniteLossAtSteps = [3]
        XCTAssertThrowsError(try stopping.run()) { XCTAssertEqual($0 as? TrainingError, .nonFiniteLoss(step: 3)) }
        try make("two") { $0.maxSteps = 2 }.run()
        let last = try Checkpoint.load(from: folder.appendingPathComponent("two/last.safetensors"))
        for (name, tensor) in stopping.task.model.stateDict() {
            XCTAssertEqual((0..<tensor.count).map { tensor.data[$0] }, (0..<tensor.count).map { last.tensors[name]!.data[$0] }, "\(name): as after step 2")
        }
        let skipping = try make("skip") { $0.onNonFinite = .skip }
        skipping.injectNonFiniteLossAtSteps = [3, 4]
        try skipping.run()
        XCTAssertEqual(skipping.skippedSteps, [3, 4])
        XCTAssertTrue(skipping.task.model.stateDict().values.allSatisfy { t in (0..<t.count).allSatisfy { t.data[$0].isFinite } })
        XCTAssertEqual(skipping.history.count, 2)
    }

    /// Every trainer logs how many updates clipping changed; `diagnose` reads it back per update, not per epoch.
    func testClippingIsCountedInMetrics() throws {
        var series = try TimeSeriesReader.read(path: ForecastTests.co2.path)
        series.values = Array(series.values.suffix(100))
        let data = try ForecastDataset(series: series.values, window: 12)
        let config = ForecasterConfig(cell: .rnn, hiddenSize: 4, window: 12, scaler: data.scaler)
        for (clipNorm, expected) in [(1e-4, 1.0), (0, 0.0)] {
            let out = folder.appendingPathComponent("clip\(clipNorm)")
            try forecastTrainer(config, data: data, seed: 1, epochs: 2, batch: 16, out: out) { $0.clipNorm = clipNorm }.run()
            let history = try XCTUnwrap(try ClippingHistory.read(folder: out))
            XCTAssertEqual(history.totalSteps, 2 * ((data.train.count + 15) / 16), "counted in updates")
            XCTAssertEqual(history.fraction, expected, "clip-norm \(clipNorm)")
        }
    }

    func testCheckpointsWithOptimizerStateStillLoadForPrediction() throws {
        var series = try TimeSeriesReader.read(path: ForecastTests.co2.path)
        series.values = Array(series.values.suffix(100))
        let data = try ForecastDataset(series: series.values, window: 12)
        let trainer = try forecastTrainer(ForecasterConfig(cell: .gru, hiddenSize: 4, window: 12, scaler: data.scaler), data: data, seed: 1,
                                          epochs: 1, batch: 32, out: folder)
        try trainer.run()
        let last = try Checkpoint.load(from: folder.appendingPathComponent("last.safetensors"))
        XCTAssertTrue(last.tensors.keys.contains { $0.hasPrefix(Checkpoint.optimizerPrefix) }, "last.safetensors holds the optimizer state")
        XCTAssertNotNil(last.extra["generator.order"])
        XCTAssertNil(last.extra["seconds"], "nothing clock-dependent in a checkpoint")
        let loaded = try Forecaster.load(from: folder.appendingPathComponent("last.safetensors"))
        XCTAssertEqual(loaded.stateDict().keys.sorted(), trainer.task.model.stateDict().keys.sorted())
    }
}

final class TaggerConfigTests: XCTestCase {
    /// Checkpoints written before the tagger had a `cell` hold LSTM taggers and still load as such.
    func testConfigWithoutCellIsAnLSTMTagger() throws {
        let old = #"{"vocabularySize": 10, "tagCount": 3, "intentCount": 0, "embeddingSize": 4, "hiddenSize": 4, "layers": 1, "dropout": 0}"#
        let config = try JSONDecoder().decode(SequenceTaggerConfig.self, from: Data(old.utf8))
        XCTAssertEqual(config.cell, .lstm)
        XCTAssertTrue(SequenceTagger(config, seed: 1).rnn is LSTM<Float>)
        var gru = config
        gru.cell = .gru
        XCTAssertTrue(SequenceTagger(gru, seed: 1).rnn is GRU<Float>)
        // An unknown cell is refused when the config is read, never taken for another.
        let unknown = old.replacingOccurrences(of: "}", with: #", "cell": "transformer"}"#)
        XCTAssertThrowsError(try JSONDecoder().decode(SequenceTaggerConfig.self, from: Data(unknown.utf8)))
    }
}
