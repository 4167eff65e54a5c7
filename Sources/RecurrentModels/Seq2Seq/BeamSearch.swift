import Foundation

/// GNMT's length penalty (Wu et al. 2016): ((5 + length) / 6)^α.
public func lengthPenalty(length: Int, alpha: Double) -> Double {
    alpha == 0 ? 1 : Foundation.pow((5 + Double(length)) / 6, alpha)
}

/// Beam search over any step-wise model, for one source (`beamSearch(sources:…)` with one source).
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
    beamSearch(sources: 1, beamWidth: beamWidth, maxLength: maxLength, lengthPenalty: alpha, nBest: nBest, vocabularySize: V,
               bos: bos, eos: eos, step: step)[0]
}

/// Beam search for several sources at once: each keeps its own beam and stops on its own (as `beamSearch`
/// for one source), but every step scores the live rows of all of them in one call, so a batched model
/// runs one step for the whole batch. Rows are grouped by source, in source order; a source whose search
/// is over has no rows. Each source's result equals what its search alone would give from the same scores.
/// - Parameters:
///   - sources: how many searches; source k starts as row k of the first call (parents `0..<sources`).
///   - step: as for `beamSearch`: the parents index the rows of the previous call (of all sources).
/// - Returns: per source, up to `nBest` hypotheses, best first.
public func beamSearch(sources: Int, beamWidth: Int, maxLength: Int, lengthPenalty alpha: Double = 0, nBest: Int = 1,
                       vocabularySize V: Int, bos: Int, eos: Int,
                       step: (_ parents: [Int], _ tokens: [Int]) -> (logProbs: [Double], attention: [[Double]]?)) -> [[Translation]] {
    precondition(beamWidth >= 1 && nBest >= 1 && maxLength >= 1, "beamSearch: beam width, n-best and maximum length must be positive")
    precondition(sources >= 1, "beamSearch: at least one source")
    var beams = (0..<sources).map { _ in Beam(width: beamWidth, maxLength: maxLength, alpha: alpha, eos: eos) }
    var parents = Array(0..<sources), tokens = [Int](repeating: bos, count: sources)
    var rows = Array(0..<sources)                          // first row of each live source in the current call
    for _ in 0..<maxLength {
        let (logProbs, attention) = step(parents, tokens)
        let live = beams.indices.filter { !beams[$0].isOver }
        let rowCount = live.reduce(0) { $0 + beams[$1].alive.count }
        precondition(logProbs.count == rowCount * V, "beamSearch: step returned \(logProbs.count) log-probabilities for \(rowCount) rows of \(V)")
        var nextParents: [Int] = [], nextTokens: [Int] = [], nextRows = rows
        for k in live {
            let first = rows[k], count = beams[k].alive.count
            let kept = logProbs.withUnsafeBufferPointer { all in
                beams[k].advance(logProbs: UnsafeBufferPointer(rebasing: all[(first * V)..<((first + count) * V)]), vocabularySize: V,
                                 attention: attention.map { Array($0[first..<(first + count)]) })
            }
            guard !beams[k].isOver else { continue }            // its rows leave the batch
            nextRows[k] = nextParents.count
            nextParents += kept.map { first + $0 }
            nextTokens += beams[k].alive.map { $0.ids.last! }
        }
        if beams.allSatisfy(\.isOver) { break }
        (parents, tokens, rows) = (nextParents, nextTokens, nextRows)
    }
    return beams.map { $0.result(nBest: min(nBest, beamWidth)) }
}

/// One source's beam: its live and finished hypotheses.
struct Beam {
    let width: Int, maxLength: Int, alpha: Double, eos: Int
    var alive = [Translation(ids: [], attention: [], logProbability: 0, score: 0)]
    var finished: [Translation] = []
    /// No live hypothesis left, or none that could still enter the best `width` finished ones.
    private(set) var isOver = false

    init(width: Int, maxLength: Int, alpha: Double, eos: Int) {
        (self.width, self.maxLength, self.alpha, self.eos) = (width, maxLength, alpha, eos)
    }

    /// One step: extends the live hypotheses by `logProbs` (alive.count × V, row-major).
    /// - Returns: for each new live hypothesis, the row (index into the previous `alive`) it continues.
    mutating func advance(logProbs: UnsafeBufferPointer<Double>, vocabularySize V: Int, attention: [[Double]]?) -> [Int] {
        var next: [Translation] = [], nextParents: [Int] = []
        for (rank, c) in Self.best(2 * width, of: logProbs, rows: alive.count, vocabularySize: V, base: alive.map(\.logProbability)).enumerated() {
            guard c.total > -.infinity else { break }
            var hypothesis = alive[c.row]
            hypothesis.ids.append(c.token)
            hypothesis.logProbability = c.total
            if let attention { hypothesis.attention.append(attention[c.row]) }
            if c.token == eos {
                if rank < width {
                    hypothesis.score = c.total / lengthPenalty(length: hypothesis.ids.count, alpha: alpha)
                    finished.append(hypothesis)
                }
            } else if next.count < width {
                next.append(hypothesis)
                nextParents.append(c.row)
            }
        }
        alive = next
        if next.isEmpty { isOver = true }
        if finished.count >= width {
            // A live hypothesis can at best keep its log-probability (it only falls) and reach the
            // largest penalty, at `maxLength`: stop once that cannot enter the best `width` finished.
            let kth = finished.map(\.score).sorted(by: >)[width - 1]
            let bound = alive.map { $0.logProbability / lengthPenalty(length: maxLength, alpha: alpha) }.max() ?? -.infinity
            if bound <= kth { isOver = true }
        }
        return nextParents
    }

    /// The `count` best extensions (row, token) by total log-probability base[row] + logProbs[row·V + token],
    /// best first, ties by row then token (a deterministic order). A bounded insertion: linear in rows × V,
    /// where sorting every extension (the former way) cost a sort of rows × V tuples per step.
    static func best(_ count: Int, of logProbs: UnsafeBufferPointer<Double>, rows: Int, vocabularySize V: Int, base: [Double])
        -> [(row: Int, token: Int, total: Double)] {
        var top: [(row: Int, token: Int, total: Double)] = []
        top.reserveCapacity(count + 1)
        // Rows and tokens are visited in increasing order, so an equal total never goes before one already kept.
        for r in 0..<rows {
            for v in 0..<V {
                let total = base[r] + logProbs[r * V + v]
                if top.count == count, !(total > top[count - 1].total) { continue }
                var i = top.count
                while i > 0, total > top[i - 1].total { i -= 1 }
                top.insert((r, v, total), at: i)
                if top.count > count { top.removeLast() }
            }
        }
        return top
    }

    /// Up to `nBest` hypotheses, best first; unfinished ones fill the list when too few finished.
    func result(nBest: Int) -> [Translation] {
        var all = finished
        if all.count < nBest {
            for var h in alive {
                h.score = h.logProbability / lengthPenalty(length: h.ids.count, alpha: alpha)
                all.append(h)
            }
        }
        return Array(all.sorted { $0.score > $1.score }.prefix(nBest))
    }
}
