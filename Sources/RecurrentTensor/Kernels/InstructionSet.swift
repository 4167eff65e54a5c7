import CRecurrentKernels

/// A family of kernels, by the instructions they use: the Swift SIMD kernels (`generic`, any processor), or the
/// C kernels of CRecurrentKernels/avx2 (AVX2 + FMA) or CRecurrentKernels/avx512 (AVX-512 F, BW and VL).
///
/// The library runs `selected`: the best path the processor supports (`detected`), unless the environment
/// variable `RECURRENT_ISA` (`generic`, `avx2` or `avx512`) names another, e.g. to compare paths. Both are read
/// once, when first used. A value that names no path or one this processor lacks does not stop the library
/// (it runs `detected`); `validateEnvironment()` reports it, and the `recurrent` programs exit with its message.
public enum InstructionSet: String, CaseIterable, Codable, Sendable, Comparable {
    /// The Swift SIMD kernels and the BLAS library: any processor.
    case generic
    /// AVX2 and FMA (x86-64 since Haswell and Zen).
    case avx2
    /// AVX-512 F, BW and VL, with the operating system saving the zmm registers (Skylake-X, Ice Lake, Zen 4 and later).
    case avx512

    /// Processor features that matter to the kernels, each usable (the operating system saves its registers).
    public struct Features: OptionSet, Sendable, Hashable {
        /// The raw bits (`RK_FEATURE_*` of RecurrentKernels.h).
        public let rawValue: UInt32
        /// Features from their bits.
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        /// AVX2 and FMA.
        public static let avx2FMA = Features(rawValue: UInt32(RK_FEATURE_AVX2_FMA))
        /// AVX-512 Foundation.
        public static let avx512F = Features(rawValue: UInt32(RK_FEATURE_AVX512F))
        /// AVX-512 byte and word instructions.
        public static let avx512BW = Features(rawValue: UInt32(RK_FEATURE_AVX512BW))
        /// AVX-512 on 128- and 256-bit registers (vector length extensions).
        public static let avx512VL = Features(rawValue: UInt32(RK_FEATURE_AVX512VL))
        /// AVX-512 VNNI: int8 and int16 dot products (quantized inference).
        public static let avx512VNNI = Features(rawValue: UInt32(RK_FEATURE_AVX512VNNI))
        /// AVX-512 BF16: bfloat16 conversions and dot products.
        public static let avx512BF16 = Features(rawValue: UInt32(RK_FEATURE_AVX512BF16))
    }

    /// This processor's features, read once.
    public static let features = Features(rawValue: UInt32(rk_isa_features()))

    /// The best path this processor supports.
    public static let detected = InstructionSet(code: rk_isa_detected()) ?? .generic

    /// Every path this processor can run, `generic` first and `detected` last (each path's processors run those below it).
    public static let supported = allCases.filter { $0 <= detected }

    /// `detected`, or the path `RECURRENT_ISA` names; an error when that value is unknown or names a path this processor lacks.
    public static let selection: Result<InstructionSet, InstructionSetError> = {
        let code = rk_isa_selected()
        let requested = rk_isa_requested().map { String(cString: $0) } ?? ""
        if let path = InstructionSet(code: code) { return .success(path) }
        if code == Int32(RK_ISA_ERROR_UNSUPPORTED), let path = InstructionSet(rawValue: requested) {
            return .failure(.unsupported(path, detected: detected))
        }
        return .failure(.unknown(requested))
    }()

    /// The path the library's kernels take: `selection`, or `detected` when `RECURRENT_ISA` is invalid.
    public static let selected: InstructionSet = (try? selection.get()) ?? detected

    /// Throws when `RECURRENT_ISA` names no path or one this processor lacks (the library then runs `detected`).
    public static func validateEnvironment() throws(InstructionSetError) {
        if case .failure(let error) = selection { throw error }
    }

    /// Whether this processor can run the path.
    public var isSupported: Bool { self <= Self.detected }

    /// A line for reports: the selected path, the features beyond it that other kernels use (VNNI, BF16), and how it
    /// was chosen, e.g. "avx512 (VNNI)" or "generic (RECURRENT_ISA; detected avx2)".
    public static var summary: String {
        var notes: [String] = []
        if features.contains(.avx512VNNI) { notes.append("VNNI") }
        if features.contains(.avx512BF16) { notes.append("BF16") }
        if selected != detected { notes.append("RECURRENT_ISA; detected \(detected.rawValue)") }
        return selected.rawValue + (notes.isEmpty ? "" : " (\(notes.joined(separator: ", ")))")
    }

    /// Paths are ordered by what they need: a processor that runs one runs those below it.
    public static func < (a: InstructionSet, b: InstructionSet) -> Bool { a.code < b.code }

    var code: Int32 {
        switch self {
        case .generic: Int32(RK_ISA_GENERIC)
        case .avx2: Int32(RK_ISA_AVX2)
        case .avx512: Int32(RK_ISA_AVX512)
        }
    }

    init?(code: Int32) {
        guard let path = Self.allCases.first(where: { $0.code == code }) else { return nil }
        self = path
    }
}

/// Why `RECURRENT_ISA` cannot be followed.
public enum InstructionSetError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The value names no path.
    case unknown(String)
    /// The path needs instructions this processor (or its operating system) lacks.
    case unsupported(InstructionSet, detected: InstructionSet)

    /// What went wrong, naming the variable and the values it takes.
    public var description: String {
        let supported = InstructionSet.supported.reversed().map(\.rawValue).joined(separator: ", ")
        switch self {
        case .unknown(let value):
            return "RECURRENT_ISA=\(value) names no kernel path; use one of avx512, avx2, generic (this processor runs \(supported))"
        case .unsupported(let path, let detected):
            return "RECURRENT_ISA=\(path.rawValue): this processor does not support \(path.rawValue) (best: \(detected.rawValue); "
                + "it runs \(supported))"
        }
    }
}
