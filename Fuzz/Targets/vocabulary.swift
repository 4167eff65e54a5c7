// libFuzzer target: vocabulary JSON (vocabulary.json of a run folder, tag and intent lists in checkpoints).
import Foundation
import RecurrentData

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzVocabulary(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Data(UnsafeRawBufferPointer(start: data, count: size))
    let text = String(decoding: bytes, as: UTF8.self)
    guard let vocabulary = try? Vocabulary(jsonString: text) else { return 0 }
    _ = vocabulary.decode([-1, 0, 1, vocabulary.count, Int.max])
    _ = try? vocabulary.encode(characters: text)
    let again = try? Vocabulary(jsonString: vocabulary.jsonString())
    precondition(again == vocabulary, "vocabulary JSON round trip changed the vocabulary")
    return 0
}
