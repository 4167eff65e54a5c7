import Foundation
import RecurrentModels
import RecurrentNN
import RecurrentONNX
import RecurrentTensor
import XCTest

/// What the exporter writes, read back from the protobuf: operators, shapes, opset, the converted gate layout,
/// and the configurations it refuses with a message.
final class ONNXStructureTests: XCTestCase {
    func nodes(_ model: Onnx_ModelProto, _ op: String) -> [Onnx_NodeProto] { model.graph.node.filter { $0.opType == op } }

    func initializer(_ model: Onnx_ModelProto, _ name: String) -> Onnx_TensorProto? { model.graph.initializer.first { $0.name == name } }

    func floats(_ t: Onnx_TensorProto) -> [Float] {
        t.rawData.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }

    func attribute(_ node: Onnx_NodeProto, _ name: String) -> Onnx_AttributeProto? { node.attribute.first { $0.name == name } }

    func dims(_ info: Onnx_ValueInfoProto) -> [String] {
        info.type.tensorType.shape.dim.map { $0.dimParam.isEmpty ? "\($0.dimValue)" : $0.dimParam }
    }

    func testLanguageModelGraphHasOneLSTMPerLayerAndTheStateAsInputsAndOutputs() throws {
        let model = LanguageModel(LanguageModelConfig(vocabularySize: 9, embeddingSize: 4, hiddenSize: 5, layers: 2, cell: .lstm, dropout: 0.5), seed: 1)
        let onnx = try model.onnxModel()
        XCTAssertEqual(onnx.opsetImport.map(\.version), [17])
        XCTAssertGreaterThanOrEqual(onnx.opsetImport[0].version, 14)
        XCTAssertEqual(onnx.irVersion, 8)
        XCTAssertEqual(onnx.graph.input.map(\.name), ["ids", "h0", "c0"])
        XCTAssertEqual(onnx.graph.output.map(\.name), ["logits", "h", "c"])
        XCTAssertEqual(dims(onnx.graph.input[0]), ["steps", "batch"])
        XCTAssertEqual(onnx.graph.input[0].type.tensorType.elemType, Int32(Onnx_TensorProto.DataType.int64.rawValue))
        XCTAssertEqual(dims(onnx.graph.input[1]), ["2", "batch", "5"])
        XCTAssertEqual(dims(onnx.graph.output[0]), ["steps", "batch", "9"])
        XCTAssertEqual(nodes(onnx, "LSTM").count, 2)
        XCTAssertEqual(nodes(onnx, "Gather").count, 1)
        XCTAssertTrue(nodes(onnx, "Dropout").isEmpty, "dropout is the identity in an exported graph")
        let lstm = nodes(onnx, "LSTM")[0]
        XCTAssertEqual(attribute(lstm, "hidden_size")?.i, 5)
        XCTAssertEqual(attribute(lstm, "direction")?.s, Data("forward".utf8))
        XCTAssertEqual(lstm.input.count, 7)                      // X, W, R, B, sequence_lens (omitted: ""), initial_h, initial_c
        XCTAssertEqual(lstm.input[4], "")
        XCTAssertEqual(initializer(onnx, lstm.input[1])?.dims, [1, 20, 4])   // W (D, 4H, E)
        XCTAssertEqual(initializer(onnx, lstm.input[2])?.dims, [1, 20, 5])   // R (D, 4H, H)
        XCTAssertEqual(initializer(onnx, lstm.input[3])?.dims, [1, 40])      // B (D, 8H)
        XCTAssertEqual(onnx.metadataProps.first { $0.key == "task" }?.value, "charlm")
    }

    /// ONNX's LSTM block k holds PyTorch's block [i, o, f, g][k]; its B is [W_b; R_b].
    func testLSTMGatesAreReorderedFromPyTorchsLayout() throws {
        let layer = LSTM<Float>(inputSize: 2, hiddenSize: 3, seed: 4)
        let builder = ONNXGraphBuilder(name: "lstm")
        let r = try builder.recurrent(layer, builder.input("x", .float, ["steps", "batch", 2]), lengths: nil, h0: nil, c0: nil)
        builder.output(r.output, name: "y", .float, ["steps", "batch", 3])
        let onnx = builder.model()
        let node = nodes(onnx, "LSTM")[0]
        let w = floats(initializer(onnx, node.input[1])!), b = floats(initializer(onnx, node.input[3])!)
        let wih = layer.namedParameters().first { $0.name == "weight_ih_l0" }!.tensor.scalars     // (4H, I) = (12, 2)
        let bih = layer.namedParameters().first { $0.name == "bias_ih_l0" }!.tensor.scalars
        let bhh = layer.namedParameters().first { $0.name == "bias_hh_l0" }!.tensor.scalars
        for (onnxBlock, torchBlock) in [(0, 0), (1, 3), (2, 1), (3, 2)] {
            XCTAssertEqual(Array(w[(onnxBlock * 6)..<(onnxBlock * 6 + 6)]), Array(wih[(torchBlock * 6)..<(torchBlock * 6 + 6)]))
            XCTAssertEqual(Array(b[(onnxBlock * 3)..<(onnxBlock * 3 + 3)]), Array(bih[(torchBlock * 3)..<(torchBlock * 3 + 3)]))
            XCTAssertEqual(Array(b[(12 + onnxBlock * 3)..<(12 + onnxBlock * 3 + 3)]), Array(bhh[(torchBlock * 3)..<(torchBlock * 3 + 3)]))
        }
    }

