import Foundation
import RecurrentData
@testable import RecurrentModels
import RecurrentNN
import RecurrentTensor
@testable import RecurrentTraining
import XCTest

/// Reads the fixtures of Scripts/make_attention_fixtures.py (Tests/Fixtures/attention/).
enum Seq2SeqFixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/attention")

    static func cases(_ name: String, generator: String = "Scripts/make_attention_fixtures.py") throws -> [[String: Any]] {
        let doc = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("\(name).json"))) as? [String: Any])
        XCTAssertEqual(doc["generator"] as? String, generator)
        XCTAssertTrue(doc["torch"] is String || doc["sacrebleu"] is String, "\(name).json does not say what made it")
        let cases = try XCTUnwrap(doc["cases"] as? [[String: Any]])
        XCTAssertFalse(cases.isEmpty)
        return cases
    }

    static func tensor<S: TensorScalar>(_ spec: Any?, _: S.Type, requiresGrad: Bool = false) throws -> Tensor<S> {
        let dict = try XCTUnwrap(spec as? [String: Any])
        let shape = try XCTUnwrap(dict["shape"] as? [Int])
        let values = try XCTUnwrap(dict["data"] as? [Any]).map { S(try XCTUnwrap(($0 as? NSNumber)?.doubleValue)) }
        return Tensor(values, shape: shape, requiresGrad: requiresGrad)
    }

    static func tensors<S: TensorScalar>(_ spec: Any?, _: S.Type, requiresGrad: Bool = false) throws -> [String: Tensor<S>] {
        try XCTUnwrap(spec as? [String: Any]).mapValues { try tensor($0, S.self, requiresGrad: requiresGrad) }
    }

    /// max |got − want| / max(1, |want|) ≤ tolerance.
    static func assertClose<S: TensorScalar>(_ got: Tensor<S>?, _ expected: Any?, _ what: String, _ tolerance: Double,
                                             file: StaticString = #filePath, line: UInt = #line) throws {
        let want = try tensor(expected, Double.self)
        let got = try XCTUnwrap(got, "\(what): missing", file: file, line: line)
        XCTAssertEqual(got.shape, want.shape, "\(what): shape", file: file, line: line)
        guard got.shape == want.shape else { return }
        var worst = 0.0
        for (a, b) in zip(got.scalars, want.scalars) { worst = max(worst, abs(Double(a) - b) / max(1, abs(b))) }
        XCTAssertLessThanOrEqual(worst, tolerance, "\(what): max error \(worst)", file: file, line: line)
    }
}

/// The encoder-decoder's numbers: finite-difference gradient checks in Double of a decoder step
/// (every attention kind, every cell) and of the whole teacher-forced loss, and parity with PyTorch
/// for one attention decoder step and for the full loss with its gradients.
final class Seq2SeqTests: XCTestCase {
    static let kinds: [AttentionKind?] = [nil] + AttentionKind.allCases

    /// Each layer's state from its h and (LSTM) c.
    static func layers<S: TensorScalar>(_ cell: CellKind, h: [Tensor<S>], c: [Tensor<S>]) -> [RecurrentState<S>] {
        cell == .lstm ? zip(h, c).map { .lstm(LSTMState(h: $0, c: $1)) } : h.map { .hidden($0) }
    }

    /// Every h, then (LSTM) every c: the state's tensors as the gradient checks list them.
    static func tensors(_ state: DecoderState<Double>) -> [Tensor<Double>] {
        state.h + state.layers.compactMap { $0.lstmState?.c }
    }

    func decoderState(_ cell: CellKind, layers: Int, batch: Int, hidden: Int, generator: inout RandomGenerator) -> DecoderState<Double> {
        let h = (0..<layers).map { _ in Tensor<Double>.normal([batch, hidden], generator: &generator, requiresGrad: true) }
        let c = cell == .lstm ? (0..<layers).map { _ in Tensor<Double>.normal([batch, hidden], generator: &generator, requiresGrad: true) } : []
        return DecoderState(layers: Self.layers(cell, h: h, c: c))
    }

