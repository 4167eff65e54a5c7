import Foundation
import RecurrentData
import RecurrentNN
import RecurrentTensor

/// Several taggers of the same tag set (runs with different seeds) decoding as one, a product of experts:
/// each member reads the sentences with its own vocabularies, their tag scores are averaged and decoded with the
/// mean of their biases against `O` (the same as averaging the shifted scores), and with CRFs the path is the
/// Viterbi path of a CRF whose transitions are the members' average, so the ensemble scores a path by the mean
/// of the members' path scores. Without CRFs the members' per-step log-probabilities are averaged. Intents: the
/// average of the members' log-probabilities.
///
/// Why: on WNUT-17 single runs differ by a few points of F1 from seed to seed; averaging cancels much of that.
public final class TaggerEnsemble {
    /// The members and the vocabularies each reads its input with.
    public let members: [(model: SequenceTagger, vocabularies: TaggingVocabularies)]
    /// The tags and intents the members share (member 0's words and characters).
    public var vocabularies: TaggingVocabularies { members[0].vocabularies }
    /// Replaces every member's own bias against `O` when set (`eval tag --o-bias`).
    public var outsideBias: Float? = nil
    /// The members' transitions averaged (nil without CRFs).
    let crf: LinearChainCRF<Float>?

    /// - Throws: `ModelError.badConfig` when there is no member, or the members' tags, intents or output layers
    ///   (CRF or softmax) differ.
    public init(_ members: [(model: SequenceTagger, vocabularies: TaggingVocabularies)]) throws {
        guard let first = members.first else { throw ModelError.badConfig("an ensemble needs at least one tagger") }
        for (k, m) in members.enumerated().dropFirst() {
            guard m.vocabularies.tags.tokens == first.vocabularies.tags.tokens else {
                throw ModelError.badConfig("tagger \(k + 1) of the ensemble has other tags than tagger 1 (\(m.vocabularies.tags.count) against \(first.vocabularies.tags.count)): members must be trained on the same data")
            }
            guard m.vocabularies.intents?.tokens == first.vocabularies.intents?.tokens else {
                throw ModelError.badConfig("tagger \(k + 1) of the ensemble has other intents than tagger 1: members must be trained on the same data")
            }
            guard (m.model.crf == nil) == (first.model.crf == nil) else {
                throw ModelError.badConfig("tagger \(k + 1) of the ensemble \(m.model.crf == nil ? "has no" : "has a") CRF and tagger 1 \(first.model.crf == nil ? "has none" : "has one"): members must share their output layer")
            }
        }
        self.members = members
        crf = first.model.crf.map { Self.averaged(members.compactMap(\.model.crf), like: $0) }
    }

    /// A CRF with the mean of `crfs`' start, end and pairwise transitions, and `template`'s constraints.
    static func averaged(_ crfs: [LinearChainCRF<Float>], like template: LinearChainCRF<Float>) -> LinearChainCRF<Float> {
        let mean = LinearChainCRF<Float>(tagCount: template.tagCount, constraints: template.constraints)
        for (name, p) in mean.namedParameters() {
            let sources = crfs.map { crf in crf.namedParameters().first { $0.name == name }!.tensor }
            for i in 0..<p.count { p.data[i] = sources.reduce(0) { $0 + $1.data[i] } / Float(sources.count) }
        }
        return mean
    }

