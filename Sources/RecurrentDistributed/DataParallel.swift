import RecurrentNN
import RecurrentTensor
import RecurrentTraining

/// Data-parallel training over a `ProcessGroup` (PyTorch DDP's scheme, without the wrapper module):
/// replica 0's parameters are copied to every replica at the start, and before each update every
/// replica's gradients are summed in place, bucket by bucket over the flat gradient buffer.
///
/// The buckets are blocking all-reduces, one after the other, after the backward pass. Measured here
/// (docs/DISTRIBUTED.md): Open MPI's non-blocking all-reduce took about twice as long as the blocking
/// one for the char-LM's 4.3 MB, and overlapping with the backward pass could save at most the
/// all-reduce's share of a step — a fused recurrent layer's weight gradients are complete only when its
/// whole backward has run, and a process with one core has none free to progress a transfer meanwhile.
public final class DataParallel: TrainingReplicas {
    /// The processes the gradients are averaged over.
    public let group: any ProcessGroup
    /// Bytes of gradients per all-reduce (PyTorch DDP's default, 25 MiB).
    public let bucketBytes: Int
    /// Seconds spent in `sumGradients` since the last `resetTimers`, for the scaling measurements.
    public private(set) var allreduceSeconds = 0.0
    /// Bytes this replica sent to `sumGradients` since the last `resetTimers`.
    public private(set) var allreduceBytes = 0
    /// Seconds spent in `sum` (the per-step loss sums and flags, and evaluation), waiting for the others included.
    public private(set) var sumSeconds = 0.0

    /// - Parameters:
    /// - group: the processes to average over (`MPIProcessGroup`, or `SingleProcessGroup` for one).
    /// - bucketBytes: gradients are all-reduced in buckets of about this many bytes (PyTorch DDP's default, 25 MiB).
    public init(_ group: any ProcessGroup, bucketBytes: Int = 25 << 20) {
        precondition(bucketBytes >= MemoryLayout<Float>.stride, "DataParallel: a bucket must hold at least one gradient")
        self.group = group
        self.bucketBytes = bucketBytes
    }

    public var rank: Int { group.rank }
    public var count: Int { group.size }

    public func sum(_ values: [Double]) throws -> [Double] {
        let started = ContinuousClock.now
        defer { sumSeconds += Self.seconds(since: started) }
        return try group.allreduce(values, .sum)
    }

    private static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    }
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
        for range in buckets(count: gradients.count) {
            try group.allreduce(UnsafeMutableBufferPointer(rebasing: gradients[range]), .sum)
        }
        allreduceSeconds += Self.seconds(since: started)
        allreduceBytes += gradients.count * MemoryLayout<Float>.stride
    }

    /// Sets the byte and time counters (`allreduceBytes`, `allreduceSeconds`, `sumSeconds`) back to zero.
    public func resetTimers() {
        allreduceSeconds = 0
        sumSeconds = 0
        allreduceBytes = 0
    }
}
