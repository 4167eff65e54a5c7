// libFuzzer target: config.json and options.json of a run folder (what --resume reads) and the
// configs stored in checkpoints: decoded with JSONDecoder, then validated.
import Foundation
import RecurrentModels

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Data(UnsafeRawBufferPointer(start: data, count: size))
    let decoder = JSONDecoder()
    if let options = try? decoder.decode(LanguageModelTrainingOptions.self, from: bytes) { _ = try? options.validate() }
    if let config = try? decoder.decode(LanguageModelConfig.self, from: bytes) { _ = try? config.validate() }
    if let config = try? decoder.decode(ForecasterConfig.self, from: bytes) { _ = try? config.validate() }
    if let config = try? decoder.decode(SequenceClassifierConfig.self, from: bytes) { _ = try? config.validate() }
    if let config = try? decoder.decode(SequenceTaggerConfig.self, from: bytes) { _ = try? config.validate() }
    return 0
}
