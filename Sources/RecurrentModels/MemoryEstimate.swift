#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A run that cannot fit in this machine's memory is refused before it allocates anything: otherwise the
/// first allocation that does not fit aborts the process part-way ("failed to allocate … bytes"), a crash
/// rather than a message. The estimates are lower bounds (the largest things training certainly holds), so a
/// refused run could never have run; one that passes may still need more.
public enum MemoryEstimate {
    /// This machine's physical memory in bytes; nil where the system does not say.
    public static var physicalBytes: Double? {
        let pages = sysconf(Int32(_SC_PHYS_PAGES)), pageSize = sysconf(Int32(_SC_PAGESIZE))
        return pages > 0 && pageSize > 0 ? Double(pages) * Double(pageSize) : nil
    }

    /// Training holds every parameter four times (value, gradient and Adam's two moments, in Float) and every
    /// activation of a batch at least twice (its value and its gradient).
    public static func trainingBytes(parameters: Int, activations: Double = 0) -> Double {
        16 * Double(parameters) + 8 * activations
    }

    /// `require(trainingBytes(parameters:activations:), for:)`: refuses to train a model of (at least)
    /// `parameters` on batches of (at least) `activations` values that cannot fit.
    public static func requireTraining(parameters: Int, activations: Double = 0, for what: String) throws {
        try require(trainingBytes(parameters: parameters, activations: activations), for: what)
    }

    /// Throws `TrainingError.badOptions` naming `what` when `bytes` exceed the physical memory.
    public static func require(_ bytes: Double, for what: String) throws {
        guard let physical = physicalBytes, bytes > physical else { return }
        func gigabytes(_ b: Double) -> String { b >= 1e12 ? "\(Int((b / 1e12).rounded())) TB" : "\(Int((b / 1e9).rounded(.up))) GB" }
        throw TrainingError.badOptions("\(what) needs at least \(gigabytes(bytes)) of memory to train; this machine has \(gigabytes(physical))")
    }
}
