import Recurrent
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// recurrent-bench: tokens/s, GFLOP/s of useful work, that as a fraction of sgemm's at the same
// shapes, and peak memory, for each configuration (see Configurations.swift and docs/BENCHMARKS.md).
//
//   recurrent-bench [--config NAME[,NAME…]]… [--mode train|infer|all] [--repeats N] [--warmup N] [--json] [--no-reference] [--cpu-time]

struct Options {
    var configs: [String] = []
    var repeats = 10
    var warmup = 3
    var json = false
    var modes: Set<String> = ["train", "infer"]
    var reference = true
}

func usage() -> Never {
    let names = allConfigs.map(\.name).joined(separator: ", ")
    fputs("""
    usage: recurrent-bench [--config NAME[,NAME…]]… [--mode train|infer|all] [--repeats N] [--warmup N] [--json] [--no-reference] [--cpu-time]
    configurations: \(names)

    """, stderr)
    exit(2)
}

func parseOptions(_ args: [String]) -> Options {
    var o = Options()
    var i = 0
    func value() -> String {
        i += 1
        guard i < args.count else { fputs("missing value for \(args[i - 1])\n", stderr); usage() }
        return args[i]
    }
    while i < args.count {
        switch args[i] {
        case "--config": o.configs += value().split(separator: ",").map(String.init)
        case "--repeats": guard let n = Int(value()), n > 0 else { fputs("--repeats needs a positive integer\n", stderr); usage() }; o.repeats = n
        case "--warmup": guard let n = Int(value()), n >= 0 else { fputs("--warmup needs a non-negative integer\n", stderr); usage() }; o.warmup = n
        case "--json": o.json = true
        case "--no-reference": o.reference = false
        case "--cpu-time": useCPUClock = true
        case "--mode":
            let m = value()
            guard ["train", "infer", "all"].contains(m) else { fputs("--mode must be train, infer or all\n", stderr); usage() }
            o.modes = m == "all" ? ["train", "infer"] : [m]
        case "-h", "--help": usage()
        default: fputs("unknown argument \(args[i])\n", stderr); usage()
        }
        i += 1
    }
    for name in o.configs where !allConfigs.contains(where: { $0.name == name }) {
        fputs("unknown configuration '\(name)'\n", stderr); usage()
    }
    return o
}

/// One measured row.
struct Result {
    let config: String, mode: String
    let seconds: Double, times: [Double]
    let tokensPerSecond: Double, gflops: Double
    let sgemmGflops: Double
    let peakBytes: Int
    var sgemmFraction: Double { sgemmGflops > 0 ? gflops / sgemmGflops : .nan }

    var json: String {
        func f(_ x: Double) -> String { x.isFinite ? String(x) : "null" }
        return """
        {"config":"\(config)","mode":"\(mode)","seconds":\(f(seconds)),"tokens_per_s":\(f(tokensPerSecond)),\
        "gflops":\(f(gflops)),"sgemm_gflops":\(f(sgemmGflops)),"sgemm_fraction":\(f(sgemmFraction)),\
        "peak_mb":\(f(Double(peakBytes) / 1_048_576)),"times":[\(times.map(f).joined(separator: ","))]}
        """
    }
}

func run(_ o: Options) -> [Result] {
    let selected = o.configs.isEmpty ? allConfigs : o.configs.map { n in allConfigs.first { $0.name == n }! }
    var results: [Result] = []
    for c in selected {
        var jobs: [(mode: String, flops: Double, body: () -> Void)] = []
        var keep: AnyObject
        resetPeakMemory()                 // each configuration's peak as if it ran alone
        if c.workload == .sample {
            let w = SampleWorkload(c)
            keep = w
            jobs.append(("sample", c.forwardFlops, w.sampleSequence))
        } else {
            let w = LayerWorkload(c)
            keep = w
            if o.modes.contains("train") { jobs.append(("train", c.trainFlops, w.trainStep)) }
            if o.modes.contains("infer") { jobs.append(("infer", c.forwardFlops, w.inferStep)) }
        }
        for job in jobs {
            resetPeakMemory()
            let times = timeRuns(warmup: o.warmup, repeats: o.repeats, job.body)
            let peak = peakMemoryBytes()
            let t = median(times)
            var sgemm = Double.nan
            if o.reference {
                let shapes = referenceGemms(c, train: job.mode == "train")
                let flops = shapes.reduce(0) { $0 + $1.flops }
                sgemm = flops / referenceGemmSeconds(shapes, warmup: max(1, o.warmup), repeats: max(3, o.repeats / 2)) / 1e9
            }
            let r = Result(config: c.name, mode: job.mode, seconds: t, times: times, tokensPerSecond: c.tokens / t,
                           gflops: job.flops / t / 1e9, sgemmGflops: sgemm, peakBytes: peak)
            results.append(r)
            if !o.json {
                let line = "\(c.name.padding(toLength: 20, withPad: " ", startingAt: 0)) \(job.mode.padding(toLength: 6, withPad: " ", startingAt: 0))"
                    + " \(fmt(t * 1e3, 9, 3)) ms  \(fmt(r.tokensPerSecond, 11, 0)) tok/s  \(fmt(r.gflops, 7, 2)) GFLOP/s"
                    + "  \(fmt(r.sgemmFraction * 100, 5, 1))% of sgemm (\(fmt(sgemm, 6, 1)))  peak \(fmt(Double(peak) / 1_048_576, 7, 1)) MB"
                print(line)
                fflush(stdout)
            }
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

BLASThreads.relaunchWithShortIdleSpin()   // as the `recurrent` command does (see its documentation)
let options = parseOptions(Array(CommandLine.arguments.dropFirst()))
let threads = getenv("OPENBLAS_NUM_THREADS").map { String(cString: $0) } ?? "default"
if !options.json {
    print("recurrent-bench: warmup \(options.warmup), repeats \(options.repeats), median; OPENBLAS_NUM_THREADS=\(threads)")
}
let results = run(options)
if options.json {
    print("{\"threads\":\"\(threads)\",\"warmup\":\(options.warmup),\"repeats\":\(options.repeats),\"results\":[")
    print(results.map(\.json).joined(separator: ",\n"))
    print("]}")
}