    /// Every cell (a Jordan cell's state is its fed-back output y) with every attention kind.
    func testDecoderStepGradients() {
        for kind in Self.kinds {
            for cell in CellKind.allCases {
                var rng = RandomGenerator(seed: 41)
                let decoder = Decoder<Double>(cell: cell, vocabularySize: 6, embeddingSize: 3, hiddenSize: 4, layers: 2, attention: kind,
                                              attentionSize: 3, dropout: 0, seed: 1, generator: &rng)
                let state = decoderState(cell, layers: 2, batch: 2, hidden: 4, generator: &rng)
                let keys = Tensor<Double>.normal([2, 3, 4], generator: &rng, requiresGrad: true)
                let lengths = [3, 2]
                let stateInputs = Self.tensors(state)
                let result = gradientCheck([keys] + stateInputs + decoder.parameters()) { v in
                    let s = DecoderState(layers: Self.layers(cell, h: Array(v[1...2]), c: cell == .lstm ? Array(v[3...4]) : []))
                    let memory = decoder.attention?.memory(keys: v[0], lengths: lengths)
                    let out = decoder.step([2, 4], state: s, memory: memory)
                    return Tensor.concat([out.logits] + Self.tensors(out.state) + (out.weights.map { [$0] } ?? []), axis: 1)
                }
                XCTAssertLessThan(result.maxError, 1e-7, "decoder step, \(cell), attention \(kind?.rawValue ?? "none"): \(result)")
            }
        }
    }

    /// Input feeding: the step's gradients reach the fed attentional vector o_{t−1}, and o_t is part of its output.
    func testDecoderStepGradientsWithInputFeeding() {
        for kind in [AttentionKind.luongDot, .luongGeneral, .luongConcat] {
            for cell in [CellKind.lstm, .gru, .jordan] {
                var rng = RandomGenerator(seed: 43)
                let decoder = Decoder<Double>(cell: cell, vocabularySize: 6, embeddingSize: 3, hiddenSize: 4, layers: 2, attention: kind,
                                              attentionSize: 3, inputFeeding: true, dropout: 0, seed: 1, generator: &rng)
                let firstInputs = (decoder.cells[0] as? any RecurrentCell)?.inputSize
                XCTAssertEqual(firstInputs, 3 + 4)
                let state = decoderState(cell, layers: 2, batch: 2, hidden: 4, generator: &rng)
                let fed = Tensor<Double>.normal([2, 4], generator: &rng, requiresGrad: true)
                let keys = Tensor<Double>.normal([2, 3, 4], generator: &rng, requiresGrad: true)
                let stateInputs = Self.tensors(state)
                let result = gradientCheck([keys, fed] + stateInputs + decoder.parameters()) { v in
                    let s = DecoderState(layers: Self.layers(cell, h: Array(v[2...3]), c: cell == .lstm ? Array(v[4...5]) : []), attentional: v[1])
                    let out = decoder.step([2, 4], state: s, memory: decoder.attention?.memory(keys: v[0], lengths: [3, 2]))
                    return Tensor.concat([out.logits, out.state.attentional!] + Self.tensors(out.state), axis: 1)
                }
                XCTAssertLessThan(result.maxError, 1e-7, "decoder step with input feeding, \(cell), \(kind.rawValue): \(result)")
            }
        }
    }

