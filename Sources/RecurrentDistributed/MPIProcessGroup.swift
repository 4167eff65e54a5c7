import CMPI
import Foundation

/// What went wrong between the processes of a data-parallel run.
public enum DistributedError: Error, CustomStringConvertible, Equatable {
    /// An MPI call returned an error code.
    case mpi(call: String, message: String)
    /// The processes do not run the same job (another data file, options, vocabulary or build).
    case disagreement(String)

    public var description: String {
        switch self {
        case let .mpi(call, message): "\(call) failed: \(message)"
        case let .disagreement(message): message
        }
    }
}

/// The processes `mpirun` started (Open MPI, or any MPI whose handles the C shim returns), as one
/// `ProcessGroup` over `MPI_COMM_WORLD`. Errors are returned, not fatal, so that they reach the user as
/// messages; a process that dies is noticed by `mpirun`, which ends the others and names it.
public final class MPIProcessGroup: ProcessGroup {
    /// This process's index in `MPI_COMM_WORLD`, 0..<size.
    public let rank: Int
    /// Number of processes in `MPI_COMM_WORLD`.
    public let size: Int
    private let world = recurrent_mpi_comm_world()

    /// Whether this process was started by `mpirun` (Open MPI's or a PMI launcher's variables are set).
    public static var isLaunchedByMPI: Bool {
        let environment = ProcessInfo.processInfo.environment
        return environment["OMPI_COMM_WORLD_SIZE"] != nil || environment["PMI_SIZE"] != nil || environment["PMIX_RANK"] != nil
    }

    /// Initialises MPI (once per process; only the calling thread will make MPI calls).
    public init() throws {
        var provided: Int32 = 0
        try Self.check("MPI_Init_thread", MPI_Init_thread(nil, nil, recurrent_mpi_thread_funneled(), &provided))
        try Self.check("MPI_Comm_set_errhandler", MPI_Comm_set_errhandler(world, recurrent_mpi_errors_return()))
        var rank: Int32 = 0, size: Int32 = 0
        try Self.check("MPI_Comm_rank", MPI_Comm_rank(world, &rank))
        try Self.check("MPI_Comm_size", MPI_Comm_size(world, &size))
        self.rank = Int(rank)
        self.size = Int(size)
    }

    /// Ends MPI for this process; call once, after the last collective operation and before exiting.
    public func finalize() {
        MPI_Finalize()
    }

    /// Ends every process of the job with `code` (for an error this process cannot share with the others).
    public func abort(code: Int32) -> Never {
        MPI_Abort(world, code)
        exit(code)
    }

    private static func datatype<S: CollectiveScalar>(_: S.Type) -> MPI_Datatype {
        S.isDouble ? recurrent_mpi_double() : recurrent_mpi_float()
    }

    private static func check(_ call: String, _ code: Int32) throws {
        guard code != recurrent_mpi_success() else { return }
        var text = [CChar](repeating: 0, count: Int(recurrent_mpi_max_error_string()) + 1)
        var length: Int32 = 0
        MPI_Error_string(code, &text, &length)
        throw DistributedError.mpi(call: call, message: String(decoding: text.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }

    public func allreduce<S: CollectiveScalar>(_ buffer: UnsafeMutableBufferPointer<S>, _ operation: ReduceOperation) throws {
        guard buffer.count > 0 else { return }
        let op = operation == .sum ? recurrent_mpi_sum() : recurrent_mpi_max()
        try Self.check("MPI_Allreduce", MPI_Allreduce(recurrent_mpi_in_place(), buffer.baseAddress, Int32(buffer.count), Self.datatype(S.self), op, world))
    }

    public func broadcast(_ buffer: UnsafeMutableRawBufferPointer, root: Int) throws {
        guard buffer.count > 0 else { return }
        try Self.check("MPI_Bcast", MPI_Bcast(buffer.baseAddress, Int32(buffer.count), recurrent_mpi_byte(), Int32(root), world))
    }

    public func allgather(_ bytes: UnsafeRawBufferPointer, into result: UnsafeMutableRawBufferPointer) throws {
        precondition(result.count == bytes.count * size, "allgather: \(result.count) bytes for \(size) × \(bytes.count)")
        guard bytes.count > 0 else { return }
        try Self.check("MPI_Allgather", MPI_Allgather(bytes.baseAddress, Int32(bytes.count), recurrent_mpi_byte(),
                                                      result.baseAddress, Int32(bytes.count), recurrent_mpi_byte(), world))
    }

    public func barrier() throws {
        try Self.check("MPI_Barrier", MPI_Barrier(world))
    }
}
