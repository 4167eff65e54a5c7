/// The scalars collective operations carry: `Float` (gradients, parameters) and `Double` (sums of
/// losses and counts).
public protocol CollectiveScalar: BinaryFloatingPoint, Sendable {
    /// Whether the type is Double (MPI_DOUBLE) rather than Float (MPI_FLOAT).
    static var isDouble: Bool { get }
}
extension Float: CollectiveScalar { public static var isDouble: Bool { false } }
extension Double: CollectiveScalar { public static var isDouble: Bool { true } }

/// How `allreduce` combines the replicas' elements.
public enum ReduceOperation: Sendable {
    /// Element-wise sum or maximum over the processes.
    case sum, max
}

/// A fixed set of processes that train together (MPI's communicator): each knows its `rank` in
/// `0..<size`, and every collective operation is called by every process, in the same order, with
/// buffers of the same length. Two implementations: `MPIProcessGroup` (processes started by `mpirun`,
/// on one machine or many) and `SingleProcessGroup` (one process; every operation is the identity).
public protocol ProcessGroup: AnyObject {
    /// This process's index, 0..<size.
    var rank: Int { get }
    /// Number of processes in the group.
    var size: Int { get }
    /// Replaces `buffer` element-wise by the combination over all processes.
    func allreduce<S: CollectiveScalar>(_ buffer: UnsafeMutableBufferPointer<S>, _ operation: ReduceOperation) throws
    /// Copies `root`'s `buffer` into every process's.
    func broadcast(_ buffer: UnsafeMutableRawBufferPointer, root: Int) throws
    /// Every process's `bytes` (the same count everywhere), concatenated in rank order into `result` (count × size).
    func allgather(_ bytes: UnsafeRawBufferPointer, into result: UnsafeMutableRawBufferPointer) throws
    /// Returns when every process has called it.
    func barrier() throws
}

extension ProcessGroup {
    /// `allreduce` of an array.
    public func allreduce<S: CollectiveScalar>(_ values: [S], _ operation: ReduceOperation = .sum) throws -> [S] {
        var values = values
        try values.withUnsafeMutableBufferPointer { try allreduce($0, operation) }
        return values
    }

    /// `root`'s bytes on every process (the others' `bytes` are ignored; the length travels first).
    public func broadcast(_ bytes: [UInt8], root: Int = 0) throws -> [UInt8] {
        var count = [Double(bytes.count)]
        try count.withUnsafeMutableBytes { try broadcast($0, root: root) }
        var result = rank == root ? bytes : [UInt8](repeating: 0, count: Int(count[0]))
        try result.withUnsafeMutableBytes { try broadcast($0, root: root) }
        return result
    }

    /// Every process's bytes, in rank order (lengths may differ: each is padded to the longest).
    public func allgather(_ bytes: [UInt8]) throws -> [[UInt8]] {
        let longest = Int(try allreduce([Double(bytes.count)], .max)[0])
        var lengths = [Double](repeating: 0, count: size)
        lengths[rank] = Double(bytes.count)
        lengths = try allreduce(lengths, .sum)
        let padded = bytes + [UInt8](repeating: 0, count: longest - bytes.count)
        var all = [UInt8](repeating: 0, count: longest * size)
        try padded.withUnsafeBytes { source in try all.withUnsafeMutableBytes { try allgather(source, into: $0) } }
        return (0..<size).map { r in Array(all[(r * longest)..<(r * longest + Int(lengths[r]))]) }
    }
}

/// The group of one process: what a run without `mpirun` trains with.
public final class SingleProcessGroup: ProcessGroup {
    /// The group of this process alone.
    public init() {}
    /// Always 0.
    public var rank: Int { 0 }
    /// Always 1.
    public var size: Int { 1 }
    public func allreduce<S: CollectiveScalar>(_ buffer: UnsafeMutableBufferPointer<S>, _ operation: ReduceOperation) throws {}
    public func broadcast(_ buffer: UnsafeMutableRawBufferPointer, root: Int) throws {}
    public func allgather(_ bytes: UnsafeRawBufferPointer, into result: UnsafeMutableRawBufferPointer) throws {
        result.copyMemory(from: bytes)
    }
    public func barrier() throws {}
}
