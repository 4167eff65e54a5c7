// libFuzzer target: sentence-pair files (source<TAB>target[<TAB>…] lines, as `train translate --data`
// reads them), then what training and evaluation build from them: the 90/5/5 split, the vocabularies
// (and the target vocabulary's JSON round trip, as checkpoints store it), padded batches and corpus BLEU.
import Foundation
import RecurrentData

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTranslation(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Data(UnsafeRawBufferPointer(start: data, count: size))
    guard let text = String(data: bytes, encoding: .utf8),
          let pairs = try? ParallelCorpus.parsePairs(text, path: "fuzz.tsv", maxLength: 12) else { return 0 }
    let corpus = ParallelCorpus(splitting: pairs, seed: 1)
    guard let vocabularies = try? Seq2SeqVocabularies(training: corpus.train.isEmpty ? pairs : corpus.train) else { return 0 }
    _ = try? Vocabulary(jsonString: vocabularies.target.jsonString())
    _ = Seq2SeqBatch(pairs, indices: Array(pairs.indices.prefix(8)), vocabularies: vocabularies)
    let hypotheses = pairs.map { Array($0.target.reversed()) }
    _ = BLEU.corpus(hypotheses: hypotheses, references: pairs.map { [$0.target] })
    return 0
}
