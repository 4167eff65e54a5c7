import Foundation
import XCTest
@testable import RecurrentNN
import RecurrentTensor

/// Attention (Bahdanau; Luong dot, general, concat): finite-difference gradient checks in Double,
/// masking of padded source positions, and values and gradients against PyTorch from
/// Tests/Fixtures/attention/attention.json (Scripts/make_attention_fixtures.py).
final class AttentionTests: XCTestCase {
    /// Keys (B, S, K) that are zero past each length, as encoder outputs are.
    func paddedKeys(_ b: Int, _ s: Int, _ k: Int, lengths: [Int], generator: inout RandomGenerator) -> Tensor<Double> {
        let keys = Tensor<Double>.normal([b, s, k], generator: &generator)
        for r in 0..<b { for j in lengths[r]..<s { for i in 0..<k { keys[r, j, i] = 0 } } }
        keys.requiresGrad = true
        return keys
    }

    func testGradientsOfEveryKind() {
        for kind in AttentionKind.allCases {
            var rng = RandomGenerator(seed: 31)
            let attention = Attention<Double>(kind: kind, querySize: 4, keySize: 4, attentionSize: 3, generator: &rng)
            let lengths = [5, 2, 3]
            let query = Tensor<Double>.normal([3, 4], generator: &rng, requiresGrad: true)
            let keys = paddedKeys(3, 5, 4, lengths: lengths, generator: &rng)
            let result = gradientCheck([query, keys] + attention.parameters()) { v in
                let (context, weights) = attention(v[0], memory: attention.memory(keys: v[1], lengths: lengths))
                return Tensor.concat([context, weights], axis: 1)
            }
            XCTAssertLessThan(result.maxError, 1e-7, "\(kind): \(result)")
            XCTAssertEqual(attention.parameters().isEmpty, kind == .luongDot)
        }
    }

    func testParameterNames() {
        var rng = RandomGenerator(seed: 32)
        func names(_ kind: AttentionKind) -> [String] {
            Attention<Float>(kind: kind, querySize: 4, keySize: 6, attentionSize: 3, generator: &rng).namedParameters().map(\.name)
        }
        XCTAssertEqual(names(.bahdanau), ["query_layer.weight", "query_layer.bias", "key_layer.weight", "key_layer.bias", "energy_layer.weight"])
        XCTAssertEqual(names(.luongGeneral), ["key_layer.weight"])
        XCTAssertEqual(names(.luongConcat), ["weight", "energy_layer.weight"])
        XCTAssertEqual(AttentionKind(rawValue: "luong-general"), .luongGeneral)
    }

    /// Padded positions get weight exactly 0, whatever their keys hold, and no gradient flows to them.
    func testPaddingNeverReceivesAttention() {
        for kind in AttentionKind.allCases {
            var rng = RandomGenerator(seed: 33)
            let attention = Attention<Double>(kind: kind, querySize: 4, keySize: 4, attentionSize: 3, generator: &rng)
            let lengths = [4, 1, 2]
            let query = Tensor<Double>.normal([3, 4], generator: &rng)
            let keys = paddedKeys(3, 4, 4, lengths: lengths, generator: &rng)
            let (context, weights) = attention(query, memory: attention.memory(keys: keys, lengths: lengths))
            for r in 0..<3 {
                var total = 0.0
                for j in 0..<4 {
                    if j >= lengths[r] { XCTAssertEqual(weights[r, j], 0, "\(kind): row \(r) position \(j) is padding") }
                    else { XCTAssertGreaterThan(weights[r, j], 0) }
                    total += weights[r, j]
                }
                XCTAssertEqual(total, 1, accuracy: 1e-12)
            }
            XCTAssertEqual(weights[1, 0], 1, "a single valid position takes all the weight")
            // Huge values at padded positions change nothing.
            let noisy = keys.clone()
            for r in 0..<3 { for j in lengths[r]..<4 { for i in 0..<4 { noisy[r, j, i] = 1e6 * Double(i + 1) } } }
            noisy.requiresGrad = true
            let (context2, weights2) = attention(query, memory: attention.memory(keys: noisy, lengths: lengths))
            XCTAssertEqual(weights2.scalars, weights.scalars, "\(kind)")
            for (a, b) in zip(context2.scalars, context.scalars) { XCTAssertEqual(a, b, accuracy: 1e-12) }
            (context2.sum() + (weights2 * weights2).sum()).backward()
            let g = noisy.grad!
            for r in 0..<3 { for j in lengths[r]..<4 { for i in 0..<4 { XCTAssertEqual(g[r, j, i], 0, "\(kind): gradient reached padding") } } }
        }
    }

    /// Beams select rows of a memory: the selected memory gives the selected rows' results.
    func testMemorySelectingRows() {
        var rng = RandomGenerator(seed: 34)
        let attention = Attention<Double>(kind: .bahdanau, querySize: 3, keySize: 3, attentionSize: 2, generator: &rng)
        let lengths = [3, 1]
        let keys = paddedKeys(2, 3, 3, lengths: lengths, generator: &rng)
        let memory = attention.memory(keys: keys, lengths: lengths)
        let query = Tensor<Double>.normal([2, 3], generator: &rng)
        let full = attention(query, memory: memory).weights
        let picked = attention(query.indexSelect(axis: 0, indices: [1, 1, 0]), memory: memory.selecting(rows: [1, 1, 0])).weights
        XCTAssertEqual(picked.scalars, full.indexSelect(axis: 0, indices: [1, 1, 0]).scalars)
    }

    func testMatchesPyTorch() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/attention/attention.json")
        let doc = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        XCTAssertEqual(doc["generator"] as? String, "Scripts/make_attention_fixtures.py")
        XCTAssertNotNil(doc["torch"] as? String)
        let cases = try XCTUnwrap(doc["cases"] as? [[String: Any]])
        XCTAssertEqual(cases.count, AttentionKind.allCases.count)
        for c in cases {
            try runCase(c, Double.self, tolerance: 1e-10)
            try runCase(c, Float.self, tolerance: 2e-5)
        }
    }

    func runCase<S: TensorScalar>(_ c: [String: Any], _: S.Type, tolerance: Double) throws {
        let config = try XCTUnwrap(c["config"] as? [String: Any])
        let kind = try XCTUnwrap(AttentionKind(rawValue: config["kind"] as? String ?? ""))
        let name = "attention \(kind.rawValue) \(S.self)"
        var rng = RandomGenerator(seed: 0)
        let attention = Attention<S>(kind: kind, querySize: try XCTUnwrap(config["querySize"] as? Int), keySize: try XCTUnwrap(config["keySize"] as? Int),
                                     attentionSize: try XCTUnwrap(config["attentionSize"] as? Int), generator: &rng)
        try attention.loadParameters(CellFixtures.tensors(c["parameters"], S.self, requiresGrad: false))
        let inputs = try CellFixtures.tensors(c["inputs"], S.self, requiresGrad: true)
        let lengths = try XCTUnwrap(c["lengths"] as? [Int])
        let (context, weights) = attention(try XCTUnwrap(inputs["query"]), memory: attention.memory(keys: try XCTUnwrap(inputs["keys"]), lengths: lengths))
        try CellFixtures.compareOutputsAndGradients(["context": context, "weights": weights], inputs: inputs,
                                                    parameters: attention.namedParameters(), case: c, name: name, tolerance: tolerance)
    }
}
