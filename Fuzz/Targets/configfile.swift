// libFuzzer target: `--config FILE` (JSON or YAML options, parsed with Yams/libyaml) as the CLI reads
// it. Built together with Sources/RecurrentCLI/ConfigFile.swift, ArgumentParser and Yams (see Scripts/fuzz.sh).
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfigFile(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Data(UnsafeRawBufferPointer(start: data, count: size))
    // As ConfigFile.options(inFile:) decodes: text that is not UTF-8 is refused before parsing.
    guard let text = String(data: bytes, encoding: .utf8) else { return 0 }
    _ = try? ConfigFile.options(inText: text, path: "fuzz.yaml")
    return 0
}
