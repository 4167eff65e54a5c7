#if canImport(CBLAS)
import CBLAS
#endif
import Foundation
import RecurrentData
import RecurrentIO
@testable import RecurrentModels
import RecurrentPresentation
@testable import RecurrentTraining
import RecurrentNN
import RecurrentTensor
import XCTest

/// Non-finite numbers, resource limits, determinism and names from files, in process (the executable's
/// fault tests are in KillResumeTests).
final class ReliabilityTests: ScratchFolderTestCase {
    func corpus(characters: Int = 6_000) throws -> TextCorpus {
        let text = try readTextFile(LanguageModelTests.shakespeare.path)
        return try TextCorpus(text: String(text.prefix(characters)))
    }

    func trainer(_ corpus: TextCorpus, steps: Int, evalEvery: Int = 2, out: URL, seed: UInt64 = 9, evalCharacters: Int = 400,
                 learningRate: Double = 2e-3, onNonFinite: NonFinitePolicy = .stop) throws -> Trainer<LanguageModelTask> {
        let model = LanguageModel(LanguageModelConfig(vocabularySize: corpus.vocabulary.count, embeddingSize: 8, hiddenSize: 16, layers: 1, cell: .gru), seed: seed)
        var options = LanguageModelTask.defaultOptions
        options.schedule = .steps(steps, evaluateEvery: evalEvery)
        options.batch = 4; options.seed = seed; options.learningRate = learningRate; options.onNonFinite = onNonFinite
        let task = try LanguageModelTask(model: model, corpus: corpus, settings: .init(seqLen: 12, evalCharacters: evalCharacters), evaluationStreams: 4)
        return Trainer(task: task, options: options, folder: out)
    }

    // MARK: stopping

    func testStopSignalTurnsASignalIntoAPolledRequest() {
        let stop = StopSignal()
        stop.install([SIGUSR2])
        XCTAssertFalse(stop.isRequested)
        // libdispatch registers the source asynchronously; a signal sent before that is ignored (SIG_IGN),
        // so it is sent again if nothing arrived within 200 ms (never while one may still be on its way).
        let deadline = Date().addingTimeInterval(5)
        while !stop.isRequested, Date() < deadline {
            kill(getpid(), SIGUSR2)
            let retry = Date().addingTimeInterval(0.2)
            while !stop.isRequested, Date() < retry { usleep(1_000) }
        }
        XCTAssertEqual(stop.receivedSignal, SIGUSR2)
        stop.reset()
        XCTAssertFalse(stop.isRequested)
    }

    /// A stop between two checkpoints keeps the steps since the last one: the trainer saves where it
    /// stopped, and resuming gives the uninterrupted run.
    func testAStopRequestSavesTheCurrentStepAndResumesExactly() throws {
        let corpus = try corpus()
        let whole = try trainer(corpus, steps: 9, evalEvery: 4, out: folder.appendingPathComponent("whole"))
        try whole.run()
        let parts = folder.appendingPathComponent("parts")
        let stopped = try trainer(corpus, steps: 9, evalEvery: 4, out: parts)
        var polls = 0
        stopped.stopRequested = { polls += 1; return polls > 6 }   // stop before step 7
        guard case let .stopped(position) = try stopped.run() else { return XCTFail("not stopped") }
        XCTAssertEqual(position.step, 6)
        XCTAssertEqual(try Checkpoint.load(from: parts.appendingPathComponent("last.safetensors")).extra["step"], "6")
        let resumed = try trainer(corpus, steps: 9, evalEvery: 4, out: parts)
        XCTAssertNotNil(try resumed.run(resume: true).report)
        XCTAssertEqual(resumed.history.map(\.step), [4, 8, 9])
        let a = try Checkpoint.load(from: whole.folder.last), b = try Checkpoint.load(from: parts.appendingPathComponent("last.safetensors"))
        XCTAssertEqual(try a.encoded(), try b.encoded(), "nothing clock-dependent in a checkpoint")
    }

    // MARK: non-finite numbers

