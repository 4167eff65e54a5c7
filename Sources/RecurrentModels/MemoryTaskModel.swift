import Foundation
import RecurrentData
import RecurrentIO
import RecurrentNN
import RecurrentTensor

/// Hyper-parameters of a model for a long-range memory task (adding problem or copy task); stored in
/// checkpoints as JSON together with the task, so `recurrent diagnose` can rebuild both.
public struct MemoryTaskConfig: Codable, Equatable, Sendable {
    /// The adding problem or the copy task.
    public var task: MemoryTaskKind
    /// "rnn" (tanh), "lstm", "gru" or "jordan".
    public var cell: CellKind
    /// H, the hidden features of each layer.
    public var hiddenSize: Int
    /// L, the number of stacked layers.
    public var layers: Int
    /// The adding problem's sequence length T, or the copy task's delay.
    public var lag: Int
    /// Copy task: alphabet size K and symbols to remember S.
    public var symbols: Int
    /// Copy task: the symbols to remember.
    public var copyLength: Int
    /// When set, every recurrent weight block (W_hh per gate; Jordan's W_yh) is drawn N(0, ρ²/H), whose
    /// spectral radius is close to ρ (circular law): ρ > 1 is the exploding-gradient regime.
    public var initRadius: Double?

    /// A configuration; `validate()` checks it.
    public init(task: MemoryTaskKind = .adding, cell: CellKind = .lstm, hiddenSize: Int = 64, layers: Int = 1, lag: Int = 100,
                symbols: Int = 8, copyLength: Int = 10, initRadius: Double? = nil) {
        self.task = task
        self.cell = cell
        self.hiddenSize = hiddenSize
        self.layers = layers
        self.lag = lag
        self.symbols = symbols
        self.copyLength = copyLength
        self.initRadius = initRadius
    }


    /// Checks everything before it is used to allocate (a config may come from a file).
    public func validate() throws {
        for (name, value, limit) in [("hiddenSize", hiddenSize, 65_536), ("layers", layers, 64)] where value < 1 || value > limit {
            throw ModelError.badConfig("\(name) must be in 1...\(limit), got \(value)")
        }
        if let r = initRadius, !(r > 0 && r.isFinite && r <= 1000) { throw ModelError.badConfig("initRadius must be in (0, 1000], got \(r)") }
        do { _ = try taskShape() } catch { throw ModelError.badConfig("\(error)") }
    }

    /// The task this config trains on (validates its parameters).
    public func taskShape() throws -> MemoryTask {
        switch task {
        case .copy: .copy(try CopyTask(symbols: symbols, length: copyLength, delay: lag))
        case .adding: .adding(try AddingProblem(length: lag))
        }
    }
}

/// A long-range memory benchmark.
public enum MemoryTask: Equatable, Sendable {
    /// The adding problem with its sequence length.
    case adding(AddingProblem)
    /// The copy task with its alphabet, length and delay.
    case copy(CopyTask)

    /// Input features per step: (value, marker), or a one-hot token.
    public var inputSize: Int {
        switch self {
        case .adding: AddingProblem.featureCount
        case let .copy(c): c.inputClasses
        }
    }
    /// Outputs per step: the sum (read at the last step only), or one logit per class.
    public var outputSize: Int {
        switch self {
        case .adding: 1
        case let .copy(c): c.outputClasses
        }
    }
    /// Steps per sequence.
    public var steps: Int {
        switch self {
        case let .adding(a): a.length
        case let .copy(c): c.steps
        }
    }
    /// The loss of a model that learnt nothing: MSE 1/6 for adding, log K nats per recall step for copy.
    public var baselineLoss: Double {
        switch self {
        case .adding: AddingProblem.baselineMSE
        case let .copy(c): c.baselineRecallLoss
        }
    }
}

/// A batch of either task, with what the loss needs.
public struct MemoryTaskBatch: Sendable {
    /// (T, B, I) features: (value, marker) or one-hot tokens.
    public var inputs: [Float]
    /// Adding: (B) sums. Copy: unused.
    public var sums: [Float]
    /// Copy: (T, B) classes, `MemoryTaskModel.ignored` outside the recall steps. Adding: unused.
    public var classes: [Int]
    /// T, the sequence length, and B, the number of sequences.
    public var steps: Int, batch: Int

