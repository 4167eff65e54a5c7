import Foundation
import RecurrentNN
import RecurrentONNX
import RecurrentTensor
import XCTest

/// docs/ONNX.md's "From Swift" snippet, as written there, and its graph checked by ONNX Runtime like the task models.
final class ONNXBuilderSnippetTests: XCTestCase {
    func testDocsSnippetExportsAModelOfYourOwn() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("onnx-snippet-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("tagger.onnx")

        // --- docs/ONNX.md ---
        let embedding = Embedding<Float>(vocabularySize: 100, dimension: 16)
        let lstm = LSTM<Float>(inputSize: 16, hiddenSize: 32, numLayers: 2, bidirectional: true)
        let head = Sequential<Float>([Dropout(0.3), Linear(inputSize: 64, outputSize: 9)])

        let builder = ONNXGraphBuilder(name: "tagger")
        let ids = builder.input("ids", .int64, ["steps", "batch"])
        let lengths = builder.input("lengths", .int64, ["batch"])
        let r = try builder.recurrent(lstm, builder.embedding(embedding, ids), lengths: lengths, h0: nil, c0: nil)
        builder.output(try builder.apply(head, r.output), name: "logits", .float, ["steps", "batch", 9])
        builder.output(r.h, name: "h", .float, [4, "batch", 32])
        try builder.model().write(to: url)
        // ---

        let model = try Onnx_ModelProto(serializedBytes: Data(contentsOf: url))
        XCTAssertEqual(model.graph.node.filter { $0.opType == "LSTM" }.count, 2)
        XCTAssertEqual(model.graph.output.map(\.name), ["logits", "h"])

        head.eval()
        let (T, B, sequenceLengths) = (6, 3, [6, 2, 4])
        var generator = RandomGenerator(seed: 8)
        var tokens = [Int](repeating: 0, count: T * B)
        for b in 0..<B { for t in 0..<sequenceLengths[b] { tokens[t * B + b] = 1 + generator.nextInt(below: 99) } }
        let (logits, state) = withoutGrad {
            let (output, state) = lstm(embedding(tokens, shape: [T, B]), lengths: sequenceLengths)
            return (head(output), state)
        }
        let writer = try ONNXCaseWriter()
        defer { writer.finish() }
        try writer.write("builder_docs_snippet_tagger", model: model,
                         inputs: ["ids": NumpyValue(ints: tokens, shape: [T, B]), "lengths": NumpyValue(ints: sequenceLengths, shape: [B])],
                         outputs: ["logits": NumpyValue(logits), "h": NumpyValue(state.h)])
    }

    /// The feed-forward modules `apply` maps (Linear with and without bias, the activations, LayerNorm, Dropout, Sequential).
    func testFeedForwardModulesCase() throws {
        var generator = RandomGenerator(seed: 12)
        let norm = LayerNorm<Float>(features: 6)
        norm.weight.copy(from: .normal([6], generator: &generator))
        norm.bias.copy(from: .normal([6], generator: &generator))
        let mlp = Sequential<Float>([Linear(inputSize: 5, outputSize: 6, generator: &generator), Activation(.tanh), norm, Dropout(0.4),
                                     Linear(inputSize: 6, outputSize: 4, bias: false, generator: &generator), Activation(.relu),
                                     Linear(inputSize: 4, outputSize: 3, generator: &generator), Activation(.sigmoid)])
        mlp.eval()
        let builder = ONNXGraphBuilder(name: "mlp")
        builder.output(try builder.apply(mlp, builder.input("x", .float, ["steps", "batch", 5])), name: "y", .float, ["steps", "batch", 3])
        let x = Tensor<Float>.normal([4, 3, 5], std: 2, generator: &generator)
        let y = withoutGrad { mlp(x) }
        let writer = try ONNXCaseWriter()
        defer { writer.finish() }
        try writer.write("builder_feed_forward_modules", model: builder.model(), inputs: ["x": NumpyValue(x)], outputs: ["y": NumpyValue(y)])
        XCTAssertEqual(writer.written, ["builder_feed_forward_modules"])
    }
}
