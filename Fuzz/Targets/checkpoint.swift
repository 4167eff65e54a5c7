// libFuzzer target: a checkpoint as the CLI loads it: safetensors, then the checkpoint metadata
// (format, version, config JSON, vocabulary JSON), then a model built from the config and filled
// from the tensors, for each task's loader.
import Foundation
import RecurrentIO
import RecurrentModels

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCheckpoint(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Data(UnsafeRawBufferPointer(start: data, count: size))
    guard let checkpoint = try? Checkpoint.decode(bytes) else { return 0 }
    _ = checkpoint.nonFiniteTensorNames
    _ = try? checkpoint.metadata()
    _ = try? checkpoint.encoded()
    _ = try? LanguageModel.load(checkpoint: checkpoint)
    _ = try? Forecaster.load(checkpoint: checkpoint)
    _ = try? SequenceClassifier.load(checkpoint: checkpoint)
    _ = try? SequenceTagger.load(checkpoint: checkpoint)
    _ = try? Seq2Seq<Float>.load(checkpoint: checkpoint)
    return 0
}
