import RecurrentDistributed
import RecurrentNN
import RecurrentTensor
import RecurrentTraining
import XCTest

/// The parts of data parallelism that one process can check: shards, buckets, gathers and the
/// single-process group. Two processes are tested through `mpirun` (DataParallelCommandLineTests).
final class DataParallelTests: XCTestCase {
    /// A group of `size` that is rank `rank`, for the arithmetic of shards (no collective is called).
    final class Pretend: TrainingReplicas {
        let rank: Int, count: Int
        init(rank: Int, count: Int) { self.rank = rank; self.count = count }
        func sum(_ values: [Double]) throws -> [Double] { values }
        func maximum(_ values: [Double]) throws -> [Double] { values }
        func broadcast(_ bytes: [UInt8]) throws -> [UInt8] { bytes }
        func allgather(_ bytes: [UInt8]) throws -> [[UInt8]] { [bytes] }
        func broadcastParameters(_ parameters: ParameterBuffer<Float>) throws {}
        func sumGradients(_ parameters: ParameterBuffer<Float>) throws {}
    }

    func testShardsCoverTheBatchOnceInOrderAndDifferByAtMostOne() {
        for count in 1...5 {
            for n in 1...23 {
                let shards = (0..<count).map { Pretend(rank: $0, count: count).shard(of: n) }
                XCTAssertEqual(shards.flatMap { Array($0) }, Array(0..<n), "n \(n), \(count) replicas")
                let sizes = shards.map(\.count)
                XCTAssertLessThanOrEqual(sizes.max()! - sizes.min()!, 1)
                XCTAssertFalse(shards.last!.isEmpty, "the last replica always has rows")
            }
        }
    }

    func testBucketsCoverTheGradientsLastFirst() {
        let parallel = DataParallel(SingleProcessGroup(), bucketBytes: 4 * 10)
        XCTAssertEqual(parallel.buckets(count: 25), [15..<25, 5..<15, 0..<5])
        XCTAssertEqual(parallel.buckets(count: 10), [0..<10])
        XCTAssertEqual(parallel.buckets(count: 0), [])
        XCTAssertEqual(DataParallel(SingleProcessGroup()).buckets(count: 1_000_000), [0..<1_000_000], "25 MiB holds 6.5 M floats")
    }

    func testSingleProcessGroupIsTheIdentity() throws {
        let group = SingleProcessGroup()
        XCTAssertEqual(try group.allreduce([1.5, -2.0] as [Double]), [1.5, -2.0])
        XCTAssertEqual(try group.broadcast([1, 2, 3]), [1, 2, 3])
        XCTAssertEqual(try group.allgather([4, 5]), [[4, 5]])
        let parameters = [Tensor<Float>([1, 2, 3], requiresGrad: true)]
        let buffer = ParameterBuffer(parameters)
        buffer.gradients[1] = 7
        let parallel = DataParallel(group)
        try parallel.sumGradients(buffer)
        XCTAssertEqual(Array(buffer.gradients), [0, 7, 0])
        XCTAssertEqual(parallel.allreduceBytes, 12)
        try parallel.broadcastParameters(buffer)
        XCTAssertEqual(Array(buffer.values), [1, 2, 3])
    }

    func testEvaluationGatherPlacesEachPart() throws {
        // Two replicas' parts, summed as the group would: each part lands at its positions.
        var partial: [[Double]] = []
        for rank in 0..<2 {
            let shard = EvaluationShard.testing(rank: rank, count: 2) { values in partial.append(values); return values }
            let mine = rank == 0 ? 0..<3 : 3..<5
            _ = try shard.gather(mine.map { Double($0 * 10) }, at: mine, count: 5)
        }
        let total = zip(partial[0], partial[1]).map { $0 + $1 }
        XCTAssertEqual(total, [0, 10, 20, 30, 40])
        XCTAssertEqual(try EvaluationShard.whole.gather([1, 2], at: 0..<2, count: 2), [1, 2])
    }
}
