import ArgumentParser
import Foundation
import Recurrent

extension RecurrentCommand.Predict {
    /// `recurrent predict classify`: label and probability for each input line.
    struct Classify: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "classify",
            abstract: "Classify sentences, one per line, printing label<TAB>probability per line.",
            discussion: """
            Reads --input (a file, or - for standard input, the default); prints one line per input line: the predicted label and its probability. Words the model never saw count as <unk>.

            Example:
              echo "The food was great." | recurrent predict classify --checkpoint runs/sentiment/best.safetensors
            """
        )

        @Option(help: "Checkpoint written by `recurrent train classify`.") var checkpoint: String
        @Option(help: "UTF-8 text file with one sentence per line, or - for standard input.") var input = "-"
        @Option(help: "Sentences per batch.") var batch = 256
        @Option(help: "Arithmetic of the recurrent layers' and the head's products: fp32 (the trained weights), bf16 or int8 (quantized at load; printed on stderr).")
        var precision: Precision = .fp32

        func validate() throws {
            guard batch > 0 else { throw ValidationError("--batch must be positive") }
        }

        func run() throws {
            try reportingErrors {
                let (model, vocabulary, _) = try SequenceClassifier.load(from: URL(fileURLWithPath: checkpoint))
                let quantized = try precision == .fp32 ? nil : model.quantized(precision)
                let text: String
                if input == "-" {
                    let data = FileHandle.standardInput.readDataToEndOfFile()
                    guard let decoded = String(data: data, encoding: .utf8) else { throw DataError.notUTF8(path: "standard input") }
                    text = decoded
                } else {
                    text = try readTextFile(input)
                }
                var lines = text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { bytes -> String in
                    var line = Substring(bytes)
                    if line.hasSuffix("\r") { line = line.dropLast() }
                    return String(line)
                }
                if lines.last?.isEmpty == true { lines.removeLast() }
                let tokenizer = WordTokenizer()
                let sequences = try lines.map { try vocabulary.encode(tokenizer($0)) }
                var output = ""
                for start in stride(from: 0, to: sequences.count, by: batch) {
                    let chunk = Array(sequences[start..<min(start + batch, sequences.count)])
                    let tokens = ClassificationBatch(sequences: chunk, paddingId: 0)
                    let probabilities = quantized?.probabilities(tokens) ?? model.probabilities(tokens)                  // (B, C)
                    let C = model.config.classes
                    for b in 0..<chunk.count {
                        let row = (0..<C).map { probabilities.data[b * C + $0] }
                        let label = row.indices.max { row[$0] < row[$1] } ?? 0
                        output += String(format: "%d\t%.4f\n", label, row[label])
                    }
                }
                FileHandle.standardError.write(Data("precision: \(precision.rawValue)\n".utf8))   // once it ran: errors stay one line
                FileHandle.standardOutput.write(Data(output.utf8))
            }
        }
    }
}
