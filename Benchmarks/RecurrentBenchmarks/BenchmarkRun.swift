import Recurrent
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Runs the configurations and reports tokens/s, GFLOP/s of useful work, that as a fraction of sgemm's at the
// same shapes, and peak memory (docs/BENCHMARKS.md). Shared by `recurrent bench` and `recurrent-bench`.

/// What to run and how to time it.
public struct BenchmarkOptions: Sendable {
    /// Configuration names (`allConfigs`); empty: all of them.
    public var configs: [String] = []
    /// Timed runs per measurement; the median is reported.
    public var repeats = 10
    /// Untimed runs before them.
    public var warmup = 3
    /// "train" and/or "infer" for the layer configurations (sampling configurations have one mode).
    public var modes: Set<String> = ["train", "infer"]
    /// Also time OpenBLAS's sgemm on the same GEMM shapes (the "of sgemm" column).
    public var reference = true
    /// Time on the process CPU clock instead of the wall clock.
    public var cpuTime = false
    /// The machine's fp32 FMA peak (GFLOP/s, `MachineReport`), for the "of peak" column; nil leaves it out.
    public var peakGflops: Double? = nil
    /// Precisions of the inference and sampling runs (`LanguageModel.quantized`): each one other than fp32 adds a
    /// row `infer-int8`, `sample-bf16`, … of the layer quantized from the same weights. Training is fp32 only.
    public var precisions: [Precision] = [.fp32]

    public init() {}

    /// Names in `configs` that are not configurations.
    public var unknownConfigs: [String] { configs.filter { name in !knownConfigs.contains { $0.name == name } } }
}

/// One measured row.
public struct BenchmarkResult: Sendable {
    public let config: String, mode: String
    /// Median seconds of one timed run, and every timed run.
    public let seconds: Double, times: [Double]
    public let tokensPerSecond: Double, gflops: Double
    /// sgemm's GFLOP/s on the same shapes (nan without the reference).
    public let sgemmGflops: Double
    /// The process's peak resident set during the measurement.
    public let peakBytes: Int
    /// The machine's fp32 FMA peak the row is compared with (nan when not measured).
    public let machinePeakGflops: Double
    /// CPU-seconds (user + system, every thread of the process) per token over the warm-up and timed runs, and
    /// wall seconds per token over the same runs.
    public let cpuSecondsPerToken: Double, wallSecondsPerToken: Double
    /// The two-core split's CPU cost over the warm-up and timed runs (`SplitCost`, its guard started afresh for each
    /// measurement): the last estimate, the last measured ratio, the probes run and those over the limit.
    public let splitEstimate: Double?, splitMeasured: Double?, splitProbes: Int, splitProbesOver: Int
    /// The fraction of the regions that could have split which ran on one core (the guard's holds and the back-off;
    /// nan when none could split), and of all CPUs' time the hypervisor took (steal, /proc/stat; nan elsewhere).
    public let oneCoreFraction: Double, stealFraction: Double
    public var sgemmFraction: Double { sgemmGflops > 0 ? gflops / sgemmGflops : .nan }
    /// GFLOP/s as a fraction of the machine's FMA peak.
    public var peakFraction: Double { machinePeakGflops > 0 ? gflops / machinePeakGflops : .nan }
    /// CPU-seconds over wall seconds during the timed runs (2 when both cores were busy throughout).
    public var cores: Double { cpuSecondsPerToken / wallSecondsPerToken }

    public var json: String {
        func f(_ x: Double) -> String { x.isFinite ? String(x) : "null" }
        return """
        {"config":"\(config)","mode":"\(mode)","seconds":\(f(seconds)),"tokens_per_s":\(f(tokensPerSecond)),\
        "gflops":\(f(gflops)),"sgemm_gflops":\(f(sgemmGflops)),"sgemm_fraction":\(f(sgemmFraction)),\
        "machine_peak_gflops":\(f(machinePeakGflops)),"peak_fraction":\(f(peakFraction)),\
        "cpu_s_per_token":\(f(cpuSecondsPerToken)),"wall_s_per_token":\(f(wallSecondsPerToken)),\
        "split_estimate":\(f(splitEstimate ?? .nan)),"split_measured":\(f(splitMeasured ?? .nan)),\
        "split_probes":\(splitProbes),"split_probes_over":\(splitProbesOver),\
        "one_core_fraction":\(f(oneCoreFraction)),"steal_fraction":\(f(stealFraction)),\
        "peak_mb":\(f(Double(peakBytes) / 1_048_576)),"times":[\(times.map(f).joined(separator: ","))]}
        """
    }

    /// The row of the text table.
    public var line: String {
        "\(config.padding(toLength: 20, withPad: " ", startingAt: 0)) \(mode.padding(toLength: max(6, mode.count), withPad: " ", startingAt: 0))"
            + " \(fmt(seconds * 1e3, 9, 3)) ms  \(fmt(tokensPerSecond, 11, 0)) tok/s  \(fmt(gflops, 7, 2)) GFLOP/s"
            + "  \(fmt(sgemmFraction * 100, 5, 1))% of sgemm (\(fmt(sgemmGflops, 6, 1)))  \(fmt(peakFraction * 100, 5, 1))% of peak"
            + "  \(fmt(cpuSecondsPerToken * 1e6, 8, 2)) CPU-µs/tok (\(fmt(cores, 4, 2)) cores, \(fmt(oneCoreFraction * 100, 3, 0))% on one"
            + ", steal \(fmt(stealFraction * 100, 4, 1))%)"
            + "  peak \(fmt(Double(peakBytes) / 1_048_576, 7, 1)) MB"
    }
}

