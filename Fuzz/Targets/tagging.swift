// libFuzzer target: CoNLL/BIO token<TAB>tag files and SNIPS splits (seq.in, seq.out, label),
// then the vocabularies and padded batches built from them.
import Foundation
import RecurrentData

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTagging(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Data(UnsafeRawBufferPointer(start: data, count: size))
    guard let text = String(data: bytes, encoding: .utf8) else { return 0 }
    if let sentences = try? parseCoNLL(text, path: "fuzz.conll") { exercise(sentences) }
    // The same bytes as a SNIPS split: three files separated by form feeds.
    let parts = text.split(separator: "\u{0C}", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
    if parts.count == 3, let sentences = try? parseSNIPSSplit(seqIn: parts[0], seqOut: parts[1], label: parts[2], folder: "fuzz") {
        exercise(sentences)
    }
    return 0
}

private func exercise(_ sentences: [TaggedSentence]) {
    guard let vocabularies = try? TaggingVocabularies(training: sentences) else { return }
    _ = TaggingBatch.sequential(sentences, batch: 4, vocabularies: vocabularies)
    _ = ChunkScore(gold: sentences.map(\.tags), guessed: sentences.map { $0.tags.reversed() })
}
