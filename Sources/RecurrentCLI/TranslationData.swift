import ArgumentParser
import Foundation
import RecurrentData

/// The sentence pairs of a translation run, rebuilt from what its checkpoint records about them (the
/// `dataDescription` that `train translate` writes): a synthetic task regenerates its pairs from the
/// recorded sizes and seed, a pair file is read again with the recorded filters and split with the recorded seed.
struct TranslationData {
    let corpus: ParallelCorpus
    /// Every usable pair, before the split.
    let all: [SentencePair]
    /// Pairs the checkpoint says the run read from its file (nil for a synthetic task or an older checkpoint).
    let recordedPairs: Int?

    /// Bounds on a checkpoint's synthetic-task sizes: the fields come from a file, and the pairs are generated in memory.
    static let mostSyntheticPairs = 10_000_000, longestSyntheticSequence = 10_000

    /// - Parameters:
    ///   - description: the checkpoint's extra fields.
    ///   - data: the pair file; needed unless the run was on a synthetic task.
    init(description extra: [String: String], data: String?) throws {
        if let name = extra["synthetic"] {
            guard let task = SyntheticTask(rawValue: name), let symbols = extra["symbols"].flatMap(Int.init),
                  let low = extra["min_symbols"].flatMap(Int.init), let high = extra["max_symbols"].flatMap(Int.init), low >= 1, low <= high,
                  high <= Self.longestSyntheticSequence, (2...26).contains(symbols),
                  let train = extra["synthetic_train"].flatMap(Int.init), (1...Self.mostSyntheticPairs).contains(train),
                  let count = extra["synthetic_eval"].flatMap(Int.init), (1...Self.mostSyntheticPairs).contains(count),
                  let seed = extra["split_seed"].flatMap(UInt64.init) else {
                throw ValidationError("the checkpoint's synthetic-task description is incomplete or out of range")
            }
            corpus = task.corpus(train: train, validation: count, test: count, lengths: low...high, symbols: symbols, seed: seed)
            all = corpus.train + corpus.validation + corpus.test
            recordedPairs = nil
        } else {
            guard let data else { throw ValidationError("--data is needed: the checkpoint was trained on a pair file") }
            guard let maxTokens = extra["max_length"].flatMap(Int.init), let maxPairs = extra["max_pairs"].flatMap(Int.init),
                  let seed = extra["split_seed"].flatMap(UInt64.init) else {
                throw ValidationError("the checkpoint records no split seed and filters")
            }
            all = try ParallelCorpus.readPairs(path: data, maxLength: maxTokens, maxPairs: maxPairs)
            corpus = ParallelCorpus(splitting: all, seed: seed)
            recordedPairs = extra["pairs"].flatMap(Int.init)
        }
    }
}
