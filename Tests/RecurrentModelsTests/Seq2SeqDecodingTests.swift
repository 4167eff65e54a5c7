import Foundation
import RecurrentData
@testable import RecurrentModels
import RecurrentNN
import RecurrentTensor
import RecurrentTraining
import XCTest

/// Decoding: beam search on hand-built models whose best sequences are known, beam width 1 against
/// greedy, batched greedy against one-at-a-time, sampling, and one-to-many generation.
final class Seq2SeqDecodingTests: XCTestCase {
    /// A hand-built model over tokens 0 (pad), 1, 2 (<s>), 3 (</s>), 4 (A), 5 (B): log-probabilities by prefix.
    /// After <s>: A 0.6, B 0.4. After A: </s> 0.3, unk 0.25, A 0.25, B 0.2, so A </s> has 0.18.
    /// After B: </s> 0.9. Greedy takes A then </s> (0.18); the best sequence is B </s> (0.36).
    func handBuiltStep(_ prefixes: inout [[Int]], parents: [Int], tokens: [Int]) -> (logProbs: [Double], attention: [[Double]]?) {
        prefixes = zip(parents, tokens).map { p, t in (prefixes.isEmpty ? [] : prefixes[p]) + [t] }
        var logProbs: [Double] = []
        for prefix in prefixes {
            var p = [Double](repeating: 0, count: 6)
            switch Array(prefix.dropFirst()) {
            case []: p[4] = 0.6; p[5] = 0.4
            case [4]: p[1] = 0.25; p[4] = 0.25; p[5] = 0.2; p[3] = 0.3
            case [5]: p[3] = 0.9; p[4] = 0.1
            default: p[3] = 0.5; p[4] = 0.5
            }
            logProbs += p.map { Foundation.log($0) }
        }
        return (logProbs, nil)
    }

    func testBeamSearchFindsTheBestSequenceGreedyMisses() {
        var prefixes: [[Int]] = []
        let greedy = beamSearch(beamWidth: 1, maxLength: 5, vocabularySize: 6, bos: 2, eos: 3) { handBuiltStep(&prefixes, parents: $0, tokens: $1) }
        XCTAssertEqual(greedy[0].ids, [4, 3], "greedy commits to A")
        XCTAssertEqual(greedy[0].logProbability, Foundation.log(0.6 * 0.3), accuracy: 1e-12)
        prefixes = []
        let beam = beamSearch(beamWidth: 2, maxLength: 5, nBest: 2, vocabularySize: 6, bos: 2, eos: 3) { handBuiltStep(&prefixes, parents: $0, tokens: $1) }
        XCTAssertEqual(beam[0].ids, [5, 3])
        XCTAssertEqual(beam[0].logProbability, Foundation.log(0.4 * 0.9), accuracy: 1e-12)
        XCTAssertEqual(beam.count, 2)
        XCTAssertEqual(beam[1].ids, [4, 3], "the n-best list holds the runner-up")
        XCTAssertEqual(beam[1].logProbability, Foundation.log(0.6 * 0.3), accuracy: 1e-12)
        XCTAssertGreaterThanOrEqual(beam[0].score, beam[1].score)
    }

    /// A model that prefers stopping early: without a length penalty the short sequence wins; a large α favours the longer one.
    func testLengthPenaltyFavoursLongerHypotheses() {
        // After <s>: </s> 0.5, A 0.5. After A: B 1.0 (nearly). After A B: </s> 1.0 (nearly).
        func step(_ prefixes: inout [[Int]], _ parents: [Int], _ tokens: [Int]) -> (logProbs: [Double], attention: [[Double]]?) {
            prefixes = zip(parents, tokens).map { p, t in (prefixes.isEmpty ? [] : prefixes[p]) + [t] }
            var out: [Double] = []
            for prefix in prefixes {
                var p = [Double](repeating: 1e-9, count: 6)
                switch Array(prefix.dropFirst()) {
                case []: p[3] = 0.5; p[4] = 0.45
                case [4]: p[5] = 0.99
                default: p[3] = 0.99
                }
                out += p.map { Foundation.log($0) }
            }
            return (out, nil)
        }
        var prefixes: [[Int]] = []
        let plain = beamSearch(beamWidth: 3, maxLength: 6, vocabularySize: 6, bos: 2, eos: 3) { step(&prefixes, $0, $1) }
        XCTAssertEqual(plain[0].ids, [3])
        prefixes = []
        let penalised = beamSearch(beamWidth: 3, maxLength: 6, lengthPenalty: 2, vocabularySize: 6, bos: 2, eos: 3) { step(&prefixes, $0, $1) }
        XCTAssertEqual(penalised[0].ids, [4, 5, 3])
        XCTAssertEqual(penalised[0].score, penalised[0].logProbability / lengthPenalty(length: 3, alpha: 2), accuracy: 1e-12)
    }

