import Foundation
import RecurrentTensor

/// Sequences of one split, standardised and with class ids, ready to batch.
public struct EncodedSeries: Sendable {
    /// Standardised sequences, each (Tᵢ, F) row-major.
    public var sequences: [[Float]]
    /// Class ids (empty when unlabelled).
    public var labels: [Int]
    /// Each sequence's origin ("file.ts, line 12"), for predictions and messages.
    public var sources: [String]
    /// F, the features per step.
    public var features: Int

    /// Number of sequences.
    public var count: Int { sequences.count }

    /// Standardises `series` with `scaler` and maps labels through `classIds` (nil: no labels).
    public init(_ series: [LabelledSeries], scaler: FeatureScaler, classIds: [String: Int]?) throws {
        features = scaler.features
        sequences = []; labels = []; sources = []
        for s in series {
            guard s.features == scaler.features else {
                throw DataError.badFile(path: s.source, reason: "\(s.features) features per step, but the model reads \(scaler.features)")
            }
            sequences.append(scaler.apply(s))
            sources.append(s.source)
            if let classIds {
                guard let id = classIds[s.label] else {
                    let known = classIds.sorted { $0.value < $1.value }.map(\.key)
                    throw DataError.badFile(path: s.source, reason: "label '\(s.label)' is not a known class (\(known.prefix(20).joined(separator: " ")))")
                }
                labels.append(id)
            }
        }
    }

    /// The batch of the sequences at `indices`.
    public func batch(_ indices: some Collection<Int>) -> SeriesBatch {
        SeriesBatch(sequences: indices.map { sequences[$0] }, features: features, labels: labels.isEmpty ? [] : indices.map { labels[$0] })
    }

    /// Consecutive batches of at most `size` sequences, in order.
    public func batches(size: Int) -> [SeriesBatch] {
        stride(from: 0, to: count, by: size).map { batch($0..<min($0 + size, count)) }
    }
}

/// A series classification data set: train / validation / test splits of labelled sequences, the class names, and
/// the per-feature standardisation fitted on the training split.
public struct SeriesClassificationData: Sendable {
    /// Class names in id order.
    public let classNames: [String]
    /// The standardisation, fitted on the training split.
    public let scaler: FeatureScaler
    /// The splits as read, before standardisation.
    public let raw: DataSplit<LabelledSeries>
    /// The three splits, standardised, with class ids.
    public let train: EncodedSeries, validation: EncodedSeries, test: EncodedSeries

    /// F, the features per step.
    public var features: Int { scaler.features }

    /// - Parameters:
    ///   - split: the labelled sequences of each split (every one with the same F).
    ///   - classNames: the classes in id order (a checkpoint's, or a `.ts` header's); nil: the training labels,
    ///     numerically sorted when all are integers, else alphabetically.
    ///   - scaler: the standardisation (a checkpoint's); nil: fitted on `split.train`.
    public init(split: DataSplit<LabelledSeries>, classNames: [String]? = nil, scaler: FeatureScaler? = nil) throws {
        guard let first = split.train.first else { throw DataError.badFile(path: "the training data", reason: "no training sequences") }
        for s in split.train + split.validation + split.test where s.features != first.features {
            throw DataError.badFile(path: s.source, reason: "\(s.features) features per step, but \(first.source) has \(first.features)")
        }
        let names = classNames ?? Self.classNames(of: split.train)
        guard names.count >= 2 else {
            throw DataError.badFile(path: first.source, reason: "the training data has only one class ('\(names.first ?? "")'); classification needs at least 2")
        }
        let ids = Dictionary(names.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        let scaler = scaler ?? FeatureScaler(fitting: split.train)
        self.classNames = names
        self.scaler = scaler
        raw = split
        train = try EncodedSeries(split.train, scaler: scaler, classIds: ids)
        validation = try EncodedSeries(split.validation, scaler: scaler, classIds: ids)
        test = try EncodedSeries(split.test, scaler: scaler, classIds: ids)
    }

    /// The distinct labels of `series`: numerically sorted when all are numbers, else alphabetically.
    public static func classNames(of series: [LabelledSeries]) -> [String] {
        let distinct = Array(Set(series.map(\.label)))
        if distinct.allSatisfy({ Double($0) != nil }) { return distinct.sorted { (Double($0)!, $0) < (Double($1)!, $1) } }
        return distinct.sorted()
    }

    /// Training and validation from one labelled set, stratified: each class's sequences are shuffled by `seed` and
    /// `validation` of them (rounded, at least one when the class has two or more) held out; `test` is the test set.
    public static func stratifiedSplit(_ items: [LabelledSeries], test: [LabelledSeries], seed: UInt64, validation: Double) -> DataSplit<LabelledSeries> {
        var byClass: [String: [LabelledSeries]] = [:], order: [String] = []
        for s in items {
            if byClass[s.label] == nil { order.append(s.label) }
            byClass[s.label, default: []].append(s)
        }
        var split = DataSplit<LabelledSeries>(train: [], validation: [], test: [])
        var generator = RandomGenerator(seed: seed)
        for label in order {
            let members = byClass[label]!
            let permutation = generator.permutation(members.count)
            let held = members.count < 2 || validation <= 0 ? 0 : max(1, Int((Double(members.count) * validation).rounded()))
            for (rank, i) in permutation.enumerated() {
                if rank < held { split.validation.append(members[i]) } else { split.train.append(members[i]) }
            }
        }
        split.test = test
        return split
    }
}
