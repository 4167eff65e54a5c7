import CRecurrentKernels
#if canImport(Glibc)
import Glibc
#endif

/// Settings of the process that the libraries below read only when they load, so a program applies them
/// by re-executing itself once: the library only names them (`environment`); the programs `recurrent` and
/// `recurrent-bench` re-execute themselves with them (RecurrentPresentation's `ProcessEnvironment`).
///
/// * `OPENBLAS_THREAD_TIMEOUT=4`: OpenBLAS's idle workers spin 2^4 cycles, not 2^28, so they leave the
///   split steps' second core alone.
/// * glibc's allocator keeps blocks up to 32 MiB on its heap and up to 1 GiB of freed memory mapped. A
///   training step frees and reallocates the same multi-megabyte tensors at every step; by default glibc
///   serves them with fresh mappings and trims the heap, so every step pays page faults and page clearing
///   again (docs/BENCHMARKS.md). Resident memory then stays near the peak after a big phase. Setting the
///   same values with `mallopt` from `main` did no better than the default, hence the variable.
public enum RuntimeTuning {
    /// The variables and values a program should set (where the user has not) before the libraries load.
    public static let environment: [(name: String, value: String)] = [
        ("OPENBLAS_THREAD_TIMEOUT", "4"),
        ("GLIBC_TUNABLES", "glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=1073741824"),
    ]

    /// Returns the memory the allocator keeps mapped after frees to the system (glibc's `malloc_trim`),
    /// e.g. after training, before a long phase that needs the memory; `recurrent-bench` calls it before
    /// each measurement so that one's peak does not include what the previous one freed.
    public static func releaseFreeMemory() { rk_release_free_memory() }
}