    func testNonFiniteLossStopsBeforeTheParametersAreTouched() throws {
        let run = try trainer(try corpus(), steps: 10, out: folder)
        run.injectNonFiniteLossAtSteps = [5]
        XCTAssertThrowsError(try run.run()) { XCTAssertEqual($0 as? TrainingError, .nonFiniteLoss(step: 5)) }
        // The model is exactly the state after step 4, which is also the last checkpoint.
        let last = try Checkpoint.load(from: folder.appendingPathComponent("last.safetensors"))
        XCTAssertEqual(last.extra["step"], "4")
        XCTAssertEqual(last.nonFiniteTensorNames, [])
        for (name, tensor) in run.task.model.stateDict() { XCTAssertEqual(tensor.scalars, last.tensors[name]?.scalars, name) }
        XCTAssertTrue(run.task.model.parameters().allSatisfy { $0.scalars.allSatisfy(\.isFinite) })
    }

    func testSkipPolicyDropsTheBadBatchAndGoesOn() throws {
        let run = try trainer(try corpus(), steps: 8, out: folder, onNonFinite: .skip)
        run.injectNonFiniteLossAtSteps = [3, 6]
        var skipped: [Int] = []
        run.onEvent = { if case let .skippedBatch(step, _) = $0 { skipped.append(step) } }
        try run.run()
        XCTAssertEqual(skipped, [3, 6], "each skipped batch is reported")
        XCTAssertEqual(run.skippedSteps, [3, 6])
        XCTAssertEqual(run.history.map(\.step), [2, 4, 6, 8])
        XCTAssertTrue(run.history.allSatisfy { $0.trainLoss.isFinite && $0.evaluation.isFinite })
        for name in ["last.safetensors", "best.safetensors"] {
            XCTAssertEqual(try Checkpoint.load(from: folder.appendingPathComponent(name)).nonFiniteTensorNames, [], name)
        }
        // Skipping forever is not an option: a long run of bad batches stops the run.
        let hopeless = try trainer(try corpus(), steps: 40, out: folder.appendingPathComponent("hopeless"), onNonFinite: .skip)
        hopeless.injectNonFiniteLossAtSteps = Set(2...40)
        XCTAssertThrowsError(try hopeless.run()) {
            XCTAssertEqual($0 as? TrainingError, .nonFiniteLoss(step: 2 + NonFiniteGuard.maxConsecutiveSkips))
        }
    }

    /// A learning rate that blows the model up: whatever happens, no NaN or infinity is ever saved.
    func testADivergingRunNeverSavesANonFiniteCheckpoint() throws {
        let diverging = try trainer(try corpus(), steps: 30, evalEvery: 1, out: folder, learningRate: 1e30)
        do { try diverging.run() } catch let error as TrainingError {
            XCTAssertTrue([TrainingError.nonFiniteLoss(step: 0), .nonFiniteGradient(step: 0)].contains(error.kind), "\(error)")
        }
        for name in ["last.safetensors", "best.safetensors"] where FileManager.default.fileExists(atPath: folder.appendingPathComponent(name).path) {
            XCTAssertEqual(try Checkpoint.load(from: folder.appendingPathComponent(name)).nonFiniteTensorNames, [], name)
        }
    }

    func testCheckpointsHoldingNaNAreRefusedWithTheTensorNamed() throws {
        let corpus = try corpus()
        try trainer(corpus, steps: 2, out: folder).run()
        let url = folder.appendingPathComponent("last.safetensors")
        let checkpoint = try Checkpoint.load(from: url)
        checkpoint.tensors["head.bias"]!.data[0] = .nan
        try checkpoint.save(to: url)
        XCTAssertThrowsError(try LanguageModel.load(from: url)) { XCTAssertEqual($0 as? ModelError, .nonFiniteParameters("head.bias")) }
        XCTAssertThrowsError(try trainer(corpus, steps: 4, out: folder).run(resume: true)) {
            XCTAssertEqual($0 as? TrainingError, .cannotResume("\(url.path) holds NaN or infinity in 'head.bias'"))
        }
    }

