import XCTest
@testable import RecurrentModels
import RecurrentData
import RecurrentNN
import RecurrentTensor

/// `--precision` through the command line and `LanguageModel.quantized(_:)` through the library: a small
/// char-LM trained here scores within a stated margin of its fp32 bits per character at bf16 and int8.
final class QuantizedLanguageModelTests: CommandLineTestCase {
    func bitsPerChar(_ output: String) -> Double? {
        guard let range = output.range(of: #"[0-9.]+ bits/char"#, options: .regularExpression) else { return nil }
        return Double(output[range].split(separator: " ")[0])
    }

    func testPrecisionOptionsOfEvalAndSample() throws {
        let text = folder.appendingPathComponent("text.txt")
        try String(repeating: "To be, or not to be, that is the question: whether 'tis nobler in the mind to suffer.\n", count: 40)
            .write(to: text, atomically: true, encoding: .utf8)
        let lm = folder.appendingPathComponent("lm").path
        let trained = try run(["train", "charlm", "--data", text.path, "--hidden", "32", "--layers", "2", "--embedding", "8", "--steps", "150",
                               "--eval-every", "150", "--batch", "8", "--seq-len", "32", "--out", lm])
        XCTAssertEqual(trained.status, 0, trained.error)
        let checkpoint = lm + "/best.safetensors"
        var bits: [Precision: Double] = [:]
        for precision in Precision.allCases {
            let scored = try run(["eval", "charlm", "--checkpoint", checkpoint, "--data", text.path, "--seq-len", "32", "--precision", precision.rawValue])
            XCTAssertEqual(scored.status, 0, scored.error)
            XCTAssertTrue(scored.output.hasPrefix("validation: "), scored.output)
            XCTAssertTrue(scored.output.contains(", \(precision.rawValue), loss "), "says which precision ran: \(scored.output)")
            bits[precision] = bitsPerChar(scored.output)
        }
        let fp32 = try XCTUnwrap(bits[.fp32])
        XCTAssertLessThan(fp32, 3.5, "the model learnt something (uniform over its 24 characters is 4.58 bits)")
        // Margins: bf16 weights change each product by ≤ 2⁻⁸ relative; int8 by about s/2 per weight and activation.
        XCTAssertEqual(try XCTUnwrap(bits[.bf16]), fp32, accuracy: 0.01)
        XCTAssertEqual(try XCTUnwrap(bits[.int8]), fp32, accuracy: 0.03)

        let sampled = try run(["sample", "--checkpoint", checkpoint, "--prime", "To be", "--length", "30", "--seed", "3", "--precision", "int8"])
        XCTAssertEqual(sampled.status, 0, sampled.error)
        XCTAssertTrue(sampled.output.hasPrefix("To be"), sampled.output)
        XCTAssertGreaterThanOrEqual(sampled.output.count, 35)
        XCTAssertTrue(sampled.error.contains("precision: int8"), sampled.error)
        try assertFails(["sample", "--checkpoint", checkpoint, "--precision", "int4"], mentioning: "--precision")
        try assertFails(["sample", "--checkpoint", checkpoint, "--label", "0", "--precision", "bf16"], mentioning: "fp32 only")
    }

    /// The library call: the quantized model samples and scores as the fp32 one does (same loops), and
    /// its fp32 form is the fp32 model's function.
    func testQuantizedModelAgainstTheModel() throws {
        let model = LanguageModel(LanguageModelConfig(vocabularySize: 11, embeddingSize: 5, hiddenSize: 24, layers: 2), seed: 4)
        var rng = RandomGenerator(seed: 9)
        let ids = (0..<400).map { _ in Int(rng.next() % 11) }
        let fp32 = model.meanLoss(on: ids, seqLen: 16, streams: 4)
        for precision in Precision.allCases {
            let quantized = try model.quantized(precision)
            XCTAssertEqual(quantized.precision, precision)
            XCTAssertEqual(quantized.meanLoss(on: ids, seqLen: 16, streams: 4), fp32, accuracy: precision == .fp32 ? 1e-5 : 0.01, "\(precision)")
            let (logits, _) = quantized([1, 2, 3, 4, 5, 6], steps: 3, batch: 2)
            let expected = withoutGrad { model([1, 2, 3, 4, 5, 6], steps: 3, batch: 2).logits }
            XCTAssertEqual(logits.shape, expected.shape)
            let difference = zip(logits.scalars, expected.scalars).map { abs($0 - $1) }.max()!
            XCTAssertLessThanOrEqual(difference, precision == .fp32 ? 1e-5 : 0.05, "\(precision)")
        }
        var a = RandomGenerator(seed: 2), b = RandomGenerator(seed: 2)
        let quantizedTokens = try model.quantized(.fp32).sample(prime: [1, 2], length: 20, generator: &a)
        let tokens = model.sample(prime: [1, 2], length: 20, generator: &b)
        XCTAssertEqual(quantizedTokens, tokens, "the same loop draws the same tokens from (nearly) the same logits")
        let jordan = LanguageModel(LanguageModelConfig(vocabularySize: 5, hiddenSize: 4, layers: 1, cell: .jordan), seed: 1)
        XCTAssertThrowsError(try jordan.quantized(.int8)) { XCTAssertTrue("\($0)".contains("jordan"), "\($0)") }
    }

    /// The classifier's quantized form: every pooling, probabilities within a margin of fp32's; and the CLI option.
    func testQuantizedClassifier() throws {
        var rng = RandomGenerator(seed: 4)
        let sequences = (0..<6).map { b in (0..<(3 + b * 2)).map { _ in 1 + Int(rng.next() % 30) } }
        let batch = ClassificationBatch(sequences: sequences, paddingId: 0)
        for pooling in Pooling.allCases {
            let model = SequenceClassifier(SequenceClassifierConfig(vocabularySize: 31, embeddingSize: 12, hiddenSize: 16, layers: 2,
                                                                    classes: 3, pooling: pooling), seed: 2)
            let expected = model.probabilities(batch)
            for precision in Precision.allCases {
                let got = try model.quantized(precision).probabilities(batch)
                XCTAssertEqual(got.shape, [6, 3])
                let difference = zip(got.scalars, expected.scalars).map { abs($0 - $1) }.max()!
                XCTAssertLessThanOrEqual(difference, precision == .fp32 ? 1e-5 : 0.02, "\(pooling) \(precision)")
            }
        }
        let data = try ClassifyFixtures.smallReviews(in: folder)
        let runFolder = folder.appendingPathComponent("classify").path
        let trained = try run(["train", "classify", "--data", data.path, "--hidden", "8", "--embedding", "8", "--epochs", "2", "--batch", "8",
                               "--out", runFolder])
        XCTAssertEqual(trained.status, 0, trained.error)
        let input = "a great phone\nnever seen words\n\nvery bad\n"
        let fp32 = try run(["predict", "classify", "--checkpoint", runFolder + "/best.safetensors"], input: input)
        let int8 = try run(["predict", "classify", "--checkpoint", runFolder + "/best.safetensors", "--precision", "int8"], input: input)
        XCTAssertEqual(int8.status, 0, int8.error)
        XCTAssertTrue(int8.error.contains("precision: int8"), int8.error)
        let probabilities = { (output: String) in output.split(separator: "\n").map { Double($0.split(separator: "\t")[1])! } }
        XCTAssertEqual(probabilities(int8.output).count, 4)
        for (a, b) in zip(probabilities(int8.output), probabilities(fp32.output)) { XCTAssertEqual(a, b, accuracy: 0.02) }
    }
}