/// OpenBLAS's thread count as the environment sets it ("default" when unset), printed with the results.
public var benchmarkThreads: String { getenv("OPENBLAS_NUM_THREADS").map { String(cString: $0) } ?? "default" }

/// The header line of the text table (ending with the kernel path, `InstructionSet.summary`).
public func benchmarkHeader(_ o: BenchmarkOptions) -> String {
    "warmup \(o.warmup), repeats \(o.repeats), median\(o.cpuTime ? " (CPU time)" : ""); OPENBLAS_NUM_THREADS=\(benchmarkThreads)"
        + "; kernels \(InstructionSet.summary)"
}

/// The whole report as JSON: thread count, kernel path (`InstructionSet.selected`), the machine, warm-up, repeats and every row.
public func benchmarkJSON(_ o: BenchmarkOptions, _ results: [BenchmarkResult], machine: MachineReport? = nil) -> String {
    "{\"threads\":\"\(benchmarkThreads)\",\"kernels\":\"\(InstructionSet.selected.rawValue)\",\"machine\":\(machine?.json ?? "null"),"
        + "\"warmup\":\(o.warmup),\"repeats\":\(o.repeats),\"results\":[\n"
        + results.map(\.json).joined(separator: ",\n") + "\n]}"
}

/// Runs every selected configuration and mode; `onResult` sees each row as soon as it is measured.
/// The names must be known (`BenchmarkOptions.unknownConfigs` empty).
public func runBenchmarks(_ o: BenchmarkOptions, onResult: (BenchmarkResult) -> Void = { _ in }) -> [BenchmarkResult] {
    precondition(o.unknownConfigs.isEmpty, "runBenchmarks: unknown configurations \(o.unknownConfigs)")
    let clock: BenchmarkClock = o.cpuTime ? .processCPU : .wall
    let selected = o.configs.isEmpty ? allConfigs : o.configs.map { n in knownConfigs.first { $0.name == n }! }
    var results: [BenchmarkResult] = []
    for c in selected {
        var jobs: [(mode: String, flops: Double, body: () -> Void)] = []
        var keep: AnyObject
        resetPeakMemory()                 // each configuration's peak as if it ran alone
        if c.workload == .sample {
            let w = SampleWorkload(c)
            keep = w
            for p in o.precisions {
                if p == .fp32 { jobs.append(("sample", c.forwardFlops, w.sampleSequence)); continue }
                let q = QuantizedSampleWorkload(w, precision: p)
                jobs.append(("sample-\(p.rawValue)", c.forwardFlops, q.sampleSequence))
            }
        } else if c.workload == .score {
            let w = ScoreWorkload(c)
            keep = w
            jobs.append(("score", c.forwardFlops, w.scoreText))
        } else {
            let w = LayerWorkload(c)
            keep = w
            if o.modes.contains("train") { jobs.append(("train", c.trainFlops, w.trainStep)) }
            if o.modes.contains("infer") {
                for p in o.precisions {
                    if p == .fp32 { jobs.append(("infer", c.forwardFlops, w.inferStep)); continue }
                    let q = QuantizedLayerWorkload(w, precision: p)
                    jobs.append(("infer-\(p.rawValue)", c.forwardFlops, q.inferStep))
                }
            }
        }
        for job in jobs {
            resetPeakMemory()
            PairParallel.resetSplitCost()
            let before = ProcessUsage.read(), ticks = CPUTicks.read()
            let times = timeRuns(warmup: o.warmup, repeats: o.repeats, clock: clock, job.body)
            let after = ProcessUsage.read(), split = SplitCost.current, steal = CPUTicks.read().stealFraction(since: ticks)
            let timedTokens = c.tokens * Double(o.repeats + o.warmup)
            let peak = peakMemoryBytes()
            let t = median(times)
            var sgemm = Double.nan
            if o.reference {
                let shapes = referenceGemms(c, train: job.mode == "train")       // the same fp32 shapes for every precision
                let flops = shapes.reduce(0) { $0 + $1.flops }
                sgemm = flops / referenceGemmSeconds(shapes, warmup: max(1, o.warmup), repeats: max(3, o.repeats / 2), clock: clock) / 1e9
            }
            let r = BenchmarkResult(config: c.name, mode: job.mode, seconds: t, times: times, tokensPerSecond: c.tokens / t,
                                    gflops: job.flops / t / 1e9, sgemmGflops: sgemm, peakBytes: peak,
                                    machinePeakGflops: o.peakGflops ?? .nan,
                                    cpuSecondsPerToken: (after.cpu - before.cpu) / timedTokens,
                                    wallSecondsPerToken: (after.wall - before.wall) / timedTokens,
                                    splitEstimate: split.estimate, splitMeasured: split.measured,
                                    splitProbes: split.probes, splitProbesOver: split.probesOverLimit,
                                    oneCoreFraction: split.regions > 0 ? Double(split.regionsOnOneCore) / Double(split.regions) : .nan,
                                    stealFraction: steal)
            results.append(r)
            onResult(r)
        }
        _ = keep
    }
    return results
}

func fmt(_ x: Double, _ width: Int, _ decimals: Int) -> String {
    guard x.isFinite else { return String(repeating: " ", count: max(0, width - 3)) + "n/a" }
    var s = decimals == 0 ? String(Int(x.rounded())) : {
        let p = Double(Int(pow(10.0, Double(decimals))))
        let v = (x * p).rounded() / p
        var str = String(v)
        if let dot = str.firstIndex(of: ".") {
            let frac = str.distance(from: dot, to: str.endIndex) - 1
            if frac < decimals { str += String(repeating: "0", count: decimals - frac) }
        }
        return str
    }()
    if s.count < width { s = String(repeating: " ", count: width - s.count) + s }
    return s
}
