import RecurrentNN
import RecurrentTensor
import RecurrentTraining

/// Data-parallel training over a `ProcessGroup` (PyTorch DDP's scheme, without the wrapper module):
/// replica 0's parameters are copied to every replica at the start, and before each update every
/// replica's gradients are summed in place, bucket by bucket over the flat gradient buffer.
///
/// The buckets are started as non-blocking all-reduces one after the other and waited for together,
/// so that over a network the transfer of one overlaps the reduction of the next. They are not
/// overlapped with the backward pass: a fused recurrent layer's weight gradients are complete only when
/// its whole backward has run, and docs/DISTRIBUTED.md measures the all-reduce at a small share of a step.
public final class DataParallel: TrainingReplicas {
    public let group: any ProcessGroup
    /// Bytes of gradients per all-reduce (PyTorch DDP's default, 25 MiB).
    public let bucketBytes: Int
    /// Seconds spent in `sumGradients` since the last `resetTimers`, for the scaling measurements.
    public private(set) var allreduceSeconds = 0.0
    /// Bytes this replica sent to `sumGradients` since the last `resetTimers`.
    public private(set) var allreduceBytes = 0

    public init(_ group: any ProcessGroup, bucketBytes: Int = 25 << 20) {
        precondition(bucketBytes >= MemoryLayout<Float>.stride, "DataParallel: a bucket must hold at least one gradient")
        self.group = group
        self.bucketBytes = bucketBytes
    }

    public var rank: Int { group.rank }
    public var count: Int { group.size }

    public func sum(_ values: [Double]) throws -> [Double] { try group.allreduce(values, .sum) }
    public func maximum(_ values: [Double]) throws -> [Double] { try group.allreduce(values, .max) }
    public func broadcast(_ bytes: [UInt8]) throws -> [UInt8] { try group.broadcast(bytes, root: 0) }
    public func allgather(_ bytes: [UInt8]) throws -> [[UInt8]] { try group.allgather(bytes) }

    public func broadcastParameters(_ parameters: ParameterBuffer<Float>) throws {
        try group.broadcast(UnsafeMutableRawBufferPointer(parameters.values), root: 0)
    }

    /// The bucket boundaries over `count` gradients, last parameters first (the order backward finishes them).
    public func buckets(count: Int) -> [Range<Int>] {
        let size = max(1, bucketBytes / MemoryLayout<Float>.stride)
        return stride(from: count, to: 0, by: -size).map { end in max(0, end - size)..<end }
    }

    public func sumGradients(_ parameters: ParameterBuffer<Float>) throws {
        let started = ContinuousClock.now
        let gradients = parameters.gradients
        let pending = try buckets(count: gradients.count).map { range in
            try group.startAllreduce(UnsafeMutableBufferPointer(rebasing: gradients[range]))
        }
        for collective in pending { try collective.wait() }
        let elapsed = ContinuousClock.now - started
        allreduceSeconds += Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        allreduceBytes += gradients.count * MemoryLayout<Float>.stride
    }

    public func resetTimers() {
        allreduceSeconds = 0
        allreduceBytes = 0
    }
}
