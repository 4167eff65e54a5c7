import Recurrent
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// What the benchmark ran on: the CPU model, the kernels the layers chose, the FMA peak measured in this
// process, and the time the hypervisor took from this machine's vCPUs while it ran (steal).

/// The processor, as /proc/cpuinfo (Linux) or sysctl (macOS) names it.
public struct CPUModel: Sendable {
    /// "AMD EPYC 7B13", "Apple M2", … ("unknown" when the system does not say).
    public let name: String
    /// x86 family and model numbers in decimal ("family 25 model 1"; empty elsewhere).
    public let familyModel: String
    /// Whether the processor has AVX-512F.
    public let avx512: Bool

    /// Reads the model of this machine's first processor.
    public static func read() -> CPUModel {
        #if os(Linux)
        var fields: [String: String] = [:]
        if let f = fopen("/proc/cpuinfo", "r") {
            defer { fclose(f) }
            var line = [CChar](repeating: 0, count: 8192)
            while fgets(&line, Int32(line.count), f) != nil {
                let s = line.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
                if s == "\n" { break }                              // the first processor only
                guard let colon = s.firstIndex(of: ":") else { continue }
                let key = trimmed(s[..<colon]), value = trimmed(s[s.index(after: colon)...])
                fields[key] = value
            }
        }
        let familyModel = [fields["cpu family"].map { "family \($0)" }, fields["model"].map { "model \($0)" }].compactMap { $0 }
        return CPUModel(name: fields["model name"] ?? "unknown", familyModel: familyModel.joined(separator: " "),
                        avx512: (fields["flags"] ?? "").split(separator: " ").contains("avx512f"))
        #elseif canImport(Darwin)
        var size = 0
        sysctlbyname("machdep.cpu.brand_string", nil, &size, nil, 0)
        var bytes = [CChar](repeating: 0, count: max(size, 1))
        let name = size > 0 && sysctlbyname("machdep.cpu.brand_string", &bytes, &size, nil, 0) == 0 ? String(cString: bytes) : "unknown"
        return CPUModel(name: name, familyModel: "", avx512: false)
        #else
        return CPUModel(name: "unknown", familyModel: "", avx512: false)
        #endif
    }

    /// One line: the name, then family and model where known.
    public var description: String { familyModel.isEmpty ? name : "\(name) (\(familyModel))" }
}

/// All CPUs' steal and total time so far, in clock ticks (Linux /proc/stat; zeros elsewhere): the time the
/// hypervisor ran something else while this machine's vCPUs wanted to run.
struct CPUTicks {
    var steal = 0.0, total = 0.0

    static func read() -> CPUTicks {
        #if os(Linux)
        guard let f = fopen("/proc/stat", "r") else { return CPUTicks() }
        defer { fclose(f) }
        var line = [CChar](repeating: 0, count: 512)
        guard fgets(&line, Int32(line.count), f) != nil else { return CPUTicks() }
        // cpu user nice system idle iowait irq softirq steal guest guest_nice (guest time is inside user).
        let values = line.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }.split(separator: " ").dropFirst().prefix(8).compactMap { Double($0) }
        guard values.count == 8 else { return CPUTicks() }
        return CPUTicks(steal: values[7], total: values.reduce(0, +))
        #else
        return CPUTicks()
        #endif
    }

    /// The share of the time between `earlier` and self that was stolen (nan without the counters).
    func stealFraction(since earlier: CPUTicks) -> Double {
        total > earlier.total ? (steal - earlier.steal) / (total - earlier.total) : .nan
    }
}

/// The machine lines of a report: CPU model, kernel path, and the FMA peak (measured when asked).
public struct MachineReport: Sendable {
    /// The processor.
    public let cpu: CPUModel
    /// `KernelPath.description`: the kernels the fused layers run here.
    public let kernelPath: String
    /// The fp32 FMA peak of the widest vector loop, measured in this process (nil: not measured or no such loop).
    public let peak: MachinePeak?
    /// The AVX2 peak too where the widest loop is AVX-512 (what the AVX2 kernels can reach).
    public let avx2Peak: MachinePeak?

    /// Reads the CPU model and kernel path, and measures the peak when `measurePeak`.
    public static func read(measurePeak: Bool) -> MachineReport {
        let peak = measurePeak ? MachinePeak.measure() : nil
        let avx2 = measurePeak && peak?.instructionSet == "avx512f" ? MachinePeak.measure(widest: false) : nil
        return MachineReport(cpu: .read(), kernelPath: KernelPath.description, peak: peak, avx2Peak: avx2)
    }

    /// The lines printed above the table.
    public var lines: [String] {
        var out = ["cpu: \(cpu.description)\(cpu.avx512 ? ", avx512f" : "")", "kernel path: \(kernelPath)"]
        for p in [peak, avx2Peak].compactMap({ $0 }) {
            out.append("fp32 FMA peak (\(p.instructionSet)): \(fmt(p.allCores, 0, 1)) GFLOP/s on \(p.perCore.count) cores at once ("
                       + p.perCore.map { fmt($0, 0, 1) }.joined(separator: " + ") + "), \(fmt(p.oneCore, 0, 1)) on one core alone")
        }
        if peak == nil { out.append("fp32 FMA peak: not measured") }
        return out
    }

    /// The machine as a JSON object.
    public var json: String {
        func peakJSON(_ p: MachinePeak?) -> String {
            guard let p else { return "null" }
            return "{\"isa\":\"\(p.instructionSet)\",\"gflops\":\(p.allCores),\"one_core_gflops\":\(p.oneCore),"
                + "\"per_core_gflops\":[\(p.perCore.map { String($0) }.joined(separator: ","))]}"
        }
        let name = String(cpu.name.filter { $0 != "\"" && $0 != "\\" })
        return "{\"cpu\":\"\(name)\",\"family_model\":\"\(cpu.familyModel)\",\"avx512f\":\(cpu.avx512),"
            + "\"kernel_path\":\"\(kernelPath)\",\"peak\":\(peakJSON(peak)),\"avx2_peak\":\(peakJSON(avx2Peak))}"
    }
}

/// `s` without leading and trailing spaces, tabs and newlines.
func trimmed(_ s: Substring) -> String {
    String(s.drop { " \t\n".contains($0) }.reversed().drop { " \t\n".contains($0) }.reversed())
}