    /// A run folder edited by hand (or by another program) must not crash --resume: short rows and
    /// odd steps in metrics.csv are dropped, an absurd training position is refused.
    func testResumeSurvivesAnEditedRunFolder() throws {
        let corpus = try corpus()
        try trainer(corpus, steps: 4, out: folder).run()
        let metrics = folder.appendingPathComponent("metrics.csv")
        let good = try String(contentsOf: metrics, encoding: .utf8)
        try (good + "3,0.5\n-1e300,1,2,3,4,5\nnan,1,2,3,4,5\n2.5,1,2,3,4,5\n").write(to: metrics, atomically: true, encoding: .utf8)
        let resumed = try trainer(corpus, steps: 6, out: folder)
        try resumed.run(resume: true)
        XCTAssertEqual(resumed.history.map(\.step), [2, 4, 6])

        let url = folder.appendingPathComponent("last.safetensors")
        var checkpoint = try Checkpoint.load(from: url)
        for (key, value) in [("tokens", "\(Int.max)"), ("step", "-3"), ("batch_in_epoch", "x")] {
            var edited = checkpoint
            edited.extra[key] = value
            try edited.save(to: url)
            XCTAssertThrowsError(try trainer(corpus, steps: 8, out: folder).run(resume: true), key) {
                XCTAssertEqual($0 as? TrainingError, .cannotResume("the checkpoint's training position is malformed ('\(key)')"), key)
            }
        }
        for (key, value) in [("window", "1,2"), ("running_loss_bits", "nan")] {
            var edited = checkpoint
            edited.extra[key] = value
            try edited.save(to: url)
            XCTAssertThrowsError(try trainer(corpus, steps: 8, out: folder).run(resume: true), key) {
                XCTAssertEqual($0 as? TrainingError, .cannotResume("the checkpoint's training position is malformed (running loss, window or history)"), key)
            }
        }
        // A last.safetensors of an earlier version (no run state version) is refused with the reason.
        checkpoint.extra["run_state_version"] = nil
        try checkpoint.save(to: url)
        XCTAssertThrowsError(try trainer(corpus, steps: 8, out: folder).run(resume: true)) {
            XCTAssertTrue("\($0)".contains("written by an earlier version of Recurrent"), "\($0)")
        }
    }

    // MARK: resource limits