    /// Several searches in one batch, each over its own hand-built model (by the source a row descends from),
    /// give exactly what each gives alone, while finished sources drop their rows from the calls.
    func testBatchedBeamSearchEqualsEachSearchAlone() {
        // Source 0: the model above (best B </s>); 1: stops early unless penalised; 2: uniform over A, B, </s>.
        func distribution(_ source: Int, _ prefix: [Int]) -> [Double] {
            var p = [Double](repeating: 1e-9, count: 6)
            switch (source, Array(prefix.dropFirst())) {
            case (0, []): p[4] = 0.6; p[5] = 0.4
            case (0, [4]): p[1] = 0.25; p[4] = 0.25; p[5] = 0.2; p[3] = 0.3
            case (0, [5]): p[3] = 0.9; p[4] = 0.1
            case (0, _): p[3] = 0.5; p[4] = 0.5
            case (1, []): p[3] = 0.5; p[4] = 0.45
            case (1, [4]): p[5] = 0.99
            case (1, _): p[3] = 0.99
            default: p[3] = 0.3; p[4] = 0.35; p[5] = 0.35
            }
            return p.map { Foundation.log($0) }
        }
        struct Rows { var prefixes: [[Int]] = [], origins: [Int] = [], calls: [Int] = [] }
        func step(_ rows: inout Rows, _ parents: [Int], _ tokens: [Int], alone: Int?) -> (logProbs: [Double], attention: [[Double]]?) {
            rows.origins = rows.prefixes.isEmpty ? parents.map { alone ?? $0 } : parents.map { rows.origins[$0] }
            rows.prefixes = zip(parents, tokens).map { p, t in (rows.prefixes.isEmpty ? [] : rows.prefixes[p]) + [t] }
            rows.calls.append(parents.count)
            let logProbs = zip(rows.origins, rows.prefixes).flatMap { distribution($0, $1) }
            return (logProbs, rows.origins.map { [Double($0)] })                     // "attention": the row's source
        }
        for alpha in [0.0, 2.0] {
            var batched = Rows()
            let together = beamSearch(sources: 3, beamWidth: 3, maxLength: 6, lengthPenalty: alpha, nBest: 3, vocabularySize: 6, bos: 2, eos: 3) {
                step(&batched, $0, $1, alone: nil)
            }
            XCTAssertEqual(together.count, 3)
            for k in 0..<3 {
                var single = Rows()
                let alone = beamSearch(beamWidth: 3, maxLength: 6, lengthPenalty: alpha, nBest: 3, vocabularySize: 6, bos: 2, eos: 3) {
                    step(&single, $0, $1, alone: k)
                }
                XCTAssertEqual(together[k].map(\.ids), alone.map(\.ids), "source \(k), α \(alpha)")
                XCTAssertEqual(together[k].map(\.logProbability), alone.map(\.logProbability))
                XCTAssertEqual(together[k].map(\.score), alone.map(\.score))
                XCTAssertTrue(together[k].allSatisfy { $0.attention.allSatisfy { $0 == [Double(k)] } }, "rows stay with their source")
            }
            XCTAssertEqual(together[0][0].ids, [5, 3])
            XCTAssertEqual(together[1][0].ids, alpha == 0 ? [3] : [4, 5, 3])
            // Source 1 without a penalty is over after two steps: later calls hold fewer rows than three full beams.
            XCTAssertEqual(batched.calls.first, 3)
            XCTAssertLessThan(batched.calls.last!, 9)
        }
    }

    /// The bounded selection of the best extensions equals a full sort's prefix, ties included.
    func testBestExtensionsEqualAFullSortsPrefix() {
        var rng = RandomGenerator(seed: 12)
        for _ in 0..<20 {
            let (rows, V) = (1 + Int(rng.next() % 4), 1 + Int(rng.next() % 9))
            // Few distinct values, so ties are common; some −∞.
            let logProbs = (0..<(rows * V)).map { _ -> Double in let k = rng.next() % 5; return k == 0 ? -.infinity : -Double(k) }
            let base = (0..<rows).map { _ in -Double(rng.next() % 3) }
            var all: [(row: Int, token: Int, total: Double)] = []
            for r in 0..<rows { for v in 0..<V { all.append((r, v, base[r] + logProbs[r * V + v])) } }
            all.sort { ($0.total, -$0.row, -$0.token) > ($1.total, -$1.row, -$1.token) }
            for count in [1, 3, 6] {
                let best = logProbs.withUnsafeBufferPointer { Beam.best(count, of: $0, rows: rows, vocabularySize: V, base: base) }
                let expected = all.prefix(count)
                XCTAssertEqual(best.map(\.row), expected.map(\.row))
                XCTAssertEqual(best.map(\.token), expected.map(\.token))
                XCTAssertEqual(best.map(\.total), expected.map(\.total))
            }
        }
    }

