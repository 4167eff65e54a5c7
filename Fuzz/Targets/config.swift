// libFuzzer target: config.json and options.json of a run folder (what --resume reads) and the
// configs stored in checkpoints: decoded with JSONDecoder, then validated.
import Foundation
import RecurrentModels
import RecurrentTraining

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Data(UnsafeRawBufferPointer(start: data, count: size))
    let decoder = JSONDecoder()
    if let options = try? decoder.decode(RunOptions<LanguageModelTask.Settings>.self, from: bytes) { _ = try? options.training.validate() }
    if let options = try? decoder.decode(RunOptions<TranslationTask.Settings>.self, from: bytes) {
        _ = try? options.training.validate()
        _ = try? options.task.validate()
    }
    if let config = try? decoder.decode(LanguageModelConfig.self, from: bytes) { _ = try? config.validate() }
    if let config = try? decoder.decode(ForecasterConfig.self, from: bytes) { _ = try? config.validate() }
    if let config = try? decoder.decode(SequenceClassifierConfig.self, from: bytes) { _ = try? config.validate() }
    if let config = try? decoder.decode(SequenceTaggerConfig.self, from: bytes) { _ = try? config.validate() }
    return 0
}
