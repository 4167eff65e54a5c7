import Foundation
import RecurrentTensor
#if canImport(Glibc)
import Glibc
#endif

/// What a program built on Recurrent does first: re-execute itself once with the environment the
/// libraries want (`RuntimeTuning.environment`: OpenBLAS's short idle spin, glibc's allocator thresholds),
/// which they read only when they load; under mpirun, each process's share of the cores. Values the user set are kept. Linux only; if `execv` fails the
/// program simply continues untuned. A library never does this to its host process: the programs
/// `recurrent` and `recurrent-bench` call it at the top of `main`.
public enum ProcessEnvironment {
    /// Re-executes this program (`/proc/self/exe`, same arguments) with every variable of
    /// `RuntimeTuning.environment` that is unset; returns at once when none is.
    public static func reexecuteWithLibrarySettings() {
        #if os(Linux)
        var changed = false
        var wanted = RuntimeTuning.environment
        // Processes that mpirun starts side by side share the machine's cores: each takes its part.
        if let local = ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_LOCAL_SIZE"].flatMap(Int.init), local > 1 {
            let threads = "\(max(1, ProcessInfo.processInfo.activeProcessorCount / local))"
            wanted += [("OPENBLAS_NUM_THREADS", threads), ("RECURRENT_NUM_THREADS", threads)]
        }
        for (name, value) in wanted where getenv(name) == nil {
            setenv(name, value, 1)
            changed = true
        }
        guard changed else { return }
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        #endif
    }
}
