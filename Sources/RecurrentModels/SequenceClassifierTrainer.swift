import Foundation
import RecurrentData
import RecurrentIO
import RecurrentNN
import RecurrentTensor

/// Options of `recurrent train classify`.
public struct ClassifierTrainingOptions: Codable, Sendable {
    public var epochs = 20
    public var batch = 32
    public var learningRate = 2e-3
    /// Global-norm clipping threshold (0: off).
    public var clipNorm = 5.0
    /// Optimizer, momentum, weight decay and element-wise clipping.
    public var update = UpdateRule()
    public var seed: UInt64 = 1
    /// Seed of the train / validation / test split (recorded in checkpoints so that `eval` finds the same test split).
    public var splitSeed: UInt64 = 1
    /// Words seen fewer times in the training split map to `<unk>`.
    public var minCount = 2
    /// Stop at most this many training steps in all (0: no limit), for quick runs and tests. The epoch
    /// cut short is still evaluated and checkpointed; a resumed run continues at the next epoch.
    public var maxSteps = 0
    public init() {}

    /// Checks options read from a run folder's options.json before they drive the loop.
    public func validate() throws {
        guard epochs > 0, batch > 0, minCount > 0, maxSteps >= 0, learningRate > 0, learningRate.isFinite, clipNorm >= 0, clipNorm.isFinite else {
            throw TrainingError.badOptions("options.json has an out-of-range value (epochs, batch, learningRate, clipNorm…)")
        }
        try update.validate()
    }
}

/// One row of `metrics.csv`.
public struct ClassifierEpochRecord: Codable, Equatable, Sendable {
    public var epoch: Int
    public var step: Int
    public var trainLoss: Double
    public var trainAccuracy: Double
    public var validation: ClassificationMetrics
}

/// Trains a `SequenceClassifier` with Adam and global-norm clipping, one shuffled pass over the
/// training split per epoch; after each epoch it scores the validation split and writes metrics and
/// the `last` checkpoint, and the `best` one when validation accuracy improves (ties: lower loss).
/// At the end the best weights are restored and scored on the test split (`test.json`).
///
/// The run folder gets the files of the language-model trainer: config.json, options.json,
/// vocabulary.json, metrics.csv, best.safetensors, last.safetensors (`extra["task"] = "classify"`),
/// and test.json. `last.safetensors` also holds the optimizer state, the generators and the history,
/// so `run(resume: true)` continues after the last completed epoch bit-identically.
public final class SequenceClassifierTrainer {
    public let model: SequenceClassifier
    public let data: SentenceClassificationData
    public let options: ClassifierTrainingOptions
    public let runFolder: URL
    /// Polled before every step; when it returns true the run stops there and throws
    /// `TrainingError.stopped` (the epoch in progress is lost; `last.safetensors` holds the ones before).
    /// The CLI wires it to `StopSignal` for SIGINT/SIGTERM.
    public var stopRequested: () -> Bool = { false }
    /// What a batch with a NaN or infinite loss or gradient does: stop the run (default) or be skipped.
    public var onNonFinite = NonFinitePolicy.stop
    public private(set) var history: [ClassifierEpochRecord] = []
    public private(set) var best: ClassificationMetrics?
    public private(set) var bestEpoch = 0
    /// Metrics of the best checkpoint on the test split, after `run`.
    public private(set) var testMetrics: ClassificationMetrics?

    public init(model: SequenceClassifier, data: SentenceClassificationData, options: ClassifierTrainingOptions, runFolder: URL) {
        self.model = model
        self.data = data
        self.options = options
        self.runFolder = runFolder
    }

