import Foundation

/// GNMT's length penalty (Wu et al. 2016): ((5 + length) / 6)^α.
public func lengthPenalty(length: Int, alpha: Double) -> Double {
    alpha == 0 ? 1 : Foundation.pow((5 + Double(length)) / 6, alpha)
}

/// Beam search over any step-wise model.
///
/// Every step scores the `beamWidth` live hypotheses (one row each) over the vocabulary and keeps
/// the 2·`beamWidth` best extensions by total log-probability; those among the first `beamWidth`
/// that end in `eos` are finished (ranked by log-probability / `lengthPenalty`), the others refill the
/// beam. Search stops after `maxLength` tokens, or once `beamWidth` hypotheses have finished and no live
/// one can still beat them (its log-probability over the penalty at `maxLength` bounds its final score,
/// since log-probabilities only fall); unfinished hypotheses fill the n-best list when too few finished.
/// - Parameters:
///   - step: called with, for every new row, the row of the previous call it continues (its parent; the
///     caller reorders its state by them) and the token it feeds; returns row-major log-probabilities
///     (rows × `vocabularySize`) and, optionally, every row's attention weights.
/// - Returns: up to `nBest` hypotheses, best first; ids without `<s>`, ending with `eos` when finished.
public func beamSearch(beamWidth: Int, maxLength: Int, lengthPenalty alpha: Double = 0, nBest: Int = 1, vocabularySize V: Int,
                       bos: Int, eos: Int,
                       step: (_ parents: [Int], _ tokens: [Int]) -> (logProbs: [Double], attention: [[Double]]?)) -> [Translation] {
    precondition(beamWidth >= 1 && nBest >= 1 && maxLength >= 1, "beamSearch: beam width, n-best and maximum length must be positive")
    let nBest = min(nBest, beamWidth)
    var alive = [Translation(ids: [], attention: [], logProbability: 0, score: 0)]
    var parents = [0], tokens = [bos]
    var finished: [Translation] = []
    for _ in 0..<maxLength {
        let (logProbs, attention) = step(parents, tokens)
        precondition(logProbs.count == alive.count * V, "beamSearch: step returned \(logProbs.count) log-probabilities for \(alive.count) rows of \(V)")
        var candidates: [(row: Int, token: Int, total: Double)] = []
        candidates.reserveCapacity(alive.count * V)
        for r in alive.indices { for v in 0..<V { candidates.append((r, v, alive[r].logProbability + logProbs[r * V + v])) } }
        // Best first; ties by row then token so the order is deterministic.
        candidates.sort { ($0.total, -$0.row, -$0.token) > ($1.total, -$1.row, -$1.token) }
        var next: [Translation] = [], nextParents: [Int] = []
        for (rank, c) in candidates.prefix(2 * beamWidth).enumerated() {
            guard c.total > -.infinity else { break }
            var hypothesis = alive[c.row]
            hypothesis.ids.append(c.token)
            hypothesis.logProbability = c.total
            if let attention { hypothesis.attention.append(attention[c.row]) }
            if c.token == eos {
                if rank < beamWidth {
                    hypothesis.score = c.total / lengthPenalty(length: hypothesis.ids.count, alpha: alpha)
                    finished.append(hypothesis)
                }
            } else if next.count < beamWidth {
                next.append(hypothesis)
                nextParents.append(c.row)
            }
        }
        alive = next
        if next.isEmpty { break }
        if finished.count >= beamWidth {
            // A live hypothesis can at best keep its log-probability (it only falls) and reach the
            // largest penalty, at `maxLength`: stop once that cannot enter the best `beamWidth` finished.
            let kth = finished.map(\.score).sorted(by: >)[beamWidth - 1]
            let bound = alive.map { $0.logProbability / lengthPenalty(length: maxLength, alpha: alpha) }.max() ?? -.infinity
            if bound <= kth { break }
        }
        parents = nextParents
        tokens = alive.map { $0.ids.last! }
    }
    if finished.count < nBest {
        for var h in alive {
            h.score = h.logProbability / lengthPenalty(length: h.ids.count, alpha: alpha)
            finished.append(h)
        }
    }
    return Array(finished.sorted { $0.score > $1.score }.prefix(nBest))
}
