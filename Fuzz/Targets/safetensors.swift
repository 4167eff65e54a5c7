// libFuzzer target: the safetensors reader (length prefix, JSON header, dtypes, shapes, offsets, data).
// Build and run with Scripts/fuzz.sh; see docs/RELIABILITY.md.
import RecurrentIO

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafetensors(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    // The header alone, then the whole file in both scalar types (conversion paths differ).
    _ = try? Safetensors.decodeHeader(bytes)
    _ = try? Safetensors.decode(bytes, as: Float.self)
    _ = try? Safetensors.decode(bytes, as: Double.self)
    return 0
}
