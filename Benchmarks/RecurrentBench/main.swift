import Foundation
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
//   recurrent-bench [--config NAME[,NAME…]]… [--mode train|infer|all] [--repeats N] [--warmup N] [--json] [--no-reference] [--no-peak] [--cpu-time] [--precision fp32,bf16,int8]

/// Writes `text` to standard error (through FileHandle: the C `stderr` is not Sendable).
func printError(_ text: String) { FileHandle.standardError.write(Data(text.utf8)) }

func usage() -> Never {
    let names = allConfigs.map(\.name).joined(separator: ", ")
    printError("""
    usage: recurrent-bench [--config NAME[,NAME…]]… [--mode train|infer|all] [--repeats N] [--warmup N] [--json] [--no-reference] [--no-peak] [--cpu-time] [--precision fp32,bf16,int8]
    configurations: \(names)
    only when named: \(extraConfigs.map(\.name).joined(separator: ", "))

    """)
    exit(2)
}

func parseOptions(_ args: [String]) -> (options: BenchmarkOptions, json: Bool, peak: Bool) {
    var o = BenchmarkOptions()
    var json = false, peak = true
    var i = 0
    func value() -> String {
        i += 1
        guard i < args.count else { printError("missing value for \(args[i - 1])\n"); usage() }
        return args[i]
    }
    while i < args.count {
        switch args[i] {
        case "--config": o.configs += value().split(separator: ",").map(String.init)
        case "--repeats": guard let n = Int(value()), n > 0 else { printError("--repeats needs a positive integer\n"); usage() }; o.repeats = n
        case "--warmup": guard let n = Int(value()), n >= 0 else { printError("--warmup needs a non-negative integer\n"); usage() }; o.warmup = n
        case "--json": json = true
        case "--no-reference": o.reference = false
        case "--no-peak": peak = false
        case "--cpu-time": o.cpuTime = true
        case "--precision":
            let names = value().split(separator: ",").map(String.init)
            let precisions = names.compactMap(Precision.init(rawValue:))
            guard precisions.count == names.count, !precisions.isEmpty else { printError("--precision takes fp32, bf16 and/or int8\n"); usage() }
            o.precisions = precisions
        case "--mode":
            let m = value()
            guard ["train", "infer", "all"].contains(m) else { printError("--mode must be train, infer or all\n"); usage() }
            o.modes = m == "all" ? ["train", "infer"] : [m]
        case "-h", "--help": usage()
        default: printError("unknown argument \(args[i])\n"); usage()
        }
        i += 1
    }
    for name in o.unknownConfigs { printError("unknown configuration '\(name)'\n"); usage() }
    return (o, json, peak)
}

ProcessEnvironment.reexecuteWithLibrarySettings()   // as the `recurrent` command does (see its documentation)
ProcessEnvironment.exitIfInstructionSetIsInvalid()  // RECURRENT_ISA names a kernel path this processor runs, or none
var (options, json, measurePeak) = parseOptions(Array(CommandLine.arguments.dropFirst()))
let machine = MachineReport.read(measurePeak: measurePeak)
options.peakGflops = machine.peak?.allCores
if !json {
    print("recurrent-bench: " + benchmarkHeader(options))
    for line in machine.lines { print(line) }
}
let results = runBenchmarks(options) { r in
    if !json { print(r.line); fflush(nil) }   // fflush(nil): every stream; `stdout` is not Sendable
}
if json { print(benchmarkJSON(options, results, machine: machine)) }