    func testGRUAndRNNAttributes() throws {
        let builder = ONNXGraphBuilder(name: "layers")
        let x = builder.input("x", .float, ["steps", "batch", 3])
        let lengths = builder.input("lengths", .int64, ["batch"])
        let gru = GRU<Float>(inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, seed: 1)
        let gruBefore = GRU<Float>(inputSize: 3, hiddenSize: 4, resetAfter: false, seed: 2)
        let relu = RNN<Float>(inputSize: 3, hiddenSize: 4, nonlinearity: .relu, bidirectional: true, seed: 3)
        _ = try builder.recurrent(gru, x, lengths: lengths, h0: nil, c0: nil, name: "gru")
        _ = try builder.recurrent(gruBefore, x, lengths: nil, h0: nil, c0: nil, name: "gru_before")
        _ = try builder.recurrent(relu, x, lengths: nil, h0: nil, c0: nil, name: "relu")
        let onnx = builder.model()
        let grus = nodes(onnx, "GRU"), rnns = nodes(onnx, "RNN")
        XCTAssertEqual(grus.count, 3)
        XCTAssertEqual(grus.map { attribute($0, "linear_before_reset")?.i }, [1, 1, 0])
        XCTAssertEqual(attribute(grus[0], "direction")?.s, Data("bidirectional".utf8))
        XCTAssertEqual(initializer(onnx, grus[0].input[1])?.dims, [2, 12, 3])     // layer 0: (D, 3H, I)
        XCTAssertEqual(initializer(onnx, grus[1].input[1])?.dims, [2, 12, 8])     // layer 1 reads both directions: (D, 3H, 2H)
        XCTAssertFalse(grus[0].input[4].isEmpty, "lengths go in as sequence_lens")
        XCTAssertEqual(nodes(onnx, "Cast").count, 1, "the int64 lengths are cast to int32 once")
        XCTAssertEqual(rnns.count, 1)
        XCTAssertEqual(attribute(rnns[0], "activations")?.strings, [Data("Relu".utf8), Data("Relu".utf8)])
    }

    func testTranslationExportsAnEncoderAndADecoderStep() throws {
        let config = Seq2SeqConfig(sourceVocabularySize: 8, targetVocabularySize: 9, embeddingSize: 3, hiddenSize: 4, layers: 2, cell: .lstm,
                                   bidirectional: true, attention: .bahdanau, attentionSize: 5)
        let model = Seq2Seq<Float>(config, seed: 1)
        let encoder = try model.onnxEncoder(), step = try model.onnxDecoderStep()
        XCTAssertEqual(encoder.graph.input.map(\.name), ["source_ids", "source_lengths"])
        XCTAssertEqual(encoder.graph.output.map(\.name), ["keys", "h", "c"])
        XCTAssertEqual(nodes(encoder, "ReduceSum").count, 1, "the last layer's directions are summed")
        XCTAssertEqual(step.graph.input.map(\.name), ["tokens", "h", "c", "keys", "source_lengths"])
        XCTAssertEqual(step.graph.output.map(\.name), ["logits", "next_h", "next_c", "weights"])
        XCTAssertEqual(nodes(step, "LSTM").count, 2, "one single-step LSTM per decoder layer")
        XCTAssertEqual(nodes(step, "Softmax").count, 1)
    }

    func testProtobufRoundTrip() throws {
        let model = SequenceClassifier(SequenceClassifierConfig(vocabularySize: 7, embeddingSize: 3, hiddenSize: 4, cell: .gru, pooling: .attention), seed: 2)
        let onnx = try model.onnxModel()
        let data = try onnx.serializedData()
        let read = try Onnx_ModelProto(serializedBytes: data)
        XCTAssertEqual(read, onnx)
        XCTAssertEqual(read.graph.initializer.count, onnx.graph.initializer.count)
        XCTAssertEqual(try read.serializedData(), data)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("roundtrip-\(UUID().uuidString).onnx")
        defer { try? FileManager.default.removeItem(at: url) }
        try onnx.write(to: url)
        XCTAssertEqual(try Onnx_ModelProto(serializedBytes: Data(contentsOf: url)), onnx)
    }

