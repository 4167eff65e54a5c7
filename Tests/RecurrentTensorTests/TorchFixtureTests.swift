import Foundation
import XCTest
@testable import RecurrentTensor

/// Values and gradients against PyTorch, from the JSON files `Scripts/make_op_fixtures.py` writes to
/// `Tests/Fixtures/ops/`. Each case stores inputs, arguments, the output, a weight w and the gradients
/// of sum(out ⊙ w); every case runs in Double (within 1e-10) and in Float (within 1e-5), relative to
/// max(1, |expected|).
final class TorchFixtureTests: XCTestCase {
    static let fixtureDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // Tests/RecurrentTensorTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // repository root
        .appendingPathComponent("Tests/Fixtures/ops")

    func testSoftmax() throws { try check("softmax") }
    func testLogSoftmax() throws { try check("logSoftmax") }
    func testActivations() throws { try check("activations") }
    func testMatmul() throws { try check("matmul") }
    func testBmm() throws { try check("bmm") }
    func testGather() throws { try check("gather") }
    func testIndexSelect() throws { try check("indexSelect") }
    func testMaskedFill() throws { try check("maskedFill") }
    func testWhere() throws { try check("where") }
    func testClamp() throws { try check("clamp") }
    func testExtrema() throws { try check("extrema") }
    func testReductions() throws { try check("reductions") }
    func testBroadcastArithmetic() throws { try check("broadcast") }

    // MARK: running one fixture file

