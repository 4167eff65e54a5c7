import ArgumentParser
import Foundation
import Recurrent

extension RecurrentCommand {
    /// `recurrent sample`: generate text from a character language model checkpoint.
    struct Sample: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Generate text from a trained character language model.",
            discussion: """
            Example:
              recurrent sample --checkpoint runs/demo/best.safetensors --prime "ROMEO:" --length 300 --temperature 0.8 --top-k 20
            """
        )

        @Option(help: "Checkpoint written by `recurrent train charlm`.") var checkpoint: String
        @Option(help: "Text to start from (its characters must be in the vocabulary).") var prime = "\n"
        @Option(help: "Characters to generate.") var length = 500
        @Option(help: "Softmax temperature (> 0); lower is more conservative.") var temperature = 1.0
        @Option(name: .customLong("top-k"), help: "Sample among the k most likely characters only.") var topK: Int?
        @Option(help: "Random seed.") var seed: UInt64 = 1

        func validate() throws {
            // Checked as the Float the model divides by: 1e-50 is positive as a Double but 0 as a Float.
            guard Float(temperature) > 0, Float(temperature).isFinite else {
                throw ValidationError("--temperature must be positive and finite in single precision, got \(temperature)")
            }
            guard length >= 0 else { throw ValidationError("--length must not be negative") }
            if let k = topK, k < 1 { throw ValidationError("--top-k must be at least 1, got \(k)") }
            guard !prime.isEmpty else { throw ValidationError("--prime must not be empty") }
        }

        func run() throws {
            try reportingErrors {
                let (model, vocabulary) = try LanguageModel.load(from: URL(fileURLWithPath: checkpoint))
                let primeIds: [Int]
                do { primeIds = try vocabulary.encode(characters: prime) } catch DataError.unknownToken(let t) {
                    throw ValidationError("--prime contains '\(t)', which the model's vocabulary does not have")
                }
                var generator = RandomGenerator(seed: seed)
                let ids = model.sample(prime: primeIds, length: length, temperature: Float(temperature), topK: topK, generator: &generator)
                print(prime + vocabulary.decode(ids))
            }
        }
    }
}
