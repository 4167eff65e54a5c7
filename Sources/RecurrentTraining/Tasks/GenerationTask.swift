import Foundation
import RecurrentData
import RecurrentIO
import RecurrentModels
import RecurrentNN
import RecurrentTensor

/// One-to-many generation conditioned on a class label (`recurrent train generate`): a decoder whose
/// initial state comes from the label learns the sentences of each class, teacher-forced; the best epoch
/// has the lowest validation loss, and test.json holds the test loss and a greedy sentence per label.
public final class GenerationTask: TrainingTask {
    public struct Settings: Codable, Equatable, Sendable {
        /// Seed of the train / validation / test split.
        public var splitSeed: UInt64 = 1
        /// Words seen fewer times in training become `<unk>`.
        public var minCount = 2
        /// Longest generated sentence (tokens) in test.json.
        public var maxLength = 30
        /// The split's seed, the minimum count of a word in the vocabulary, and the longest greedy sentence in tokens.
        public init(splitSeed: UInt64 = 1, minCount: Int = 2, maxLength: Int = 30) {
            (self.splitSeed, self.minCount, self.maxLength) = (splitSeed, minCount, maxLength)
        }
    }

    /// test.json: the test split's loss and one greedy sentence per label.
    public struct Report: Codable, Sendable {
        /// The epoch whose weights were scored.
        public var epoch: Int
        /// Mean cross-entropy per token on the test split, in nats.
        public var testLoss: Double
        /// e^testLoss.
        public var perplexity: Double
        /// One greedy sentence per label.
        public var greedy: [String]
    }

    /// 20 epochs of 32 sentences, Adam at 3·10⁻³, clipping at norm 5.
    public static let defaultOptions = TrainingOptions(schedule: .epochs(20), batch: 32, learningRate: 3e-3, clipNorm: 5)

    /// The model being trained.
    public let generator: ConditionedGenerator<Float>
    /// (label, token ids without `<s>`/`</s>`) of each split.
    public let train: [(label: Int, ids: [Int])], validation: [(label: Int, ids: [Int])], test: [(label: Int, ids: [Int])]
    /// The word vocabulary, built from the training split.
    public let words: Vocabulary
    /// The task's settings.
    public let settings: Settings
    public let configJSON: String

    /// - Parameters:
    ///   - sentences: labelled sentences, split 80/10/10 by `settings.splitSeed`; tokenized by `WordTokenizer` (lowercased, punctuation split).
    ///   - words: the target vocabulary (`<pad>`, `<unk>`, `<s>`, `</s>`, words); built from the training split when nil.
    public static func data(_ sentences: [LabelledSentence], settings: Settings, words: Vocabulary? = nil) throws
        -> (words: Vocabulary, splits: DataSplit<LabelledSentence>) {
        let split = DataSplit(sentences, seed: settings.splitSeed)
        let pairs = split.train.map { SentencePair(source: ["\($0.label)"], target: WordTokenizer().tokenize($0.text)) }
        return (try words ?? Seq2SeqVocabularies(training: pairs, minCount: settings.minCount).target, split)
    }

    /// A task training `model` (built from `config`) on the labelled sentences, encoded with `words`.
    /// - Throws: `TrainingError.badOptions` without training or validation sentences; an error when the model's configuration cannot be encoded as JSON.
    public init(model: ConditionedGenerator<Float>, config: ConditionedGeneratorConfig, sentences: DataSplit<LabelledSentence>, words: Vocabulary,
                settings: Settings = Settings()) throws {
        generator = model
        self.words = words
        self.settings = settings
        let encode = { (split: [LabelledSentence]) in
            split.map { s in (s.label, WordTokenizer().tokenize(s.text).map { words.id($0) ?? 1 }) }
        }
        (train, validation, test) = (encode(sentences.train), encode(sentences.validation), encode(sentences.test))
        guard !train.isEmpty, !validation.isEmpty else { throw TrainingError.badOptions("the generation task needs training and validation sentences") }
        configJSON = try RunFolder.prettyJSON(config)
    }

    public var name: String { ConditionedGenerator<Float>.task }
    public var model: Module<Float> { generator }
    public var epochSize: Int? { train.count }
    public var vocabulary: [String]? { words.tokens }
    public var streams: [String: RandomGenerator] { get { [:] } set {} }

    public func makeBatch(_ indices: ArraySlice<Int>, generator: inout RandomGenerator) -> [(label: Int, ids: [Int])] { indices.map { train[$0] } }

    public func loss(_ batch: [(label: Int, ids: [Int])], at position: RunPosition, generator: inout RandomGenerator) -> TaskLoss {
        let tokens = batch.reduce(0) { $0 + $1.ids.count + 1 }   // `</s>` included: what the cross-entropy's mean is over
        return TaskLoss(self.generator.loss(self.generator.oneHot(batch.map(\.label)), targets: batch.map(\.ids)),
                        tokens: tokens, meanOver: Double(tokens))
    }

    /// Mean cross-entropy per token (`</s>` included) of `sentences`, teacher-forced, in eval mode.
    func meanLoss(_ sentences: [(label: Int, ids: [Int])]) -> Double {
        withoutGrad {
            var total = 0.0, tokens = 0
            for start in stride(from: 0, to: sentences.count, by: 128) {
                let chunk = Array(sentences[start..<min(start + 128, sentences.count)])
                let n = chunk.reduce(0) { $0 + $1.ids.count + 1 }
                total += Double(generator.loss(generator.oneHot(chunk.map(\.label)), targets: chunk.map(\.ids)).item) * Double(n)
                tokens += n
            }
            return tokens > 0 ? total / Double(tokens) : .nan
        }
    }

    public func evaluate() -> Double { meanLoss(validation) }
    public func isBetter(_ loss: Double, than best: Double) -> Bool { loss < best || (best.isNaN && !loss.isNaN) }
    public func summary(_ loss: Double) -> String { String(format: "val loss %.3f", loss) }

    public let metricsColumns = ["epoch", "step", "seconds", "train_loss", "val_loss", "val_perplexity", "tokens_per_second", "clipped"]
    public let plottedColumns = ["train_loss", "val_loss"]

    public func metricsRow(_ r: RoundSummary, _ loss: Double) -> [Double] {
        [Double(r.position.epoch), Double(r.position.step), r.seconds, r.window.meanLoss, loss, exp(loss), r.tokensPerSecond, Double(r.window.clipped)]
    }

    public func checkpointFields(_ position: RunPosition, _ loss: Double?) -> [String: String] {
        var fields = ["task": name, "epoch": "\(position.epoch)", "step": "\(position.step)", "split_seed": "\(settings.splitSeed)"]
        if let loss { fields["val_loss"] = "\(loss)" }
        return fields
    }

    public func runFiles() throws -> [String: Data] { ["vocabulary.json": Data(words.jsonString().utf8)] }

    public func checkResumable(_ checkpoint: Checkpoint) throws {
        guard checkpoint.vocabulary == words.tokens else {
            throw TrainingError.cannotResume("the data's vocabulary differs from the checkpoint's: resume on the same data")
        }
    }

    public func finish(_ history: [RoundRecord<Double>], best: RoundRecord<Double>?, in folder: RunFolder, seconds: Double) throws -> Report {
        let labels = Array(0..<generator.conditionSize)
        let greedy = generator.generate(generator.oneHot(labels), maxLength: settings.maxLength).map { words.decode($0, separator: " ") }
        let loss = meanLoss(test)
        let report = Report(epoch: best?.epoch ?? 0, testLoss: loss, perplexity: exp(loss), greedy: greedy)
        try folder.writeJSON(report, to: "test.json")
        return report
    }
}