    /// Draws a batch of `task`.
    public init(_ task: MemoryTask, size: Int, generator: inout RandomGenerator) {
        switch task {
        case let .adding(a):
            let b = a.batch(size: size, generator: &generator)
            self.init(inputs: b.inputs, sums: b.targets, classes: [], steps: b.steps, batch: size)
        case let .copy(c):
            let b = c.batch(size: size, generator: &generator)
            let (T, B, V) = (b.steps, size, c.inputClasses)
            var oneHot = [Float](repeating: 0, count: T * B * V)           // (T, B, V)
            for (i, token) in b.inputs.enumerated() { oneHot[i * V + token] = 1 }
            let recall = c.recallSteps
            let classes = b.targets.enumerated().map { recall.contains($0.offset / B) ? $0.element : MemoryTaskModel.ignored }
            self.init(inputs: oneHot, sums: [], classes: classes, steps: T, batch: B)
        }
    }

    /// The first `count` sequences (all when `count` ≥ batch).
    public func prefix(_ count: Int) -> MemoryTaskBatch {
        let n = min(count, batch), features = inputs.count / (steps * batch)
        guard n < batch else { return self }
        var x = [Float](), c = [Int]()
        for t in 0..<steps {
            x += inputs[(t * batch * features)..<((t * batch + n) * features)]
            if !classes.isEmpty { c += classes[(t * batch)..<(t * batch + n)] }
        }
        return MemoryTaskBatch(inputs: x, sums: Array(sums.prefix(n)), classes: c, steps: steps, batch: n)
    }

    init(inputs: [Float], sums: [Float], classes: [Int], steps: Int, batch: Int) {
        self.inputs = inputs
        self.sums = sums
        self.classes = classes
        self.steps = steps
        self.batch = batch
    }
}

/// A recurrent layer (tanh RNN, LSTM, GRU or Jordan) and a linear head, for the adding problem (one
/// output read at the last step: many-to-one regression) or the copy task (class logits at every step).
/// Parameter names: `rnn.weight_ih_l0`, …, `head.weight`, `head.bias`.
public final class MemoryTaskModel: Module<Float> {
    /// The configuration the model was built from.
    public let config: MemoryTaskConfig
    /// The task's shape, from the configuration.
    public let task: MemoryTask
    /// The recurrent network (a Jordan network's fed-back output y is H wide and read like a hidden state).
    let rnn: any RecurrentNetwork<Float>
    /// The linear output: one value (adding) or one logit per class (copy) per step.
    public let head: Linear<Float>
    /// The class id that `crossEntropy` skips (steps with nothing to recall).
    public static let ignored = -1

    /// - Precondition: `config.validate()` passed.
    public init(_ config: MemoryTaskConfig, seed: UInt64) {
        do { task = try config.taskShape() } catch { preconditionFailure("MemoryTaskModel: validate the config first (\(error))") }
        self.config = config
        var generator = RandomGenerator(seed: seed)
        let (I, H, L) = (task.inputSize, config.hiddenSize, config.layers)
        rnn = TaskNetwork.make(cell: config.cell, input: I, hidden: H, layers: L, dropout: 0, bidirectional: false, generator: &generator)
        head = Linear(inputSize: H, outputSize: task.outputSize, generator: &generator)
        super.init()
        registerModule("rnn", rnn.module)
        registerModule("head", head)
        if let radius = config.initRadius {
            // Square recurrent blocks only: (G·H, H) for RNN/LSTM/GRU, (H, H) for Jordan's weight_yh.
            let std = Float(radius / Double(H).squareRoot())
            for (name, w) in namedParameters() where name.contains("weight_hh") || name.contains("weight_yh") {
                for i in 0..<w.count { w.data[i] = std * generator.nextNormal(Float.self) }
            }
        }
    }

