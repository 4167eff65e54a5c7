// libFuzzer target: the Keras importer (zip container, HDF5 weights through libhdf5, model config JSON,
// gate conversion, the model built from what was read, its checkpoint read back).
// Build and run with Scripts/fuzz.sh; see docs/RELIABILITY.md.
import Foundation
import RecurrentIO
@testable import RecurrentKeras
import RecurrentTensor

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzKeras(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    let selector = data[0]
    let bytes = Data(bytes: data + 1, count: size - 1)
    // First byte: < 96 the rest is a .keras archive (zip, config, weights); < 192 a .weights.h5 read without a
    // config (layers inferred from the groups and shapes); else a model config JSON alone.
    let imported: KerasImported?
    switch selector {
    case ..<96: imported = try? KerasImport.read(keras: bytes)
    case ..<192: imported = try? KerasImport.read(weights: bytes, config: nil)
    default:
        _ = try? KerasConfig.parse(bytes)
        imported = nil
    }
    guard let imported else { return 0 }
    _ = try? imported.layers()
    if let model = try? imported.model(), let first = model.config.layers.first, first.inputSize <= 4096 {
        if first.kind == .embedding {
            _ = try? model(ids: [0, first.inputSize - 1], batch: 1)
        } else {
            _ = model(Tensor<Float>(zeros: [1, 2, first.inputSize]))
        }
        if let checkpoint = try? imported.checkpoint(), let encoded = try? checkpoint.encoded() {
            _ = try? KerasModel.load(checkpoint: Checkpoint.decode(encoded))
        }
    }
    return 0
}
