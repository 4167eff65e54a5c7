// libFuzzer target: the character-level text corpus (UTF-8 check, vocabulary, split, batches).
import Foundation
import RecurrentData
import RecurrentTensor

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTextCorpus(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Data(UnsafeRawBufferPointer(start: data, count: size))
    // As readTextFile decodes: invalid UTF-8 is refused, not repaired.
    guard let text = String(data: bytes, encoding: .utf8) else { return 0 }
    guard let corpus = try? TextCorpus(text: text, minimumLength: 3) else { return 0 }
    var generator = RandomGenerator(seed: 1)
    _ = LanguageModelBatch.random(from: corpus.train, steps: 2, batch: 2, generator: &generator)
    _ = LanguageModelBatch.sequential(from: corpus.validation, steps: 2, batch: 2)
    _ = corpus.vocabulary.decode(corpus.validation)
    if let again = try? Vocabulary(jsonString: corpus.vocabulary.jsonString()) {
        precondition(again == corpus.vocabulary, "vocabulary JSON round trip changed the vocabulary")
    }
    return 0
}