    func check(_ op: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let url = Self.fixtureDirectory.appendingPathComponent("\(op).json")
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url))
        let doc = try XCTUnwrap(object as? [String: Any], "\(url.path): not a JSON object", file: file, line: line)
        XCTAssertEqual(doc["generator"] as? String, "Scripts/make_op_fixtures.py", file: file, line: line)
        XCTAssertNotNil(doc["torch"] as? String, "\(op).json does not say which torch made it", file: file, line: line)
        XCTAssertEqual(doc["op"] as? String, op, file: file, line: line)
        let cases = try XCTUnwrap(doc["cases"] as? [[String: Any]], file: file, line: line)
        XCTAssertFalse(cases.isEmpty, "\(op).json has no cases", file: file, line: line)
        for c in cases {
            try run(op, c, Double.self, tolerance: 1e-10)
            try run(op, c, Float.self, tolerance: 1e-5)
        }
    }

    func run<S: TensorScalar>(_ op: String, _ c: [String: Any], _: S.Type, tolerance: Double) throws {
        let name = "\(op) [\(c["name"] as? String ?? "?")] \(S.self)"
        let args = c["args"] as? [String: Any] ?? [:]
        let inputSpecs = try XCTUnwrap(c["inputs"] as? [String: Any], name)
        var inputs: [String: Tensor<S>] = [:]
        for (key, spec) in inputSpecs { inputs[key] = try tensor(spec, S.self, requiresGrad: true) }

        let out = apply(op, args, inputs)
        try compare(out, c["output"], "\(name) output", tolerance)
        if let expected = c["indices"] {
            let axis = try int(args["axis"])
            let x = try XCTUnwrap(inputs["x"])
            let got = try string(args["fn"]) == "max" ? x.argmax(axis: axis) : x.argmin(axis: axis)
            XCTAssertEqual(got, try ints(expected), "\(name) indices")
        }

        let weight = try tensor(c["weight"], S.self, requiresGrad: false)
        (out * weight).sum().backward()
        let gradSpecs = try XCTUnwrap(c["grads"] as? [String: Any], name)
        for (key, spec) in gradSpecs {
            let x = try XCTUnwrap(inputs[key], "\(name): gradient for unknown input \(key)")
            try compare(x.grad ?? Tensor<S>.zeros(x.shape), spec, "\(name) d/d\(key)", tolerance)
        }
    }

    /// The Swift op a fixture case names, applied to its inputs.
    func apply<S: TensorScalar>(_ op: String, _ args: [String: Any], _ t: [String: Tensor<S>]) -> Tensor<S> {
        let x = t["x"], a = t["a"], b = t["b"]
        do {
            switch op {
            case "softmax": return x!.softmax(axis: try int(args["axis"]))
            case "logSoftmax": return x!.logSoftmax(axis: try int(args["axis"]))
            case "activations":
                switch try string(args["fn"]) {
                case "tanh": return x!.tanh()
                case "sigmoid": return x!.sigmoid()
                case "relu": return x!.relu()
                case "square": return x!.square()
                case let fn: XCTFail("unknown activation \(fn)")
                }
            case "matmul": return a!.matmul(t["w"]!, transposeOther: try bool(args["transposeOther"]))
            case "bmm": return a!.bmm(b!)
            case "gather":
                return x!.gather(axis: try int(args["axis"]), indices: try ints(args["indices"]), indexShape: try ints(args["indexShape"]))
            case "indexSelect": return x!.indexSelect(axis: try int(args["axis"]), indices: try ints(args["indices"]))
            case "maskedFill":
                return x!.maskedFill(mask: try bools(args["mask"]), maskShape: try ints(args["maskShape"]), value: S(try double(args["value"])))
            case "where": return Tensor.where(condition: try bools(args["condition"]), a!, b!)
            case "clamp":
                return x!.clamp(min: try args["min"].map { S(try double($0)) }, max: try args["max"].map { S(try double($0)) })
            case "extrema", "reductions":
                let fn = try string(args["fn"])
                guard let axisValue = args["axis"] else {
                    switch fn {
                    case "max": return x!.max()
                    case "min": return x!.min()
                    case "sum": return x!.sum()
                    default: return x!.mean()
                    }
                }
                let (axis, keep) = (try int(axisValue), try bool(args["keepDim"]))
                switch fn {
                case "max": return x!.max(axis: axis, keepDim: keep)
                case "min": return x!.min(axis: axis, keepDim: keep)
                case "sum": return x!.sum(axis: axis, keepDim: keep)
                default: return x!.mean(axis: axis, keepDim: keep)
                }
            case "broadcast": return try string(args["fn"]) == "mul" ? a! * b! : a! / b!
            default: XCTFail("no Swift op for fixture \(op)")
            }
        } catch {
            XCTFail("\(op): bad fixture arguments \(args): \(error)")
        }
        return Tensor<S>.zeros([0])
    }

    // MARK: JSON helpers

    struct FixtureError: Error, CustomStringConvertible {
        var description: String
    }

    func number(_ any: Any?) throws -> NSNumber {
        guard let n = any as? NSNumber else { throw FixtureError(description: "expected a number, got \(String(describing: any))") }
        return n
    }
    func double(_ any: Any?) throws -> Double { try number(any).doubleValue }
    func int(_ any: Any?) throws -> Int { try number(any).intValue }
    func bool(_ any: Any?) throws -> Bool { try number(any).boolValue }
    func string(_ any: Any?) throws -> String {
        guard let s = any as? String else { throw FixtureError(description: "expected a string, got \(String(describing: any))") }
        return s
    }
    func array(_ any: Any?) throws -> [Any] {
        guard let a = any as? [Any] else { throw FixtureError(description: "expected an array, got \(String(describing: any))") }
        return a
    }
    func ints(_ any: Any?) throws -> [Int] { try array(any).map(int) }
    func bools(_ any: Any?) throws -> [Bool] { try array(any).map(bool) }

    /// A `{"shape": [...], "data": [...]}` object as a tensor.
    func tensor<S: TensorScalar>(_ any: Any?, _: S.Type, requiresGrad: Bool) throws -> Tensor<S> {
        guard let spec = any as? [String: Any] else { throw FixtureError(description: "expected a tensor object, got \(String(describing: any))") }
        let shape = try ints(spec["shape"])
        let data = try array(spec["data"]).map { S(try double($0)) }
        guard data.count == shape.reduce(1, *) else {
            throw FixtureError(description: "\(data.count) values for shape \(shape)")
        }
        return Tensor(data, shape: shape, requiresGrad: requiresGrad)
    }

    func compare<S: TensorScalar>(_ got: Tensor<S>, _ expectedSpec: Any?, _ what: String, _ tolerance: Double) throws {
        let expected = try tensor(expectedSpec, Double.self, requiresGrad: false)
        XCTAssertEqual(got.shape, expected.shape, "\(what): shape")
        guard got.shape == expected.shape else { return }
        var worst = (error: 0.0, index: 0)
        for (i, (g, e)) in zip(got.scalars, expected.scalars).enumerated() {
            let err = Swift.abs(Double(g) - e) / Swift.max(1, Swift.abs(e))
            if !worst.error.isNaN && !(err <= worst.error) { worst = (err, i) }  // a NaN is the worst, and stays
        }
        XCTAssertLessThanOrEqual(worst.error, tolerance,
                                 "\(what): element \(worst.index) is \(got.scalars[worst.index]), torch has \(expected.scalars[worst.index])")
    }
}
