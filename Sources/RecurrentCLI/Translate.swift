import ArgumentParser
import Foundation
import Recurrent
import RecurrentPresentation

extension RecurrentCommand {
    /// `recurrent translate`: translate sentences with a sequence-to-sequence checkpoint.
    struct Translate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Translate sentences with a model trained by `recurrent train translate`.",
            discussion: """
            Translates the sentences given as arguments, or each line of standard input when there are none (blank lines stay blank).
            Prints one translation per line; with --n-best K, K lines per sentence (rank<TAB>score<TAB>translation) and a blank line.
            Words the model never saw are read as <unk> (a warning names them). --heatmaps DIR writes one SVG of the attention
            weights per sentence (source tokens across, output tokens down).
            Example:
              recurrent translate --checkpoint runs/fra/best.safetensors --beam 5 "i am cold ."
              echo "he is tall ." | recurrent translate --checkpoint runs/fra/best.safetensors --heatmaps runs/fra/heatmaps
            """
        )

        @Option(help: "Checkpoint written by `recurrent train translate`.") var checkpoint: String
        @Argument(help: "Sentences to translate (standard input when none).") var sentences: [String] = []
        @Option(help: "Beam width (1: greedy).") var beam = 1
        @Option(name: .customLong("length-penalty"), help: "GNMT length penalty α for beam search (0: none).") var lengthPenalty = 0.0
        @Option(name: .customLong("n-best"), help: "Hypotheses printed per sentence (at most --beam).") var nBest = 1
        @Flag(help: "Sample each token instead of taking the most likely.") var sample = false
        @Option(help: "Sampling temperature.") var temperature = 1.0
        @Option(name: .customLong("top-k"), help: "Sample among the k most likely tokens (0: all).") var topK = 0
        @Option(help: "Sampling seed.") var seed: UInt64 = 1
        @Option(name: .customLong("max-length"), help: "Longest output in tokens.") var maxLength = 60
        @Option(help: "Folder for one attention heatmap SVG per sentence.") var heatmaps: String?

        func run() throws {
            try reportingErrors {
                let (model, vocabularies, _) = try Seq2Seq<Float>.load(from: URL(fileURLWithPath: checkpoint))
                let translator = Translator(model: model, vocabularies: vocabularies)
                var lines = sentences
                let fromArguments = !lines.isEmpty
                if !fromArguments {
                    let data = FileHandle.standardInput.readDataToEndOfFile()
                    guard let text = String(data: data, encoding: .utf8) else { throw DataError.notUTF8(path: "standard input") }
                    lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { String($0.hasSuffix("\r") ? $0.dropLast() : $0) }
                    if lines.last?.isEmpty == true { lines.removeLast() }
                }
                if let heatmaps {
                    if model.decoder.attention == nil { throw ValidationError("--heatmaps needs a model with attention; this one has none") }
                    try FileManager.default.createDirectory(atPath: heatmaps, withIntermediateDirectories: true)
                }
                var generator = RandomGenerator(seed: seed)
                for (n, line) in lines.enumerated() {
                    if !fromArguments, line.allSatisfy(\.isWhitespace) { print(""); continue }
                    let result = try translator.translate(line, beam: beam, lengthPenalty: lengthPenalty, nBest: nBest, maxLength: maxLength,
                                                          sample: sample, temperature: temperature, topK: topK, generator: &generator)
                    if !result.unknownWords.isEmpty {
                        FileHandle.standardError.write(Data("warning: sentence \(n + 1): unknown words read as <unk>: \(result.unknownWords.joined(separator: ", "))\n".utf8))
                    }
                    if nBest > 1 {
                        for k in result.hypotheses.indices { print("\(k + 1)\t" + String(format: "%.4f", result.hypotheses[k].score) + "\t" + result.text(k)) }
                        print("")
                    } else {
                        print(result.text())
                    }
                    if let heatmaps {
                        let best = result.hypotheses[0]
                        let output = best.ids.map { vocabularies.target.token($0) ?? "?" }
                        let picture = AttentionHeatmap(source: result.source, output: output, weights: best.attention, title: line)
                        let url = URL(fileURLWithPath: heatmaps).appendingPathComponent(String(format: "attention-%03d.svg", n + 1))
                        try atomicWrite(Data(picture.svg().utf8), to: url)
                    }
                }
            }
        }
    }
}
