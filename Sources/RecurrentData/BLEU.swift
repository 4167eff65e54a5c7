import Foundation

/// Corpus BLEU (Papineni et al. 2002) as sacrebleu computes it on already tokenized text: n-grams up
/// to 4, counts clipped by the largest count in any reference, the brevity penalty from the closest
/// reference length (ties go to the shorter one), and sacrebleu's default 'exp' smoothing (an order
/// with no match counts as 1 / (2^k · total), k counting such orders). Scores are in 0...100.
public struct BLEU: Codable, Equatable, Sendable, CustomStringConvertible {
    /// BLEU × 100.
    public var score: Double
    /// Modified n-gram precisions × 100, orders 1...4.
    public var precisions: [Double]
    /// exp(1 − r/c) when the hypotheses (length c) are shorter than the references (length r), else 1.
    public var brevityPenalty: Double
    /// Total hypothesis and (closest) reference lengths, in tokens.
    public var hypothesisLength: Int, referenceLength: Int
    /// Clipped matches and hypothesis n-grams per order.
    public var matches: [Int], totals: [Int]

    /// The longest n-gram counted (BLEU-4).
    public static let maxOrder = 4

    public var description: String {
        String(format: "BLEU %.2f (%@; BP %.3f, ratio %.3f, hyp %d, ref %d)", score,
               precisions.map { String(format: "%.1f", $0) }.joined(separator: "/"), brevityPenalty,
               referenceLength > 0 ? Double(hypothesisLength) / Double(referenceLength) : 0, hypothesisLength, referenceLength)
    }

    /// - Parameters:
    ///   - hypotheses: one token list per segment.
    ///   - references: for every segment, one or more reference token lists.
    public static func corpus(hypotheses: [[String]], references: [[[String]]]) -> BLEU {
        precondition(hypotheses.count == references.count, "BLEU: \(hypotheses.count) hypotheses for \(references.count) reference sets")
        var matches = [Int](repeating: 0, count: maxOrder), totals = [Int](repeating: 0, count: maxOrder)
        var hypLength = 0, refLength = 0
        for (hyp, refs) in zip(hypotheses, references) {
            hypLength += hyp.count
            var closest = Int.max, closestDiff = Int.max
            for r in refs {
                let diff = abs(r.count - hyp.count)
                if diff < closestDiff || (diff == closestDiff && r.count < closest) { closest = r.count; closestDiff = diff }
            }
            refLength += refs.isEmpty ? 0 : closest
            for n in 1...maxOrder {
                let counts = ngramCounts(hyp, n)
                var maxRef: [ArraySlice<String>: Int] = [:]
                for r in refs { for (g, c) in ngramCounts(r, n) where c > maxRef[g, default: 0] { maxRef[g] = c } }
                totals[n - 1] += max(0, hyp.count - n + 1)
                for (g, c) in counts { matches[n - 1] += min(c, maxRef[g, default: 0]) }
            }
        }
        return compute(matches: matches, totals: totals, hypothesisLength: hypLength, referenceLength: refLength)
    }

    /// The score from sufficient statistics (sacrebleu's `compute_bleu`).
    public static func compute(matches: [Int], totals: [Int], hypothesisLength: Int, referenceLength: Int) -> BLEU {
        var precisions = [Double](repeating: 0, count: maxOrder)
        var smooth = 1.0
        for n in 0..<maxOrder {
            if totals[n] == 0 { break }
            if matches[n] == 0 {
                smooth *= 2
                precisions[n] = 100 / (smooth * Double(totals[n]))
            } else {
                precisions[n] = 100 * Double(matches[n]) / Double(totals[n])
            }
        }
        // sacrebleu's my_log: log(0) is taken as −9999999999, so an order with no n-grams zeroes the score.
        let logSum = precisions.reduce(0.0) { $0 + ($1 == 0 ? -9_999_999_999 : Foundation.log($1)) }
        var bp = 1.0
        if hypothesisLength < referenceLength {
            bp = hypothesisLength > 0 ? Foundation.exp(1 - Double(referenceLength) / Double(hypothesisLength)) : 0
        }
        let score = bp * Foundation.exp(logSum / Double(maxOrder))
        return BLEU(score: score, precisions: precisions, brevityPenalty: bp, hypothesisLength: hypothesisLength,
                    referenceLength: referenceLength, matches: matches, totals: totals)
    }

    static func ngramCounts(_ tokens: [String], _ n: Int) -> [ArraySlice<String>: Int] {
        var counts: [ArraySlice<String>: Int] = [:]
        guard tokens.count >= n else { return counts }
        for i in 0...(tokens.count - n) { counts[tokens[i..<(i + n)], default: 0] += 1 }
        return counts
    }
}
