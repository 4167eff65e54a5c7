import Foundation
import RecurrentNN
import RecurrentTensor

/// The processes of a data-parallel run as the one training loop sees them (RecurrentDistributed's
/// `DataParallel` is the implementation). Each replica holds the same model, builds its own shard of
/// every global batch, and the replicas' gradients are combined before each update, so that N replicas
/// with batch b compute the update of one process with batch N·b (up to summation order).
///
/// Every method is collective: every replica calls it, in the same order, with values of the same length.
public protocol TrainingReplicas: AnyObject {
    /// This replica's index; replica 0 alone writes the run folder.
    var rank: Int { get }
    /// The number of replicas.
    var count: Int { get }
    /// Element-wise sums over the replicas.
    func sum(_ values: [Double]) throws -> [Double]
    /// Element-wise maxima over the replicas.
    func maximum(_ values: [Double]) throws -> [Double]
    /// Replica 0's bytes, on every replica.
    func broadcast(_ bytes: [UInt8]) throws -> [UInt8]
    /// Every replica's bytes, in rank order.
    func allgather(_ bytes: [UInt8]) throws -> [[UInt8]]
    /// Makes every replica's parameter values replica 0's.
    func broadcastParameters(_ parameters: ParameterBuffer<Float>) throws
    /// Replaces every replica's gradients by their sum over the replicas (each replica has scaled its own
    /// by its share of the global batch, so the sum is the global batch's gradient).
    func sumGradients(_ parameters: ParameterBuffer<Float>) throws
}

extension TrainingReplicas {
    /// This replica's contiguous part of `n` items: sizes differ by at most one, and the last replica's is never empty.
    public func shard(of n: Int) -> Range<Int> { (rank * n / count)..<((rank + 1) * n / count) }
}

/// The part of a validation split one replica scores, and how replicas add up their partial sums
/// (`TrainingTask.evaluate(_:)`). `EvaluationShard.whole` is a single process scoring everything.
public struct EvaluationShard {
    /// This replica's index, 0..<count.
    public let rank: Int
    /// Number of replicas.
    public let count: Int
    private let add: ([Double]) throws -> [Double]

    init(rank: Int, count: Int, add: @escaping ([Double]) throws -> [Double]) {
        self.rank = rank
        self.count = count
        self.add = add
    }

    /// One process, all examples.
    public static var whole: EvaluationShard { EvaluationShard(rank: 0, count: 1) { $0 } }

    /// A shard whose sums are `add` (tests).
    public static func testing(rank: Int, count: Int, add: @escaping ([Double]) throws -> [Double]) -> EvaluationShard {
        EvaluationShard(rank: rank, count: count, add: add)
    }

    init(_ replicas: any TrainingReplicas) {
        self.init(rank: replicas.rank, count: replicas.count) { try replicas.sum($0) }
    }

    /// This replica's contiguous part of `n` examples.
    public func range(of n: Int) -> Range<Int> { (rank * n / count)..<((rank + 1) * n / count) }

    /// Element-wise sums over the replicas (every replica calls it with as many values).
    public func sum(_ values: [Double]) throws -> [Double] { try add(values) }

    /// The whole of a per-example vector of `n` entries whose entries `mine` this replica computed (the
    /// replicas' ranges cover 0..<n without overlap): each places its part in zeros, and the sum puts every part in place.
    public func gather(_ part: [Double], at mine: Range<Int>, count n: Int) throws -> [Double] {
        precondition(part.count == mine.count && mine.upperBound <= n, "EvaluationShard.gather: \(part.count) values at \(mine) of \(n)")
        guard count > 1 else { return part }
        var all = [Double](repeating: 0, count: n)
        all.replaceSubrange(mine, with: part)
        return try add(all)
    }
}
