import ArgumentParser
import Foundation
import Recurrent

extension RecurrentCommand {
    /// `recurrent sample`: generate text from a character language model or a label-conditioned generator.
    struct Sample: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Generate text from a trained character language model, or sentences of a class from `train generate`.",
            discussion: """
            Example:
              recurrent sample --checkpoint runs/demo/best.safetensors --prime "ROMEO:" --length 300 --temperature 0.8 --top-k 20
              recurrent sample --checkpoint runs/generate/best.safetensors --label 1 --count 3 --temperature 0.7
            """
        )

        @Option(help: "Checkpoint written by `recurrent train charlm` or `recurrent train generate`.") var checkpoint: String
        @Option(help: "generate checkpoints: the class whose sentences to write.") var label: Int?
        @Option(help: "generate checkpoints: sentences to write.") var count = 1
        @Option(help: "Text to start from (its characters must be in the vocabulary).") var prime = "\n"
        @Option(help: "Characters to generate.") var length = 500
        @Option(help: "Softmax temperature (> 0); lower is more conservative.") var temperature = 1.0
        @Option(name: .customLong("top-k"), help: "Sample among the k most likely characters only.") var topK: Int?
        @Option(help: "Random seed.") var seed: UInt64 = 1
        @Option(help: "charlm checkpoints: arithmetic of the recurrent layers' and the head's products: fp32 (the trained weights), bf16 or int8 (quantized at load, for speed; printed on stderr).")
        var precision: Precision = .fp32

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
                if let label {
                    guard precision == .fp32 else { throw ValidationError("--precision \(precision.rawValue) is for charlm checkpoints; generate checkpoints (--label) sample in fp32 only") }
                    return try sampleSentences(label: label)
                }
                let (model, vocabulary) = try LanguageModel.load(from: URL(fileURLWithPath: checkpoint))
                let primeIds: [Int]
                do { primeIds = try vocabulary.encode(characters: prime) } catch DataError.unknownToken(let t) {
                    throw ValidationError("--prime contains '\(t)', which the model's vocabulary does not have")
                }
                var generator = RandomGenerator(seed: seed)
                let ids: [Int]
                if precision == .fp32 {
                    ids = model.sample(prime: primeIds, length: length, temperature: Float(temperature), topK: topK, generator: &generator)
                } else {
                    let quantized = try model.quantized(precision)
                    ids = quantized.sample(prime: primeIds, length: length, temperature: Float(temperature), topK: topK, generator: &generator)
                }
                FileHandle.standardError.write(Data("precision: \(precision.rawValue)\n".utf8))
                print(prime + vocabulary.decode(ids))
            }
        }

        /// `--count` sentences of class `label` from a `train generate` checkpoint (at most `--length` words each).
        func sampleSentences(label: Int) throws {
            let (model, config, words) = try ConditionedGenerator<Float>.load(from: URL(fileURLWithPath: checkpoint))
            guard (0..<config.classes).contains(label) else { throw ValidationError("--label must be in 0..<\(config.classes), got \(label)") }
            guard count >= 1 else { throw ValidationError("--count must be at least 1") }
            var generator = RandomGenerator(seed: seed)
            let ids = model.sample(model.oneHot(Array(repeating: label, count: count)), maxLength: min(length, 200), temperature: temperature,
                                   generator: &generator)
            for sentence in ids { print(words.decode(sentence, separator: " ")) }
        }
    }
}
