/// Synthetic sequence-to-sequence tasks that an encoder-decoder can only solve for long inputs by
/// looking back at the source (attention): reversing or sorting sequences of symbols.
public enum SyntheticTask: String, Sendable, CaseIterable, Codable {
    /// The source reversed; the source sorted.
    case reverse, sort

    /// `count` random pairs with lengths uniform in `lengths`, over `symbols` symbols named a, b, c, …
    /// (at most 26), from a generator seeded by `seed` (same seed, same pairs).
    public func pairs(count: Int, lengths: ClosedRange<Int>, symbols: Int, seed: UInt64) -> [SentencePair] {
        precondition(symbols >= 2 && symbols <= 26 && lengths.lowerBound >= 1, "SyntheticTask: 2...26 symbols and positive lengths")
        let names = (0..<symbols).map { String(UnicodeScalar(UInt8(97 + $0))) }
        var generator = SplitMix(seed: seed)
        return (0..<count).map { _ in
            let n = lengths.lowerBound + Int(generator.next() % UInt64(lengths.count))
            let ids = (0..<n).map { _ in Int(generator.next() % UInt64(symbols)) }
            let target = self == .reverse ? Array(ids.reversed()) : ids.sorted()
            return SentencePair(source: ids.map { names[$0] }, target: target.map { names[$0] })
        }
    }

    /// Train, validation and test pairs drawn independently (seeds `seed`, `seed + 1`, `seed + 2`).
    public func corpus(train: Int, validation: Int, test: Int, lengths: ClosedRange<Int>, symbols: Int, seed: UInt64) -> ParallelCorpus {
        ParallelCorpus(train: pairs(count: train, lengths: lengths, symbols: symbols, seed: seed),
                       validation: pairs(count: validation, lengths: lengths, symbols: symbols, seed: seed &+ 1),
                       test: pairs(count: test, lengths: lengths, symbols: symbols, seed: seed &+ 2))
    }
}