    /// The averaged tag scores (T, B, tags; log-probabilities without CRFs) and intent log-probabilities
    /// (B, intents) of the sentences `indices` of `sentences`, each member reading its own batch of them; eval
    /// mode, no graph. No bias is applied.
    func scores(_ sentences: [TaggedSentence], indices: [Int]) -> (tags: Tensor<Float>, intents: Tensor<Float>?, batch: TaggingBatch) {
        var tagSum: [Float] = [], intentSum: [Float] = []
        var batch: TaggingBatch? = nil
        withoutGrad {
            for m in members {
                let b = TaggingBatch(sentences, indices: indices, vocabularies: m.vocabularies)
                let wasTraining = m.model.isTraining
                m.model.eval()
                defer { m.model.train(wasTraining) }
                var (tags, intents) = m.model(b)                                              // (T, B, tags), (B, intents)
                if crf == nil { tags = tags.logSoftmax(axis: 2) }
                Self.accumulate(tags, into: &tagSum)
                if let intents { Self.accumulate(intents.logSoftmax(axis: 1), into: &intentSum) }
                batch = batch ?? b
            }
        }
        let n = Float(members.count), b = batch!
        let tags = Tensor(tagSum.map { $0 / n }, shape: [b.steps, b.batch, vocabularies.tags.count])
        let intents = intentSum.isEmpty ? nil : Tensor(intentSum.map { $0 / n }, shape: [b.batch, intentSum.count / b.batch])
        return (tags, intents, b)
    }

    static func accumulate(_ t: Tensor<Float>, into sum: inout [Float]) {
        if sum.isEmpty { sum = t.scalars } else { for i in 0..<sum.count { sum[i] += t.data[i] } }
    }

    /// Tag-id paths, intent ids (nil without intent heads) and the ensemble's mean loss per tag, without the bias
    /// (its CRF's negative log-likelihood of the averaged scores, or the cross-entropy of the averaged log-probabilities; nil when a
    /// tag of the batch is one the members never learnt, or `withLoss` is false) of the sentences `indices` of `sentences`.
    public func predict(_ sentences: [TaggedSentence], indices: [Int], withLoss: Bool = true) -> (tags: [[Int]], intents: [Int]?, loss: Double?) {
        let (tags, intents, b) = scores(sentences, indices: indices)
        let first = members[0].model
        let bias = outsideBias ?? members.map(\.model.outsideBias).reduce(0, +) / Float(members.count)
        let shifted = first.outsideTag.map { SequenceTagger.shifting(tags, tag: $0, by: -bias) } ?? tags    // (T, B, tags)
        let paths = crf?.decode(shifted, lengths: b.lengths) ?? first.decode(shifted, lengths: b.lengths, constrainedBy: vocabularies.tags)
        let I = intents.map { $0.shape[1] } ?? 0
        let guessed = intents.map { out in (0..<b.batch).map { SequenceTagger.argmax(out.data + $0 * I, from: 0, to: I) } }
        var loss: Double? = nil
        let known = withLoss && (0..<b.batch).allSatisfy { s in (0..<b.lengths[s]).allSatisfy { b.tags[$0 * b.batch + s] != TaggingBatch.ignoreIndex } }
        if known {
            loss = withoutGrad {
                if let crf { return Double(crf.negativeLogLikelihood(tags, tags: b.tags, lengths: b.lengths, reduction: .tokenMean).item) }
                let flat = tags.reshaped([b.steps * b.batch, tags.shape[2]])
                return Double(crossEntropy(flat, targets: b.tags, ignoreIndex: TaggingBatch.ignoreIndex).item)
            }
        }
        return (paths, guessed, loss)
    }
}

extension TaggingEvaluation {
    /// Loss, conlleval scores and intent accuracy of an ensemble on `sentences`, as `evaluate` scores one tagger.
    public static func evaluate(_ ensemble: TaggerEnsemble, _ sentences: [TaggedSentence], batch: Int = 64) -> TaggingEvaluation {
        var paths: [[Int]] = [], intents: [Int]? = ensemble.vocabularies.intents == nil ? nil : []
        var lossSum = 0.0, lossBatches = 0
        for start in stride(from: 0, to: sentences.count, by: batch) {
            let guess = ensemble.predict(sentences, indices: Array(start..<min(start + batch, sentences.count)))
            paths += guess.tags
            if let i = guess.intents { intents? += i }
            if let loss = guess.loss { lossSum += loss; lossBatches += 1 }
        }
        return score(sentences, paths: paths, intents: intents, lossSum: lossSum, lossBatches: lossBatches,
                     vocabularies: ensemble.vocabularies, hasIntentHead: ensemble.members[0].model.intentHead != nil)
    }
}