    func testJordanNetworksAreRefusedWithAMessage() {
        let model = LanguageModel(LanguageModelConfig(vocabularySize: 9, embeddingSize: 4, hiddenSize: 5, layers: 1, cell: .jordan), seed: 1)
        XCTAssertThrowsError(try model.onnxModel()) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("Jordan") && message.contains("--cell lstm, gru or rnn"), message)
        }
        let seq2seq = Seq2Seq<Float>(Seq2SeqConfig(sourceVocabularySize: 8, targetVocabularySize: 9, embeddingSize: 3, hiddenSize: 4, cell: .jordan,
                                                   bidirectional: false, attention: .none), seed: 1)
        XCTAssertThrowsError(try seq2seq.onnxDecoderStep()) { XCTAssertTrue("\($0)".contains("Jordan"), "\($0)") }
    }

    /// The tagger's graph reads word ids only: one with character or casing features (the `train tag` defaults) is
    /// refused rather than written with an LSTM whose input size does not match the embedding.
    func testTaggersWithWordFeaturesAreRefused() throws {
        for (characters, casing) in [(CharacterFeatures.cnn, 0), (.lstm, 0), (.none, 4)] {
            var config = SequenceTaggerConfig(vocabularySize: 9, tagCount: 4, embeddingSize: 4, hiddenSize: 3)
            (config.characterFeatures, config.alphabetSize, config.casingSize) = (characters, characters == .none ? 0 : 5, casing)
            XCTAssertThrowsError(try SequenceTagger(config, seed: 1).onnxModel()) { error in
                XCTAssertTrue("\(error)".contains("--char-features none --casing 0"), "\(error)")
            }
        }
        let plain = SequenceTagger(SequenceTaggerConfig(vocabularySize: 9, tagCount: 4, embeddingSize: 4, hiddenSize: 3), seed: 1)
        XCTAssertNoThrow(try plain.onnxModel())
        // An intent head that pools the outputs is not in the graph either.
        for pooling in [IntentPooling.max, .attention, .votes] {
            var config = SequenceTaggerConfig(vocabularySize: 9, tagCount: 4, intentCount: 3, embeddingSize: 4, hiddenSize: 3)
            config.intentPooling = pooling
            XCTAssertThrowsError(try SequenceTagger(config, seed: 1).onnxModel()) { XCTAssertTrue("\($0)".contains("--intent-pooling final"), "\($0)") }
        }
    }

    /// ONNX's LSTM has no projection: the layer is unrolled, one Scan per layer and direction, over elementary operators.
    func testProjectionIsUnrolledWithScan() throws {
        let layer = LSTM<Float>(inputSize: 3, hiddenSize: 5, numLayers: 2, bidirectional: true, projSize: 2, seed: 1)
        let builder = ONNXGraphBuilder(name: "proj")
        let r = try builder.recurrent(layer, builder.input("x", .float, ["steps", "batch", 3]), lengths: nil, h0: nil, c0: nil)
        builder.output(r.output, name: "y", .float, ["steps", "batch", 4])
        let onnx = builder.model()
        let scans = nodes(onnx, "Scan")
        XCTAssertEqual(scans.count, 4)
        XCTAssertTrue(nodes(onnx, "LSTM").isEmpty)
        XCTAssertEqual(scans.map { attribute($0, "scan_input_directions")?.ints }, [[0, 0], [1, 1], [0, 0], [1, 1]])
        let body = attribute(scans[0], "body")!.g
        XCTAssertEqual(body.input.count, 4)                       // h, c, x_t, valid_t
        XCTAssertEqual(body.output.count, 3)                      // h', c', y_t
        XCTAssertEqual(Set(body.node.map(\.opType)), ["MatMul", "Add", "Split", "Sigmoid", "Tanh", "Mul", "Where"])
        XCTAssertTrue(body.initializer.isEmpty, "the body reads the weights from the enclosing graph")
        XCTAssertEqual(initializer(onnx, "rnn_l0.weight_hr_t")?.dims, [5, 2])
    }

    func testUnknownModulesAreRefusedAndKnownOnesMap() throws {
        let builder = ONNXGraphBuilder(name: "mlp")
        let x = builder.input("x", .float, ["batch", 3])
        let mlp = Sequential<Float>([Linear(inputSize: 3, outputSize: 4, seed: 1), Activation(.relu), Dropout(0.5), LayerNorm(features: 4),
                                     Linear(inputSize: 4, outputSize: 2, seed: 2), Activation(.sigmoid)])
        builder.output(try builder.apply(mlp, x), name: "y", .float, ["batch", 2])
        XCTAssertEqual(builder.graph.node.map(\.opType), ["MatMul", "Add", "Relu", "LayerNormalization", "MatMul", "Add", "Sigmoid", "Identity"])
        XCTAssertThrowsError(try builder.apply(AttentionPooling(inputSize: 3, attentionSize: 2, generator: &rng), x)) { error in
            XCTAssertTrue("\(error)".contains("no ONNX mapping for a AttentionPooling module"), "\(error)")
        }
    }
    var rng = RandomGenerator(seed: 5)
}
