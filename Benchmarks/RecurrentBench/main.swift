import Recurrent
import RecurrentPresentation
import RecurrentBenchmarks
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// recurrent-bench: tokens/s, GFLOP/s of useful work, that as a fraction of sgemm's at the same
// shapes, and peak memory, for each configuration (Benchmarks/RecurrentBenchmarks, docs/BENCHMARKS.md).
// The same runs as `recurrent bench`, without the CLI's other commands (Benchmarks/compare_torch.py runs this).
//
//   recurrent-bench [--config NAME[,NAME…]]… [--mode train|infer|all] [--repeats N] [--warmup N] [--json] [--no-reference] [--cpu-time]

func usage() -> Never {
    let names = allConfigs.map(\.name).joined(separator: ", ")
    fputs("""
    usage: recurrent-bench [--config NAME[,NAME…]]… [--mode train|infer|all] [--repeats N] [--warmup N] [--json] [--no-reference] [--cpu-time]
    configurations: \(names)

    """, stderr)
    exit(2)
}

func parseOptions(_ args: [String]) -> (options: BenchmarkOptions, json: Bool) {
    var o = BenchmarkOptions()
    var json = false
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
        case "--json": json = true
        case "--no-reference": o.reference = false
        case "--cpu-time": o.cpuTime = true
        case "--mode":
            let m = value()
            guard ["train", "infer", "all"].contains(m) else { fputs("--mode must be train, infer or all\n", stderr); usage() }
            o.modes = m == "all" ? ["train", "infer"] : [m]
        case "-h", "--help": usage()
        default: fputs("unknown argument \(args[i])\n", stderr); usage()
        }
        i += 1
    }
    for name in o.unknownConfigs { fputs("unknown configuration '\(name)'\n", stderr); usage() }
    return (o, json)
}

ProcessEnvironment.reexecuteWithLibrarySettings()   // as the `recurrent` command does (see its documentation)
let (options, json) = parseOptions(Array(CommandLine.arguments.dropFirst()))
if !json { print("recurrent-bench: " + benchmarkHeader(options)) }
let results = runBenchmarks(options) { r in
    if !json { print(r.line); fflush(stdout) }
}
if json { print(benchmarkJSON(options, results)) }