    /// - Parameter x: (T, B, I)
    /// - Returns: (T, B, O): the head applied at every step.
    public func callAsFunction(_ x: Tensor<Float>) -> Tensor<Float> {
        let h = rnn(x).output                                           // (T, B, H)
        return head(h)
    }

    /// The task's loss on a batch: MSE of the last step's output against the sums (adding), or the mean
    /// cross-entropy over the recall steps (copy).
    public func loss(_ batch: MemoryTaskBatch) -> Tensor<Float> {
        let (T, B) = (batch.steps, batch.batch)
        switch task {
        case .adding:
            let x = Tensor(batch.inputs, shape: [T, B, task.inputSize])
            let h = rnn(x).output                                           // (T, B, H)
            let last = h.slice(axis: 0, (T - 1)..<T).reshaped([B, config.hiddenSize])
            return mseLoss(head(last).reshaped([B]), Tensor(batch.sums, shape: [B]))
        case .copy:
            let logits = self(Tensor(batch.inputs, shape: [T, B, task.inputSize]))   // (T, B, K+1)
            return crossEntropy(logits.reshaped([T * B, task.outputSize]), targets: batch.classes, ignoreIndex: Self.ignored)
        }
    }

    /// The loss at the last step only, what gradient-flow diagnostics backpropagate: the adding loss
    /// itself, or the copy task's cross-entropy at its last recall step.
    public func lastStepLoss(_ batch: MemoryTaskBatch) -> Tensor<Float> {
        guard case .copy = task else { return loss(batch) }
        let (T, B, C) = (batch.steps, batch.batch, task.outputSize)
        let logits = self(Tensor(batch.inputs, shape: [T, B, task.inputSize]))   // (T, B, C)
        return crossEntropy(logits.slice(axis: 0, (T - 1)..<T).reshaped([B, C]), targets: Array(batch.classes[((T - 1) * B)...]))
    }

    /// Loss and, for the copy task, the fraction of recall steps whose most likely class is the right
    /// symbol (nil for adding); no gradient, eval mode.
    public func evaluate(_ batch: MemoryTaskBatch) -> (loss: Double, accuracy: Double?) {
        withoutGrad {
            let wasTraining = isTraining
            eval()
            defer { train(wasTraining) }
            guard case .copy = task else { return (Double(loss(batch).item), nil) }
            let (T, B, C) = (batch.steps, batch.batch, task.outputSize)
            let logits = self(Tensor(batch.inputs, shape: [T, B, task.inputSize]))   // (T, B, C)
            let value = crossEntropy(logits.reshaped([T * B, C]), targets: batch.classes, ignoreIndex: Self.ignored).item
            var right = 0, counted = 0
            for (i, y) in batch.classes.enumerated() where y != Self.ignored {
                let row = logits.data + i * C
                var best = 0
                for c in 1..<C where row[c] > row[best] { best = c }
                counted += 1
                if best == y { right += 1 }
            }
            return (Double(value), Double(right) / Double(max(counted, 1)))
        }
    }
}

extension MemoryTaskModel {
    /// Loads a checkpoint written by `recurrent train adding` or `copy`, validating everything that came from the file.
    public static func load(from url: URL) throws -> MemoryTaskModel {
        let checkpoint = try Checkpoint.load(from: url)
        let found = checkpoint.extra["task"] ?? "unknown"
        guard let task = MemoryTaskKind(rawValue: found) else { throw ModelError.wrongTask(expected: "adding or copy", found: found) }
        let config = try checkpoint.validatedConfig(MemoryTaskConfig.self, what: "a memory-task") { try $0.validate() }
        guard config.task == task else { throw ModelError.badConfig("the config's task '\(config.task)' differs from the checkpoint's '\(task)'") }
        if let bad = checkpoint.nonFiniteTensorNames.first { throw ModelError.nonFiniteParameters(bad) }
        let model = MemoryTaskModel(config, seed: 0)
        try model.loadParameters(checkpoint.modelTensors)   // last.safetensors also holds optimizer state
        return model
    }
}
