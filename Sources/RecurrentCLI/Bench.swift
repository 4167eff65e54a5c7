import ArgumentParser
import Foundation
import Recurrent
import RecurrentBenchmarks

extension RecurrentCommand {
    /// `recurrent bench`: the speed benchmark of docs/BENCHMARKS.md on this machine (the runs of `recurrent-bench`).
    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure training, inference and sampling speed on this machine (docs/BENCHMARKS.md).",
            discussion: """
            For each configuration: tokens/s (median of the timed runs after the warm-up), GFLOP/s of useful work (the weight
            products), that as a fraction of what OpenBLAS's sgemm reaches on the same GEMM shapes and of the machine's fp32 FMA
            peak (measured first, in this process, on one core and on both at once), CPU-seconds per token, and peak memory.
            The header names the CPU model and the kernels the layers run.
            Configurations: \(allConfigs.map(\.name).joined(separator: ", ")); run only when named: \(extraConfigs.map(\.name).joined(separator: ", ")).
            Threads: OPENBLAS_NUM_THREADS (printed) and the layers' own two-core split (RECURRENT_NUM_THREADS=1 turns it off);
            compare with PyTorch side by side with `python Benchmarks/compare_torch.py`, which runs `recurrent-bench`, the same
            measurements without the other commands.
            Examples:
              recurrent bench                                           # every configuration, a table
              recurrent bench lstm-256-b32-t50 sample-lstm2-512 --repeats 20 --json
              recurrent bench lstm2-512-b64-t100 sample-lstm2-512 --mode infer --precision fp32 int8 bf16 --cpu-time
            """
        )

        @Argument(help: "Configurations to run (all when none).") var names: [String] = []
        @Option(help: "train, infer or all (layer configurations; sampling has one mode).") var mode = "all"
        @Option(help: "Timed runs per measurement (the median is reported).") var repeats = 10
        @Option(help: "Untimed runs before them.") var warmup = 3
        @Flag(help: "Print JSON instead of a table.") var json = false
        @Flag(name: .customLong("no-reference"), help: "Skip timing sgemm on the same shapes (no \"of sgemm\" column).") var noReference = false
        @Flag(name: .customLong("no-peak"), help: "Skip measuring the machine's FMA peak (no \"of peak\" column).") var noPeak = false
        @Flag(name: .customLong("cpu-time"), help: "Time on the process CPU clock instead of the wall clock (A/B runs on a shared machine).")
        var cpuTime = false
        @Option(parsing: .upToNextOption, help: "Precisions of the inference and sampling rows: fp32 (default), bf16, int8; each one but fp32 adds rows infer-PRECISION / sample-PRECISION.")
        var precision: [Precision] = [.fp32]

        func validate() throws {
            let unknown = names.filter { name in !knownConfigs.contains { $0.name == name } }
            guard unknown.isEmpty else {
                throw ValidationError("unknown configuration \(unknown.map { "'\($0)'" }.joined(separator: ", ")); "
                                      + "known: \(knownConfigs.map(\.name).joined(separator: ", "))")
            }
            guard ["train", "infer", "all"].contains(mode) else { throw ValidationError("--mode must be train, infer or all, got '\(mode)'") }
            guard repeats > 0 else { throw ValidationError("--repeats must be positive, got \(repeats)") }
            guard warmup >= 0 else { throw ValidationError("--warmup must not be negative, got \(warmup)") }
        }

        func run() throws {
            var options = BenchmarkOptions()
            options.configs = names
            options.modes = mode == "all" ? ["train", "infer"] : [mode]
            options.repeats = repeats
            options.warmup = warmup
            options.reference = !noReference
            options.cpuTime = cpuTime
            options.precisions = precision
            let machine = MachineReport.read(measurePeak: !noPeak)
            options.peakGflops = machine.peak?.allCores
            if !json {
                print("recurrent bench: " + benchmarkHeader(options))
                for line in machine.lines { print(line) }
            }
            let results = runBenchmarks(options) { r in
                if !json { print(r.line); fflush(nil) }   // fflush(nil): every stream; `stdout` is not Sendable
            }
            if json { print(benchmarkJSON(options, results, machine: machine)) }
        }
    }
}