    /// Sentences searched together, as one padded batch, get the hypotheses each gets alone.
    func testBatchedModelBeamSearchEqualsOneSentenceAtATime() {
        for (attention, feeding) in [("none", false), ("bahdanau", false), ("luong-general", true)] {
            let model = smallModel(attention: attention, inputFeeding: feeding, seed: 9)
            let sources = [[3, 4, 5, 6], [7, 2], [8, 8, 3, 5, 6, 4], [5]]
            let together = model.beamSearch(sources, beamWidth: 3, maxLength: 7, lengthPenalty: 1, nBest: 3)
            for (k, source) in sources.enumerated() {
                let alone = model.beamSearch(source, beamWidth: 3, maxLength: 7, lengthPenalty: 1, nBest: 3)
                XCTAssertEqual(together[k].map(\.ids), alone.map(\.ids), "\(attention) \(source)")
                for (a, b) in zip(together[k], alone) {
                    XCTAssertEqual(a.logProbability, b.logProbability, accuracy: 1e-9)
                    XCTAssertEqual(a.attention.count, attention == "none" ? 0 : a.ids.count)
                    for (u, v) in zip(a.attention, b.attention) {
                        XCTAssertEqual(u.count, source.count)
                        for (x, y) in zip(u, v) { XCTAssertEqual(x, y, accuracy: 1e-9) }
                    }
                }
            }
        }
    }

    func smallModel(attention name: String, inputFeeding: Bool = false, seed: UInt64 = 5) -> Seq2Seq<Double> {
        Seq2Seq<Double>(Seq2SeqConfig(sourceVocabularySize: 9, targetVocabularySize: 10, embeddingSize: 4, hiddenSize: 6, layers: 1,
                                      attention: Seq2SeqAttention(rawValue: name)!, dropout: 0, inputFeeding: inputFeeding), seed: seed)
    }

    /// Every hypothesis of a wide beam carries the log-probability that teacher forcing gives its tokens:
    /// the beam's states (h, c and the fed attentional vector) follow their parents when hypotheses are reordered.
    func testBeamHypothesesScoreAsTeacherForcingDoes() {
        for (attention, feeding) in [("bahdanau", false), ("luong-general", true), ("luong-concat", true), ("none", false)] {
            let model = smallModel(attention: attention, inputFeeding: feeding, seed: 7)
            var checked = 0
            for source in [[3, 4, 5, 6], [7, 2], [8, 8, 3, 5, 6]] {
                for h in model.beamSearch(source, beamWidth: 4, maxLength: 6, nBest: 4) {
                    // Teacher forcing on the hypothesis' own tokens; logits (T, 1, V) with T = ids + 1 (the extra step predicts </s>).
                    let tokens = h.ids.last == model.eos ? Array(h.ids.dropLast()) : h.ids
                    let batch = Seq2SeqBatch(sources: [source], targets: [tokens], bos: 2, eos: 3)
                    var unused = RandomGenerator(seed: 0)
                    let logits = model.logits(batch, generator: &unused)
                    let V = model.decoder.vocabularySize
                    let teacherForced = h.ids.indices.reduce(0.0) { sum, t in sum + logSoftmax(logits.data + t * V, V)[h.ids[t]] }
                    XCTAssertEqual(h.logProbability, teacherForced, accuracy: 1e-9, "\(attention) \(source) \(h.ids)")
                    checked += 1
                }
            }
            XCTAssertEqual(checked, 12, attention)
        }
    }