    /// A config may name sizes each within range whose product is terabytes: the tensors actually in
    /// the file bound it, and the check comes before anything is allocated.
    func testAbsurdConfigsAreRefusedBeforeAllocation() throws {
        let tiny = ["head.bias": Tensor<Float>(zeros: [3])]
        let configs: [(String, String)] = [
            ("charlm", #"{"vocabularySize":10000000,"embeddingSize":65536,"hiddenSize":65536,"layers":64,"cell":"lstm","dropout":0}"#),
            ("forecast", #"{"hiddenSize":65536,"layers":64,"cell":"lstm","window":100000,"target":"difference","mean":0,"std":1,"column":"x"}"#),
            ("classify", #"{"vocabularySize":10000000,"embeddingSize":65536,"hiddenSize":65536,"layers":64,"cell":"lstm","bidirectional":true,"dropout":0,"classes":2,"pooling":"max"}"#),
            ("tag", #"{"vocabularySize":10000000,"tagCount":3,"intentCount":0,"embeddingSize":65536,"hiddenSize":65536,"layers":64,"dropout":0}"#),
            ("translate", #"{"sourceVocabularySize":3,"targetVocabularySize":5,"embeddingSize":65536,"hiddenSize":65536,"layers":64,"cell":"lstm","bidirectional":true,"attention":"bahdanau","attentionSize":65536,"dropout":0}"#),
        ]
        for (task, config) in configs {
            let checkpoint = Checkpoint(tensors: tiny, config: config, vocabulary: ["<pad>", "<unk>", "a"],
                                        extra: ["task": task, "tags": #"["<pad>","O","B-X"]"#,
                                                "target_vocabulary": #"["<pad>","<unk>","<s>","</s>","a"]"#])
            let started = Date()
            let results: [Error?] = [
                Result { try LanguageModel.load(checkpoint: checkpoint) }.failure,
                Result { try Forecaster.load(checkpoint: checkpoint) }.failure,
                Result { try SequenceClassifier.load(checkpoint: checkpoint) }.failure,
                Result { try SequenceTagger.load(checkpoint: checkpoint) }.failure,
                Result { try Seq2Seq<Float>.load(checkpoint: checkpoint) }.failure,
            ]
            XCTAssertTrue(results.allSatisfy { $0 != nil }, task)
            XCTAssertTrue(results.contains { "\($0!)".contains("refusing to allocate") }, "\(task): \(results)")
            XCTAssertLessThan(Date().timeIntervalSince(started), 1, "refused without building the model")
        }
    }

    /// --resume builds the model from the run folder's config.json: checked against last.safetensors' header first.
    func testResumeChecksConfigSizeAgainstTheCheckpointBeforeBuilding() throws {
        let corpus = try corpus()
        try trainer(corpus, steps: 2, out: folder).run()
        let last = folder.appendingPathComponent("last.safetensors")
        let genuine = LanguageModelConfig(vocabularySize: corpus.vocabulary.count, embeddingSize: 8, hiddenSize: 16, layers: 1, cell: .gru)
        XCTAssertNoThrow(try genuine.requireResumable(from: last))
        let absurd = LanguageModelConfig(vocabularySize: 10_000_000, embeddingSize: 65_536, hiddenSize: 65_536, layers: 64)
        XCTAssertThrowsError(try absurd.requireResumable(from: last)) { XCTAssertTrue("\($0)".contains("refusing to allocate"), "\($0)") }
        XCTAssertThrowsError(try genuine.requireResumable(from: folder.appendingPathComponent("none.safetensors"))) {
            XCTAssertTrue("\($0)".contains("does not exist; start a new run instead"), "\($0)")
        }
    }

    /// The bounds used above are lower bounds of the real parameter counts (else genuine checkpoints would be refused).
    func testParameterLowerBoundsHoldForRealModels() {
        for cell in CellKind.allCases {
            let config = LanguageModelConfig(vocabularySize: 11, embeddingSize: 5, hiddenSize: 7, layers: 2, cell: cell)
            XCTAssertLessThanOrEqual(config.minimumParameterCount, LanguageModel(config, seed: 1).parameterCount, cell.rawValue)
        }
        for cell in CellKind.allCases {
            let config = ForecasterConfig(cell: cell, hiddenSize: 6, layers: 2, window: 8)
            XCTAssertLessThanOrEqual(config.minimumParameterCount, Forecaster(config, seed: 1).parameterCount, cell.rawValue)
        }
        for cell in CellKind.allCases {
            for bidirectional in [false, true] {
                let config = SequenceClassifierConfig(vocabularySize: 13, embeddingSize: 5, hiddenSize: 6, layers: 2, cell: cell, bidirectional: bidirectional, classes: 3)
                XCTAssertLessThanOrEqual(config.minimumParameterCount, SequenceClassifier(config, seed: 1).parameterCount, cell.rawValue)
            }
        }
        for cell in CellKind.allCases {
            for intents in [0, 4] {
                let config = SequenceTaggerConfig(vocabularySize: 13, tagCount: 5, intentCount: intents, embeddingSize: 5, hiddenSize: 6, layers: 2, cell: cell)
                XCTAssertLessThanOrEqual(config.minimumParameterCount, SequenceTagger(config, seed: 1).parameterCount, cell.rawValue)
            }
        }
        for cell in CellKind.allCases {
            for (bidirectional, attention) in [(false, Seq2SeqAttention.none), (true, .luongDot)] {
                let config = Seq2SeqConfig(sourceVocabularySize: 7, targetVocabularySize: 9, embeddingSize: 5, hiddenSize: 6, layers: 2, cell: cell,
                                           bidirectional: bidirectional, attention: attention)
                XCTAssertLessThanOrEqual(config.minimumParameterCount, Seq2Seq<Float>(config, seed: 1).parameterCount, cell.rawValue)
            }
        }
    }

    /// Truncated BPTT over one long stream (state carried across chunks, detached between them): the
    /// graph of a chunk is freed before the next, so peak memory does not grow with the sequence.
    func testTruncatedBPTTMemoryStaysFlatAsTheSequenceGrowsTenfold() throws {
        #if os(Linux)
        #if canImport(CBLAS)
        // One BLAS thread: on a busy machine OpenBLAS's spinning worker threads make this 20× slower,
        // and memory, not speed, is what is measured.
        let threads = openblas_get_num_threads()
        openblas_set_num_threads(1)
        defer { openblas_set_num_threads(threads) }
        #endif
        let corpus = try corpus(characters: 48_000)
        let (steps, streams) = (64, 16)
        func growth(chunks: Int) -> Int {
            let model = LanguageModel(LanguageModelConfig(vocabularySize: corpus.vocabulary.count, embeddingSize: 16, hiddenSize: 96, layers: 1), seed: 1)
            let optimizer = Adam(parameters: model.parameters(), learningRate: 1e-3)
            let batches = LanguageModelBatch.sequential(from: Array(corpus.train.prefix(chunks * steps * streams + 1)), steps: steps, batch: streams)
            XCTAssertEqual(batches.count, chunks)
            let baseline = residentBytes()
            var peak = baseline
            var state: RecurrentState<Float>? = nil
            for batch in batches {
                optimizer.zeroGrad()
                let (loss, next) = model.loss(batch, state: state)
                loss.backward()
                optimizer.step()
                state = next.detached()
                peak = max(peak, residentBytes())
            }
            return peak - baseline
        }
        let short = growth(chunks: 4), long = growth(chunks: 40)
        print(String(format: "truncated BPTT: peak memory growth %.1f MB for %d steps, %.1f MB for %d steps",
                     Double(short) / 1e6, 4 * steps, Double(long) / 1e6, 40 * steps))
        // Keeping every chunk's graph would add over 1.5 MB of saved activations per chunk (54 MB more).
        XCTAssertLessThan(long, short + 16_000_000)
        #endif
    }

    // MARK: determinism

    /// Same seed, same data, same thread count: the same losses and the same checkpoints, bit for bit.
    func testSameSeedGivesBitIdenticalLossesAndCheckpoints() throws {
        let corpus = try corpus()
        let a = try trainer(corpus, steps: 12, evalEvery: 3, out: folder.appendingPathComponent("a"))
        let b = try trainer(corpus, steps: 12, evalEvery: 3, out: folder.appendingPathComponent("b"))
        try a.run()
        try b.run()
        XCTAssertEqual(a.history.count, 4)
        XCTAssertEqual(a.history.map(\.trainLoss.bitPattern), b.history.map(\.trainLoss.bitPattern))
        XCTAssertEqual(a.history.map(\.evaluation.bitPattern), b.history.map(\.evaluation.bitPattern))
        XCTAssertEqual(try Data(contentsOf: a.folder.best), try Data(contentsOf: b.folder.best))
        XCTAssertEqual(try Data(contentsOf: a.folder.last), try Data(contentsOf: b.folder.last), "nothing clock-dependent in a checkpoint")
        // And a different seed really is a different run.
        let c = try trainer(corpus, steps: 12, evalEvery: 3, out: folder.appendingPathComponent("c"), seed: 10)
        try c.run()
        XCTAssertNotEqual(a.history.map(\.trainLoss), c.history.map(\.trainLoss))
    }

    // MARK: names from files

    /// Names inside a checkpoint (tensor names, metadata, vocabulary) are data: loading one full of
    /// path-like names creates and touches no file, and the names come back unchanged.
    func testPathLikeNamesInACheckpointAreOnlyData() throws {
        let url = folder.appendingPathComponent("hostile.safetensors")
        let hostile = ["../../escape", "/tmp/recurrent-escape", "run/../../x", "~/.ssh/id"]
        var tensors: [String: Tensor<Float>] = [:]
        for name in hostile { tensors[name] = Tensor<Float>(zeros: [1]) }
        try Checkpoint(tensors: tensors, config: #"{"out":"/tmp/recurrent-escape"}"#, vocabulary: hostile,
                       extra: ["task": "charlm", "out": "../../escape"]).save(to: url)
        let before = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        let loaded = try Checkpoint.load(from: url)
        XCTAssertEqual(Set(loaded.tensors.keys), Set(hostile))
        XCTAssertEqual(loaded.vocabulary, hostile)
        XCTAssertThrowsError(try LanguageModel.load(from: url))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), before)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "/tmp/recurrent-escape"))
    }

    /// Only temporary files of dead processes, in the form `atomicWrite` names them, are removed.
    func testStaleTemporaryFilesOfKilledWritesAreRemoved() throws {
        let dead = ".last.safetensors.tmp-\(Int32.max - 7)-1f2e", mine = ".last.safetensors.tmp-\(getpid())-ab"
        for name in [dead, mine, "notes.tmp-1-2", ".hidden", "last.safetensors"] {
            XCTAssertTrue(FileManager.default.createFile(atPath: folder.appendingPathComponent(name).path, contents: Data([1])))
        }
        removeStaleTemporaryFiles(in: folder)
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: folder.path)), [mine, "notes.tmp-1-2", ".hidden", "last.safetensors"])
    }
}

extension TrainingError {
    /// The case without its step, for comparisons.
    var kind: TrainingError {
        switch self {
        case .nonFiniteLoss: .nonFiniteLoss(step: 0)
        case .nonFiniteGradient: .nonFiniteGradient(step: 0)
        case .cannotResume: .cannotResume("")
        case .badOptions: .badOptions("")
        case .replicasDisagree: .replicasDisagree("")
        }
    }
}

private extension Result where Failure == Error {
    var failure: Error? { if case .failure(let e) = self { e } else { nil } }
}

#if os(Linux)
/// The process's resident set size now (the second field of /proc/self/statm, in pages).
func residentBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}
#endif