    func testInputFeedingNeedsLuongAttention() throws {
        for attention in [Seq2SeqAttention.none, .bahdanau] {
            let config = Seq2SeqConfig(sourceVocabularySize: 6, targetVocabularySize: 7, attention: attention, inputFeeding: true)
            XCTAssertThrowsError(try config.validate(), attention.rawValue)
        }
        XCTAssertNoThrow(try Seq2SeqConfig(sourceVocabularySize: 6, targetVocabularySize: 7, attention: .luongDot, inputFeeding: true).validate())
        // A config written before input feeding existed reads as without it.
        var json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(Seq2SeqConfig(sourceVocabularySize: 6, targetVocabularySize: 7))) as! [String: Any]
        json["inputFeeding"] = nil
        let old = try JSONDecoder().decode(Seq2SeqConfig.self, from: JSONSerialization.data(withJSONObject: json))
        XCTAssertFalse(old.inputFeeding)
        XCTAssertEqual(old, Seq2SeqConfig(sourceVocabularySize: 6, targetVocabularySize: 7))
    }

    func testTeacherForcedLossGradients() {
        for (cell, bidirectional, attention, feeding) in [(CellKind.lstm, true, Seq2SeqAttention.bahdanau, false), (CellKind.gru, false, Seq2SeqAttention.luongConcat, false), (CellKind.rnn, true, Seq2SeqAttention.none, false),
                                                          (CellKind.lstm, true, Seq2SeqAttention.luongGeneral, true), (CellKind.gru, false, Seq2SeqAttention.luongDot, true),
                                                          (CellKind.jordan, true, Seq2SeqAttention.bahdanau, false), (CellKind.jordan, false, Seq2SeqAttention.luongGeneral, true)] {
            let config = Seq2SeqConfig(sourceVocabularySize: 6, targetVocabularySize: 7, embeddingSize: 3, hiddenSize: 3, layers: 1, cell: cell,
                                       bidirectional: bidirectional, attention: attention, attentionSize: 2, dropout: 0, inputFeeding: feeding)
            let model = Seq2Seq<Double>(config, seed: 3)
            let batch = Seq2SeqBatch(sources: [[3, 4, 5], [2]], targets: [[4, 5], [6, 4, 4]], bos: 2, eos: 3)
            var rng = RandomGenerator(seed: 0)
            let result = gradientCheck(model.parameters()) { _ in model.loss(batch, teacherForcing: 1, generator: &rng) }
            XCTAssertLessThan(result.maxError, 1e-7, "\(cell) \(attention)\(feeding ? " input feeding" : ""): \(result)")
        }
    }

    func testDecoderStepMatchesPyTorch() throws {
        for c in try Seq2SeqFixtures.cases("decoder_step") {
            try runDecoderStepCase(c, Double.self, tolerance: 1e-10)
            try runDecoderStepCase(c, Float.self, tolerance: 5e-5)
        }
    }

    func runDecoderStepCase<S: TensorScalar>(_ c: [String: Any], _: S.Type, tolerance: Double) throws {
        let config = try XCTUnwrap(c["config"] as? [String: Any])
        let name = "decoder step \(c["name"] as? String ?? "?") \(S.self)"
        let cell = try XCTUnwrap(CellKind(rawValue: try XCTUnwrap(config["cell"] as? String)))
        let layers = try XCTUnwrap(config["layers"] as? Int)
        var rng = RandomGenerator(seed: 0)
        let decoder = Decoder<S>(cell: cell, vocabularySize: try XCTUnwrap(config["vocabularySize"] as? Int), embeddingSize: try XCTUnwrap(config["embeddingSize"] as? Int),
                                 hiddenSize: try XCTUnwrap(config["hiddenSize"] as? Int), layers: layers,
                                 attention: AttentionKind(rawValue: config["attention"] as? String ?? ""), attentionSize: try XCTUnwrap(config["attentionSize"] as? Int),
                                 dropout: 0, seed: 0, generator: &rng)
        try decoder.loadParameters(Seq2SeqFixtures.tensors(c["parameters"], S.self))
        let inputs = try Seq2SeqFixtures.tensors(c["inputs"], S.self, requiresGrad: true)
        let state = DecoderState(layers: Self.layers(cell, h: try (0..<layers).map { try XCTUnwrap(inputs["h\($0)"]) },
                                                     c: cell == .lstm ? try (0..<layers).map { try XCTUnwrap(inputs["c\($0)"]) } : []))
        let memory = decoder.attention!.memory(keys: try XCTUnwrap(inputs["keys"]), lengths: try XCTUnwrap(c["lengths"] as? [Int]))
        let out = decoder.step(try XCTUnwrap(c["tokens"] as? [Int]), state: state, memory: memory)
        var outputs = ["logits": out.logits, "weights": try XCTUnwrap(out.weights)]
        for l in 0..<layers {
            outputs["h\(l)"] = out.state.h[l]
            if let s = out.state.layers[l].lstmState { outputs["c\(l)"] = s.c }
        }
        let expected = try XCTUnwrap(c["outputs"] as? [String: Any])
        XCTAssertEqual(Set(outputs.keys), Set(expected.keys), name)
        let weights = try Seq2SeqFixtures.tensors(c["weights"], S.self)
        var loss: Tensor<S>?
        for (key, value) in outputs.sorted(by: { $0.key < $1.key }) {
            try Seq2SeqFixtures.assertClose(value, expected[key], "\(name) \(key)", tolerance)
            let term = (value * (try XCTUnwrap(weights[key]))).sum()
            loss = loss.map { $0 + term } ?? term
        }
        try XCTUnwrap(loss).backward()
        let grads = try XCTUnwrap(c["grads"] as? [String: Any])
        for (key, x) in inputs { try Seq2SeqFixtures.assertClose(x.grad, grads[key], "\(name) ∂/∂\(key)", tolerance) }
        let named = decoder.namedParameters()
        XCTAssertEqual(Set(grads.keys), Set(inputs.keys).union(named.map(\.name)), name)
        for (key, p) in named { try Seq2SeqFixtures.assertClose(p.grad, grads[key], "\(name) ∂/∂\(key)", tolerance) }
    }

    func testTeacherForcedLossMatchesPyTorch() throws {
        let cases = try Seq2SeqFixtures.cases("seq2seq_loss")
        XCTAssertEqual(Set(cases.compactMap { ($0["config"] as? [String: Any])?["attention"] as? String }), Set(Seq2SeqAttention.allCases.map(\.rawValue)))
        for c in cases {
            try runLossCase(c, Double.self, tolerance: 1e-10)
            try runLossCase(c, Float.self, tolerance: 5e-5)
        }
    }

    func runLossCase<S: TensorScalar>(_ c: [String: Any], _: S.Type, tolerance: Double) throws {
        let name = "seq2seq loss \(c["name"] as? String ?? "?") \(S.self)"
        let configData = try JSONSerialization.data(withJSONObject: try XCTUnwrap(c["config"]))
        let config = try JSONDecoder().decode(Seq2SeqConfig.self, from: configData)
        try config.validate()
        let model = Seq2Seq<S>(config, seed: 0)
        try model.loadParameters(Seq2SeqFixtures.tensors(c["parameters"], S.self))
        let batch = Seq2SeqBatch(sources: try XCTUnwrap(c["sources"] as? [[Int]]), targets: try XCTUnwrap(c["targets"] as? [[Int]]), bos: 2, eos: 3)
        let loss = model.loss(batch)
        let want = try XCTUnwrap(c["loss"] as? Double)
        XCTAssertEqual(Double(loss.item), want, accuracy: tolerance * max(1, abs(want)), name)
        loss.backward()
        let grads = try XCTUnwrap(c["grads"] as? [String: Any])
        let named = model.namedParameters()
        XCTAssertEqual(Set(grads.keys), Set(named.map(\.name)), name)
        for (key, p) in named { try Seq2SeqFixtures.assertClose(p.grad, grads[key], "\(name) ∂/∂\(key)", tolerance) }
    }

    /// Teacher forcing below 1 feeds the model's own predictions: a different loss, the same for the same generator seed.
    func testScheduledSamplingFeedsPredictions() {
        let config = Seq2SeqConfig(sourceVocabularySize: 6, targetVocabularySize: 8, embeddingSize: 4, hiddenSize: 5, attention: .luongDot, dropout: 0)
        let model = Seq2Seq<Double>(config, seed: 4)
        let batch = Seq2SeqBatch(sources: [[3, 4, 5], [2, 5]], targets: [[4, 5, 6, 7], [6, 4, 4, 5]], bos: 2, eos: 3)
        var g1 = RandomGenerator(seed: 9), g2 = RandomGenerator(seed: 9), g3 = RandomGenerator(seed: 9)
        let forced = model.loss(batch, teacherForcing: 1, generator: &g1).item
        let free = model.loss(batch, teacherForcing: 0, generator: &g2).item
        let again = model.loss(batch, teacherForcing: 0, generator: &g3).item
        XCTAssertNotEqual(forced, free)
        XCTAssertEqual(free, again)
        XCTAssertEqual(forced, model.loss(batch).item)
        var options = TranslationTask.Settings()
        options.teacherForcing = 1
        options.teacherForcingEnd = 0.5
        XCTAssertEqual(options.teacherForcingRatio(step: 1, totalSteps: 11), 1)
        XCTAssertEqual(options.teacherForcingRatio(step: 6, totalSteps: 11), 0.75, accuracy: 1e-12)
        XCTAssertEqual(options.teacherForcingRatio(step: 11, totalSteps: 11), 0.5, accuracy: 1e-12)
        options.teacherForcingEnd = nil
        XCTAssertEqual(options.teacherForcingRatio(step: 6, totalSteps: 11), 1)
    }

    func testParameterNamesFollowTheModules() {
        let config = Seq2SeqConfig(sourceVocabularySize: 6, targetVocabularySize: 8, embeddingSize: 4, hiddenSize: 5, layers: 2, attention: .bahdanau)
        let names = Seq2Seq<Float>(config, seed: 1).namedParameters().map(\.name)
        for expected in ["encoder.embedding.weight", "encoder.rnn.weight_ih_l1_reverse", "encoder.bridge.weight", "encoder.bridge_c.bias",
                         "decoder.cell_l0.weight_ih", "decoder.cell_l1.bias_hh", "decoder.attention.query_layer.weight", "decoder.combine.weight",
                         "decoder.output.bias"] {
            XCTAssertTrue(names.contains(expected), expected)
        }
    }
}