    /// Beam width 1 is greedy decoding; the batched greedy decoder gives each row what it gives alone.
    func testBeamOfOneIsGreedyAndBatchingChangesNothing() {
        for (attention, feeding) in [("none", false), ("bahdanau", false), ("luong-general", false), ("luong-dot", true)] {
            let model = smallModel(attention: attention, inputFeeding: feeding)
            let sources = [[3, 4, 5, 6], [7, 2], [8, 8, 3]]
            var rng = RandomGenerator(seed: 0)
            let batch = Seq2SeqBatch(sources: sources, targets: sources.map { _ in [] }, bos: 2, eos: 3)
            let batched = model.decode(batch.source, steps: batch.sourceSteps, batch: 3, lengths: batch.sourceLengths, maxLength: 8, generator: &rng)
            for (r, source) in sources.enumerated() {
                let alone = model.decode(source, steps: source.count, batch: 1, lengths: [source.count], maxLength: 8, generator: &rng)[0]
                XCTAssertEqual(batched[r].ids, alone.ids, attention)
                XCTAssertEqual(batched[r].logProbability, alone.logProbability, accuracy: 1e-9)
                let beam = model.beamSearch(source, beamWidth: 1, maxLength: 8)[0]
                XCTAssertEqual(beam.ids, alone.ids, attention)
                XCTAssertEqual(beam.logProbability, alone.logProbability, accuracy: 1e-9)
                if attention != "none" {
                    XCTAssertEqual(alone.attention.count, alone.ids.count)
                    XCTAssertTrue(alone.attention.allSatisfy { $0.count == source.count && abs($0.reduce(0, +) - 1) < 1e-9 })
                    XCTAssertEqual(beam.attention.count, beam.ids.count)
                } else {
                    XCTAssertTrue(alone.attention.isEmpty)
                }
                let wide = model.beamSearch(source, beamWidth: 4, maxLength: 8, nBest: 3)
                XCTAssertLessThanOrEqual(wide.count, 3)
                XCTAssertEqual(wide.map(\.score), wide.map(\.score).sorted(by: >))
            }
        }
    }

    func testSamplingIsSeededAndTopOneIsGreedy() {
        let model = smallModel(attention: "luong-dot")
        let source = [3, 4, 5]
        var g1 = RandomGenerator(seed: 3), g2 = RandomGenerator(seed: 3), g3 = RandomGenerator(seed: 3)
        let a = model.decode(source, steps: 3, batch: 1, lengths: [3], maxLength: 12, choice: .sample(temperature: 1.5, topK: 0), generator: &g1)[0]
        let b = model.decode(source, steps: 3, batch: 1, lengths: [3], maxLength: 12, choice: .sample(temperature: 1.5, topK: 0), generator: &g2)[0]
        XCTAssertEqual(a.ids, b.ids)
        let top1 = model.decode(source, steps: 3, batch: 1, lengths: [3], maxLength: 12, choice: .sample(temperature: 1, topK: 1), generator: &g3)[0]
        var unused = RandomGenerator(seed: 0)
        XCTAssertEqual(top1.ids, model.decode(source, steps: 3, batch: 1, lengths: [3], maxLength: 12, generator: &unused)[0].ids)
        // Over many draws from one step, top-k keeps to the k most likely tokens.
        let logProbs = [-3.0, -0.5, -1.0, -2.0, -4.0]
        var g = RandomGenerator(seed: 8)
        let draws = Set((0..<200).map { _ in Seq2Seq<Double>.sample(logProbs, temperature: 1, topK: 2, generator: &g) })
        XCTAssertEqual(draws, [1, 2])
    }

    /// One-to-many: a decoder whose initial state is set by a one-hot class label learns to generate each label's sentence.
    func testConditionedGeneratorGeneratesPerLabel() throws {
        let generator = ConditionedGenerator<Float>(conditionSize: 2, vocabularySize: 8, embeddingSize: 4, hiddenSize: 12, seed: 2)
        let labels = Tensor<Float>([1, 0, 0, 1], shape: [2, 2])
        let targets = [[4, 5, 6], [7, 7]]
        let optimizer = Adam(parameters: generator.parameters(), learningRate: 0.05)
        let first = generator.loss(labels, targets: targets).item
        for step in 1...60 {
            optimizer.zeroGrad()
            try applyUpdate(loss: generator.loss(labels, targets: targets), optimizer: optimizer, clipNorm: 5, step: step)
        }
        XCTAssertLessThan(generator.loss(labels, targets: targets).item, 0.1 * first)
        XCTAssertEqual(generator.generate(labels, maxLength: 10), targets)
    }

    func logSoftmax(_ row: UnsafePointer<Double>, _ n: Int) -> [Double] {
        let m = (0..<n).map { row[$0] }.max()!
        let lse = m + Foundation.log((0..<n).reduce(0.0) { $0 + Foundation.exp(row[$1] - m) })
        return (0..<n).map { row[$0] - lse }
    }
}
