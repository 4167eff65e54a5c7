import ArgumentParser
import Foundation
import Recurrent

/// How `predict tag` reads its input.
enum TagInputFormat: String, CaseIterable, ExpressibleByArgument {
    /// Raw text, one sentence per line, tokenized as the training data was (`TaggingTokenizer`).
    case text
    /// One sentence per line, tokens already separated by spaces.
    case tokens
    /// A CoNLL file: the first column of each line is a token, blank lines separate sentences (any tag column is ignored).
    case conll
}

extension RecurrentCommand.Predict {
    /// `recurrent predict tag`: sentences in, one tag per token, the entities as spans (and the intent) out.
    struct Tag: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "tag",
            abstract: "Tag sentences with a model trained by `recurrent train tag`.",
            discussion: """
            Reads one sentence per line (blank lines are kept blank) and tokenizes it as the training data was tokenized:
            punctuation split from words ("monday morning?" → monday, morning, ?), contractions split for data that splits
            them (CoNLL, WNUT-17), lowercased for data without capitals (SNIPS, ATIS). Prints per line the tags, one per token,
            space-separated; with a joint intent model a tab and the intent; then a tab and the entities as type="text" pairs.
            --json prints one JSON object per line instead: text, tokens, tags, intent, and entities with their type, text,
            character offsets [start, end) in the line and token offsets.
            --format conll reads a CoNLL file (first column: the token) and prints token<TAB>predicted tag lines.
            Example:
              echo "play the latest album by radiohead" | recurrent predict tag --checkpoint runs/snips/best.safetensors
            """
        )

        @Option(parsing: .upToNextOption, help: "Checkpoint written by `recurrent train tag`; several tag as an ensemble (as `eval tag`).")
        var checkpoint: [String] = []
        @Option(name: .customLong("o-bias"), help: "Bias subtracted from the O tag's score before decoding (default: the checkpoint's, 0 if it has none).")
        var outsideBias: Double?
        @Option(help: "Input file, or - for standard input.") var input = "-"
        @Option(help: "text (raw sentences, tokenized here), tokens (space-separated tokens) or conll (a CoNLL file).")
        var format = TagInputFormat.text
        @Flag(help: "Print one JSON object per sentence (JSON lines).") var json = false

        func validate() throws {
            guard !checkpoint.isEmpty else { throw ValidationError("Missing expected argument '--checkpoint <checkpoint>'") }
            try validateOutsideBias(outsideBias)
        }

        func run() throws {
            try reportingErrors {
                let members = try checkpoint.map { try SequenceTagger.load(from: URL(fileURLWithPath: $0)) }
                let ensemble = try TaggerEnsemble(members)
                let vocabularies = ensemble.vocabularies
                ensemble.outsideBias = try outsideBias.map(OutsideBias.validated)
                let text: String
                if input == "-" {
                    let data = FileHandle.standardInput.readDataToEndOfFile()
                    guard let s = String(data: data, encoding: .utf8) else { throw DataError.notUTF8(path: "standard input") }
                    text = s
                } else {
                    text = try readTextFile(input)
                }
                let lines: [String]
                var sentences: [[TaggingTokenizer.Token]]
                let tokenizer = TaggingTokenizer(matching: vocabularies.words.tokens)
                switch format {
                case .conll:
                    lines = []
                    sentences = text.isEmpty ? [] : try parseCoNLLTokens(text, path: input == "-" ? "standard input" : input)
                case .text, .tokens:
                    var split = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.hasSuffix("\r") ? String($0.dropLast()) : String($0) }
                    if split.last?.isEmpty == true { split.removeLast() }
                    lines = split
                    sentences = lines.map { line in format == .text ? tokenizer(line) : tokenizer.whitespaceTokens(line) }
                }
                // Data without capitals (SNIPS) is matched by lowercasing the input; a --lowercase model reads the tokens as
                // written (its characters and casing see the case; its word lookup lowercases). The output shows them as written.
                let lowercasesInput = tokenizer.lowercases && !vocabularies.lowercase
                let modelTokens = sentences.map { $0.map { lowercasesInput ? $0.text.lowercased() : $0.text } }
                let tagged = TaggingSentence.tag(modelTokens, ensemble: ensemble)
                var output: [String] = []
                output.reserveCapacity(sentences.count)
                for (i, tokens) in sentences.enumerated() {
                    let (tags, intent) = tagged[i]
                    switch (format, json) {
                    case (.conll, false):
                        output.append(zip(tokens, tags).map { "\($0.text)\t\($1)" }.joined(separator: "\n") + "\n")
                    case (_, false):
                        var line = tags.joined(separator: " ")
                        if let intent { line += "\t" + intent }
                        if !tokens.isEmpty {
                            let source = format == .conll ? tokens.map(\.text).joined(separator: " ") : lines[i]
                            line += "\t" + entities(tags, tokens, source).map { "\($0.type)=\"\($0.text)\"" }.joined(separator: " ")
                        }
                        output.append(line)
                    case (_, true):
                        let source = format == .conll ? tokens.map(\.text).joined(separator: " ") : lines[i]
                        var object: [String: Any] = [
                            "text": source, "tokens": tokens.map(\.text), "tags": tags,
                            "entities": entities(tags, tokens, source).map { e in
                                ["type": e.type, "text": e.text, "start": e.start, "end": e.end, "token_start": e.tokens.lowerBound,
                                 "token_end": e.tokens.upperBound] as [String: Any]
                            },
                        ]
                        if let intent { object["intent"] = intent }
                        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
                        output.append(String(decoding: data, as: UTF8.self))
                    }
                }
                if !output.isEmpty { print(output.joined(separator: "\n")) }
            }
        }

        /// The entities of `tags` over `tokens` of `line`: type, text as written, character and token offsets.
        func entities(_ tags: [String], _ tokens: [TaggingTokenizer.Token], _ line: String)
            -> [(type: String, text: String, start: Int, end: Int, tokens: Range<Int>)] {
            let characters = Array(line)
            return TaggedSentence.chunks(tags).map { chunk in
                let start = tokens[chunk.range.lowerBound].range.lowerBound, end = tokens[chunk.range.upperBound - 1].range.upperBound
                let text = format == .conll ? tokens[chunk.range].map(\.text).joined(separator: " ") : String(characters[start..<end])
                return (chunk.type, text, start, end, chunk.range)
            }
        }

        /// The first column of a CoNLL text's lines, as sentences (offsets within each sentence's tokens joined by spaces).
        func parseCoNLLTokens(_ text: String, path: String) throws -> [[TaggingTokenizer.Token]] {
            var sentences: [[TaggingTokenizer.Token]] = [], current: [TaggingTokenizer.Token] = [], offset = 0
            func flush() { if !current.isEmpty { sentences.append(current) }; current = []; offset = 0 }
            for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
                let line = raw.hasSuffix("\r") ? raw.dropLast() : raw
                if line.hasPrefix("-DOCSTART-") || line.allSatisfy({ $0 == " " || $0 == "\t" }) { flush(); continue }
                let token = String(line.contains("\t") ? line.split(separator: "\t", omittingEmptySubsequences: false)[0]
                                                       : line.split(separator: " ")[0])
                guard !token.isEmpty else { throw DataError.unreadable(path: path, reason: "a line starts with an empty token: '\(line)'") }
                current.append(.init(text: token, range: offset..<(offset + token.count)))
                offset += token.count + 1
            }
            flush()
            return sentences
        }
    }
}

/// Tagging pre-tokenized sentences with loaded models (batches of 64, empty sentences left empty); one model is an
/// ensemble of one, which decodes exactly as the model does.
enum TaggingSentence {
    static func tag(_ sentences: [[String]], ensemble: TaggerEnsemble) -> [(tags: [String], intent: String?)] {
        let vocabularies = ensemble.vocabularies
        let all = sentences.map { TaggedSentence(tokens: $0, tags: $0.map { _ in "O" }) }
        var result = [(tags: [String], intent: String?)](repeating: ([], nil), count: sentences.count)
        let nonEmpty = all.indices.filter { !all[$0].tokens.isEmpty }
        for start in stride(from: 0, to: nonEmpty.count, by: 64) {
            let indices = Array(nonEmpty[start..<min(start + 64, nonEmpty.count)])
            let (paths, intents, _) = ensemble.predict(all, indices: indices, withLoss: false)
            for (k, i) in indices.enumerated() {
                result[i] = (paths[k].map { vocabularies.tags.tokens[$0] }, intents.flatMap { ids in vocabularies.intents.map { $0.tokens[ids[k]] } })
            }
        }
        return result
    }
}