    /// Loss, accuracy and F1 of the model (eval mode, no graph) on `sentences`.
    public static func evaluate(_ model: SequenceClassifier, on sentences: EncodedSentences, batch: Int = 256) -> ClassificationMetrics {
        var predictions: [Int] = [], lossSum = 0.0
        withoutGrad {
            let wasTraining = model.isTraining
            model.eval()
            defer { model.train(wasTraining) }
            for b in sentences.batches(size: batch, paddingId: 0) {
                let (loss, logits) = model.loss(b)
                lossSum += Double(loss.item) * Double(b.batch)
                predictions += logits.argmax(axis: 1)
            }
        }
        return ClassificationMetrics(predictions: predictions, labels: sentences.labels, classes: model.config.classes,
                                     loss: sentences.count > 0 ? lossSum / Double(sentences.count) : .nan)
    }

    /// Names of the generators `last.safetensors` keeps: data order, dropout on features, dropout between layers.
    static let generatorNames = ["order", "dropout", "rnn_dropout"]

    /// Runs the training loop. Returns the test metrics of the best checkpoint.
    /// - Parameter resume: continue from the run folder's `last.safetensors` (weights, optimizer state,
    ///   generators, history), giving the numbers an uninterrupted run with the same seed gives.
    @discardableResult
    public func run(progress: Bool = true, resume: Bool = false) throws -> ClassificationMetrics {
        precondition(data.train.count > 0, "SequenceClassifierTrainer: empty training split")
        precondition(options.epochs > 0 && options.batch > 0, "SequenceClassifierTrainer: epochs and batch must be positive")
        try FileManager.default.createDirectory(at: runFolder, withIntermediateDirectories: true)
        let configJSON = try jsonText(model.config)
        let parameters = model.parameters()
        _ = ParameterBuffer(parameters)
        let optimizer = options.update.makeOptimizer(parameters, learningRate: options.learningRate)
        var generator = RandomGenerator(seed: options.seed)
        var position = ResumeState()
        var bestState: [String: Tensor<Float>]? = nil
        var previousRows: [[Double]] = []
        if resume {
            let resumed = try ResumedEpochRun<ClassifierEpochRecord>(
                runFolder: runFolder, task: SequenceClassifier.task, configJSON: configJSON, model: model, optimizer: optimizer,
                generatorNames: Self.generatorNames, secondsColumn: 2
            ) { checkpoint in
                guard checkpoint.vocabulary == data.vocabulary.tokens else {
                    throw TrainingError.cannotResume("the data's vocabulary differs from the checkpoint's: resume with the same --data")
                }
            }
            (position, history, previousRows, bestState) = (resumed.position, resumed.history, resumed.previousRows, resumed.bestWeights)
            generator = position.generators["order"]!
            model.dropout.generator = position.generators["dropout"]!
            model.rnn.dropoutGenerator = position.generators["rnn_dropout"]!
            for record in history where isBetter(record.validation) { (best, bestEpoch) = (record.validation, record.epoch) }
        }
        try atomicWrite(Data(try jsonText(options).utf8), to: runFolder.appendingPathComponent("options.json"))
        try atomicWrite(Data(configJSON.utf8), to: runFolder.appendingPathComponent("config.json"))
        try atomicWrite(Data(data.vocabulary.jsonString().utf8), to: runFolder.appendingPathComponent("vocabulary.json"))
        let log = try RunLog(folder: runFolder, columns: ["epoch", "step", "seconds", "train_loss", "train_accuracy", "val_loss", "val_accuracy",
                                                          "val_f1", "val_macro_f1", "tokens_per_second", "clipped"], plotted: ["train_loss", "val_loss"],
                             previousRows: previousRows)

        let batchesPerEpoch = (data.train.count + options.batch - 1) / options.batch
        let totalSteps = options.maxSteps > 0 ? min(options.maxSteps, options.epochs * batchesPerEpoch) : options.epochs * batchesPerEpoch
        let reporter = ProgressReporter(total: totalSteps)
        let start = Date().addingTimeInterval(-position.seconds)
        var step = position.step, tokens = position.tokens
        model.train()
        var nonFinite = NonFiniteGuard(policy: onNonFinite)
        epochs: for epoch in stride(from: position.epoch + 1, through: options.epochs, by: 1) {
            if step >= totalSteps { break }
            var lossSum = 0.0, correct = 0, seen = 0
            var clipped = 0   // updates clipping changed in this epoch
            for batch in data.train.batches(size: options.batch, order: generator.permutation(data.train.count), paddingId: 0) {
                if step >= totalSteps { break }
                if stopRequested() { throw TrainingError.stopped(epoch: epoch) }
                step += 1
                optimizer.zeroGrad()
                let (loss, logits) = model.loss(batch)
                guard let outcome = try nonFinite.update(loss: loss, optimizer: optimizer, clipNorm: options.clipNorm, clipValue: options.update.clipValue, step: step) else { continue }
                let value = outcome.loss
                if outcome.clipped { clipped += 1 }
                lossSum += value * Double(batch.batch)
                seen += batch.batch
                correct += zip(logits.argmax(axis: 1), batch.labels).filter { $0 == $1 }.count
                tokens += batch.lengths.reduce(0, +)
                if progress {
                    reporter.update(step: step, loss: lossSum / Double(seen), tokensPerSecond: Double(tokens) / Date().timeIntervalSince(start),
                                    extra: String(format: "epoch %d/%d", epoch, options.epochs)
                                        + (best.map { String(format: "  best val acc %.2f %%", $0.accuracy * 100) } ?? ""))
                }
            }
            guard seen > 0 else { break epochs }
            let validation = Self.evaluate(model, on: data.validation)
            let elapsed = Date().timeIntervalSince(start)
            let record = ClassifierEpochRecord(epoch: epoch, step: step, trainLoss: lossSum / Double(seen),
                                               trainAccuracy: Double(correct) / Double(seen), validation: validation)
            history.append(record)
            try log.record([Double(epoch), Double(step), elapsed, record.trainLoss, record.trainAccuracy,
                            validation.loss, validation.accuracy, validation.f1, validation.macroF1, Double(tokens) / elapsed, Double(clipped)])
            let checkpoint = Checkpoint(tensors: model.stateDict(), config: configJSON, vocabulary: data.vocabulary.tokens,
                                        extra: ["task": SequenceClassifier.task, "epoch": "\(epoch)", "step": "\(step)",
                                                "val_accuracy": "\(validation.accuracy)", "val_loss": "\(validation.loss)",
                                                "split_seed": "\(data.splitSeed)", "sentences": "\(data.sentences.train.count + data.sentences.validation.count + data.sentences.test.count)"])
            // best before last: an interruption between the two repeats this epoch, which rewrites best identically.
            if isBetter(validation) {
                best = validation
                bestEpoch = epoch
                bestState = checkpoint.tensors
                try checkpoint.save(to: runFolder.appendingPathComponent("best.safetensors"))
            }
            (position.epoch, position.step, position.tokens, position.seconds) = (epoch, step, tokens, elapsed)
            position.generators = ["order": generator, "dropout": model.dropout.generator, "rnn_dropout": model.rnn.dropoutGenerator]
            position.history = try ResumeState.json(history)
            try position.saveLast(checkpoint, optimizer: optimizer, in: runFolder)
        }
        if progress { reporter.finish() }
        if let bestState { try model.loadParameters(bestState) }
        let test = Self.evaluate(model, on: data.test)
        testMetrics = test
        try atomicWrite(Data(try jsonText(TestReport(epoch: bestEpoch, test: test, validation: best)).utf8),
                        to: runFolder.appendingPathComponent("test.json"))
        return test
    }

    /// Higher validation accuracy wins; equal accuracy, lower loss.
    func isBetter(_ m: ClassificationMetrics) -> Bool {
        guard let best else { return true }
        return m.accuracy > best.accuracy || (m.accuracy == best.accuracy && m.loss < best.loss)
    }

    struct TestReport: Encodable {
        var epoch: Int
        var test: ClassificationMetrics
        var validation: ClassificationMetrics?
    }

    func jsonText<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
