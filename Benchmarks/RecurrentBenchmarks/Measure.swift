import Recurrent
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Timing, statistics, peak memory, and the sgemm reference the achieved GFLOP/s are compared with.

/// Which clock a benchmark reads: wall time (default), or the process's CPU time (`--cpu-time`: on a
/// shared machine with OPENBLAS_NUM_THREADS=1 this compares code changes without other jobs' interference).
enum BenchmarkClock {
    case wall, processCPU

    /// Seconds on this clock.
    func now() -> Double {
        var ts = timespec()
        clock_gettime(self == .processCPU ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }
}

/// Runs `body` `warmup` times untimed, then `repeats` times timed on `clock`; the seconds of each timed run.
func timeRuns(warmup: Int, repeats: Int, clock: BenchmarkClock, _ body: () -> Void) -> [Double] {
    for _ in 0..<warmup { body() }
    var times: [Double] = []
    for _ in 0..<repeats {
        let start = clock.now()
        body()
        times.append(clock.now() - start)
    }
    return times
}

/// The process's CPU-seconds so far (user + system, every thread, getrusage) and the monotonic wall clock.
struct ProcessUsage {
    let cpu: Double, wall: Double

    static func read() -> ProcessUsage {
        var u = rusage()
        #if os(Linux)
        getrusage(RUSAGE_SELF.rawValue, &u)
        #else
        getrusage(RUSAGE_SELF, &u)
        #endif
        func s(_ t: timeval) -> Double { Double(t.tv_sec) + 1e-6 * Double(t.tv_usec) }
        return ProcessUsage(cpu: s(u.ru_utime) + s(u.ru_stime), wall: BenchmarkClock.wall.now())
    }
}

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    guard !s.isEmpty else { return .nan }
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

/// Resets the kernel's peak-RSS counter (VmHWM) so each configuration reports its own peak (Linux).
func resetPeakMemory() {
    #if os(Linux)
    // Freed blocks of the previous measurement stay mapped otherwise: the fused layers' scratch cache
    // (up to the peak of the training phase before an inference one) and glibc's free memory.
    releaseCachedRecurrentBuffers()
    RuntimeTuning.releaseFreeMemory()
    if let f = fopen("/proc/self/clear_refs", "w") { fputs("5", f); fclose(f) }
    #endif
}

/// Peak resident set size in bytes: VmHWM from /proc/self/status, else getrusage's maxrss.
func peakMemoryBytes() -> Int {
    #if os(Linux)
    if let f = fopen("/proc/self/status", "r") {
        defer { fclose(f) }
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, Int32(line.count), f) != nil {
            let s = String(cString: line)
            if s.hasPrefix("VmHWM:") {
                let digits = s.filter(\.isNumber)
                if let kb = Int(digits) { return kb * 1024 }
            }
        }
    }
    #endif
    var usage = rusage()
    #if os(Linux)
    getrusage(RUSAGE_SELF.rawValue, &usage)
    #else
    getrusage(RUSAGE_SELF, &usage)
    #endif
    #if os(Linux)
    return Int(usage.ru_maxrss) * 1024
    #else
    return Int(usage.ru_maxrss)
    #endif
}

/// One GEMM of the reference schedule: C (m×n) = A (m×k) · op(B), `times` calls.
struct GemmShape {
    let m: Int, n: Int, k: Int, transA: Bool, transB: Bool, times: Int
    var flops: Double { 2 * Double(m) * Double(n) * Double(k) * Double(times) }
}

/// The sgemm calls a layer's useful work amounts to, at the shapes the layer would use them:
/// per layer and direction the input projection over all steps and one recurrent product per step;
/// for training also ∂h per step, ∂x over all steps and the two weight gradients over all steps.
func referenceGemms(_ c: BenchConfig, train: Bool) -> [GemmShape] {
    let G = c.kind.gateCount, H = c.hiddenSize, D = c.directions, T = c.steps, B = c.batch
    var shapes: [GemmShape] = []
    for l in 0..<c.layers {
        let I = l == 0 ? c.inputSize : D * H
        for _ in 0..<D {
            shapes.append(GemmShape(m: T * B, n: G * H, k: I, transA: false, transB: true, times: 1))
            shapes.append(GemmShape(m: B, n: G * H, k: H, transA: false, transB: true, times: T))
            if train {
                shapes.append(GemmShape(m: B, n: H, k: G * H, transA: false, transB: false, times: T))
                shapes.append(GemmShape(m: T * B, n: I, k: G * H, transA: false, transB: false, times: 1))
                shapes.append(GemmShape(m: G * H, n: I, k: T * B, transA: true, transB: false, times: 1))
                shapes.append(GemmShape(m: G * H, n: H, k: T * B, transA: true, transB: false, times: 1))
            }
        }
    }
    if c.workload == .sample {   // batch 1, one token per call: the products run `steps` times each
        shapes = []
        for l in 0..<c.layers {
            let I = l == 0 ? c.inputSize : H
            shapes.append(GemmShape(m: 1, n: G * H, k: I, transA: false, transB: true, times: T))
            shapes.append(GemmShape(m: 1, n: G * H, k: H, transA: false, transB: true, times: T))
        }
        shapes.append(GemmShape(m: 1, n: c.vocabulary, k: H, transA: false, transB: true, times: T))
    }
    return shapes
}

/// Median seconds of running the reference schedule through the library's sgemm (OpenBLAS).
func referenceGemmSeconds(_ shapes: [GemmShape], warmup: Int, repeats: Int, clock: BenchmarkClock) -> Double {
    // Separate operands per shape, sized for the largest use, filled with small values.
    var g = RandomGenerator(seed: 7)
    let buffers = shapes.map { s -> (Tensor<Float>, Tensor<Float>, Tensor<Float>) in
        (Tensor<Float>.uniform([s.m * s.k], low: -0.1, high: 0.1, generator: &g),
         Tensor<Float>.uniform([s.k * s.n], low: -0.1, high: 0.1, generator: &g),
         Tensor<Float>.zeros([s.m * s.n]))
    }
    let times = timeRuns(warmup: warmup, repeats: repeats, clock: clock) {
        for (s, (a, b, c)) in zip(shapes, buffers) {
            for _ in 0..<s.times {
                Float.gemm(transA: s.transA, transB: s.transB, m: s.m, n: s.n, k: s.k, alpha: 1,
                           a: a.data, lda: s.transA ? s.m : s.k, b: b.data, ldb: s.transB ? s.k : s.n,
                           beta: 0, c: c.data, ldc: s.n)
            }
        }
    }
    return median(times)
}
