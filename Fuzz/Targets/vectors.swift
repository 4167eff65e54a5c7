// libFuzzer target: pretrained word vectors (word2vec/GloVe/fastText text, word2vec binary).
import Foundation
import RecurrentData

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzVectors(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Data(UnsafeRawBufferPointer(start: data, count: size))
    for format in VectorFileFormat.allCases {
        for limit in [nil, 2] as [Int?] {
            guard let vectors = try? PretrainedVectors(data: bytes, format: format, maximumWords: limit) else { continue }
            precondition(vectors.dimension >= 1 && vectors.dimension <= PretrainedVectors.maximumDimension, "dimension \(vectors.dimension)")
            precondition(vectors.values.count == vectors.count * vectors.dimension, "\(vectors.values.count) values for \(vectors.count)×\(vectors.dimension)")
            precondition(vectors.values.allSatisfy(\.isFinite), "a non-finite value was accepted")
            precondition(limit.map { vectors.count <= $0 } ?? true, "more vectors than the limit")
            for (row, word) in vectors.words.enumerated() {
                precondition(vectors.lookup(word)?.row == row, "lookup of '\(word)' does not find its own row")
            }
        }
    }
    return 0
}
