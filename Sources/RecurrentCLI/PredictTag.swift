import ArgumentParser
import Foundation
import Recurrent

extension RecurrentCommand.Predict {
    /// `recurrent predict tag`: tokens per line in, one tag per token (and the intent) per line out.
    struct Tag: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "tag",
            abstract: "Tag sentences with a model trained by `recurrent train tag`.",
            discussion: """
            Reads one sentence per line, tokens separated by spaces (blank lines are kept blank), and prints one tag per token,
            space-separated; with a joint intent model, the intent follows after a tab.
            Example:
              echo "play the latest album by radiohead" | recurrent predict tag --checkpoint runs/snips/best.safetensors
            """
        )

        @Option(help: "Checkpoint written by `recurrent train tag`.") var checkpoint: String
        @Option(help: "Input file, or - for standard input.") var input = "-"

        func run() throws {
            try reportingErrors {
                let (model, vocabularies) = try SequenceTagger.load(from: URL(fileURLWithPath: checkpoint))
                let text: String
                if input == "-" {
                    let data = FileHandle.standardInput.readDataToEndOfFile()
                    guard let s = String(data: data, encoding: .utf8) else { throw DataError.notUTF8(path: "standard input") }
                    text = s
                } else {
                    text = try readTextFile(input)
                }
                var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.hasSuffix("\r") ? $0.dropLast() : $0 }
                if lines.last?.isEmpty == true { lines.removeLast() }
                let sentences = lines.map { line in
                    TaggedSentence(tokens: line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init),
                                   tags: line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map { _ in "O" })
                }
                let nonEmpty = sentences.indices.filter { !sentences[$0].tokens.isEmpty }
                var output = [String](repeating: "", count: sentences.count)
                for start in stride(from: 0, to: nonEmpty.count, by: 64) {
                    let indices = Array(nonEmpty[start..<min(start + 64, nonEmpty.count)])
                    let batch = TaggingBatch(sentences, indices: indices, vocabularies: vocabularies)
                    let (paths, intents) = model.predict(batch, constrainedBy: vocabularies.tags)
                    for (k, i) in indices.enumerated() {
                        var line = paths[k].map { vocabularies.tags.tokens[$0] }.joined(separator: " ")
                        if let intents, let v = vocabularies.intents { line += "\t" + v.tokens[intents[k]] }
                        output[i] = line
                    }
                }
                if !output.isEmpty { print(output.joined(separator: "\n")) }
            }
        }
    }
}
