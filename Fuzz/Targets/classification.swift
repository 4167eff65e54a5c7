// libFuzzer target: sentence<TAB>label classification files, then the split, tokenizer and encoding.
import Foundation
import RecurrentData

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzClassification(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard size > 0, let data else { return 0 }
    // The first byte picks the number of classes (2...9), the rest is the file.
    let classes = 2 + Int(data[0] % 8)
    let bytes = Data(UnsafeRawBufferPointer(start: data + 1, count: size - 1))
    guard let text = String(data: bytes, encoding: .utf8) else { return 0 }
    guard let rows = try? ClassificationTSV.parse(text, path: "fuzz.tsv", classes: classes) else { return 0 }
    if let dataset = try? SentenceClassificationData(rows, classes: classes, minCount: 1) {
        _ = dataset.train.batches(size: 3, paddingId: dataset.vocabulary.paddingId ?? 0)
    }
    return 0
}
