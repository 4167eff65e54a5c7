import Foundation
import XCTest
@testable import RecurrentIO
import RecurrentTensor

/// Tests/Fixtures/io, found from this file's path (…/Tests/RecurrentIOTests/TestSupport.swift).
let fixturesDirectory = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent()  // RecurrentIOTests
    .deletingLastPathComponent()  // Tests
    .appendingPathComponent("Fixtures")
    .appendingPathComponent("io")

func fixture(_ name: String) -> URL { fixturesDirectory.appendingPathComponent(name) }

/// A fresh, empty directory removed by the test case's teardown.
func makeTemporaryDirectory(for testCase: XCTestCase) throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("RecurrentIOTests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    testCase.addTeardownBlock {
        // Restore permissions in case a test removed them, then delete.
        try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path)
        try? FileManager.default.removeItem(at: url)
    }
    return url
}

func directoryListing(_ url: URL) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []).sorted()
}

/// A safetensors file with the given header text and data buffer. The length prefix is the header's
/// byte count unless `declaredLength` overrides it.
func safetensorsBytes(_ header: String, buffer: [UInt8] = [], declaredLength: UInt64? = nil) -> Data {
    let headerBytes = Array(header.utf8)
    return safetensorsBytes(headerBytes: headerBytes, buffer: buffer, declaredLength: declaredLength)
}

func safetensorsBytes(headerBytes: [UInt8], buffer: [UInt8] = [], declaredLength: UInt64? = nil) -> Data {
    var data = Data()
    withUnsafeBytes(of: (declaredLength ?? UInt64(headerBytes.count)).littleEndian) { data.append(contentsOf: $0) }
    data.append(contentsOf: headerBytes)
    data.append(contentsOf: buffer)
    return data
}

/// Asserts that decoding `data` (as Float and as Double, and the header alone) throws exactly `expected`.
func assertDecodeFails(_ data: Data, _ expected: SafetensorsError, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertThrowsError(try Safetensors.decode(data, as: Float.self), file: file, line: line) { error in
        XCTAssertEqual(error as? SafetensorsError, expected, "\(error)", file: file, line: line)
    }
    XCTAssertThrowsError(try Safetensors.decode(data, as: Double.self), file: file, line: line) { error in
        XCTAssertEqual(error as? SafetensorsError, expected, file: file, line: line)
    }
    XCTAssertThrowsError(try Safetensors.decodeHeader(data), file: file, line: line) { error in
        XCTAssertEqual(error as? SafetensorsError, expected, file: file, line: line)
    }
}

/// Compares element by element with bitwise equality semantics for NaN and signed zero.
func assertSameScalars<S: TensorScalar>(_ actual: [S], _ expected: [S], file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.count, expected.count, "element count", file: file, line: line)
    for (i, (a, e)) in zip(actual, expected).enumerated() {
        let same = (a.isNaN && e.isNaN) || (a == e && a.sign == e.sign)
        XCTAssertTrue(same, "element \(i): \(a) != \(e)", file: file, line: line)
    }
}

// The tensors that Scripts/make_io_fixtures.py writes to python_f32 / python_f64.safetensors.
func pythonF32Tensors() -> [String: Tensor<Float>] {
    [
        "weight_ih_l0": Tensor((0..<12).map { Float($0) * 0.25 - 1 }, shape: [3, 4]),
        "bias_ih_l0": Tensor([0.5, -0.5, 1.5], shape: [3]),
        "embedding.weight": Tensor([1, 2, -1, 0.125], shape: [2, 2]),
        "scalar": Tensor(scalar: 2.5),
        "empty": Tensor(zeros: [0, 2]),
        "n\u{E4}me \"q\"\n": Tensor([7], shape: [1]),
    ]
}

func pythonF64Tensors() -> [String: Tensor<Double>] {
    [
        "b": Tensor([0.1, -0.2], shape: [2]),
        "a": Tensor([1.0 / 3.0, 2.0 / 3.0, 0x1p-1030], shape: [3, 1]),
    ]
}
