import Foundation
import RecurrentTensor
#if canImport(Glibc)
import Glibc
#endif

/// What a program built on Recurrent does first: re-execute itself once with the environment the
/// libraries want (`RuntimeTuning.environment`: OpenBLAS's short idle spin, glibc's allocator thresholds),
/// which they read only when they load. Values the user set are kept. Linux only; if `execv` fails the
/// program simply continues untuned. A library never does this to its host process: the programs
/// `recurrent` and `recurrent-bench` call it at the top of `main`.
public enum ProcessEnvironment {
    /// Re-executes this program (`/proc/self/exe`, same arguments) with every variable of
    /// `RuntimeTuning.environment` that is unset; returns at once when none is.
    public static func reexecuteWithLibrarySettings() {
        #if os(Linux)
        var changed = false
        for (name, value) in RuntimeTuning.environment where getenv(name) == nil {
            setenv(name, value, 1)
            changed = true
        }
        guard changed else { return }
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        #endif
    }
}
