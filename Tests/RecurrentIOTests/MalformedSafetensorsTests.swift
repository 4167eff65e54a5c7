import Foundation
import XCTest
@testable import RecurrentIO
import RecurrentTensor

/// Every way a file can be malformed gets its own typed error, never a crash.
final class MalformedSafetensorsTests: XCTestCase {
    /// A one-tensor header for `{"t": {...}}` with the given fields.
    func entry(_ fields: String) -> String { #"{"t":{"# + fields + "}}" }

    // MARK: length prefix

    func testEmptyFile() {
        assertDecodeFails(Data(), .fileTooSmall(byteCount: 0))
    }

    func testFileShorterThanLengthPrefix() {
        assertDecodeFails(Data([1, 0, 0]), .fileTooSmall(byteCount: 3))
    }

    func testHeaderLengthLargerThanFile() {
        let data = safetensorsBytes("{}", declaredLength: 50)
        assertDecodeFails(data, .headerExceedsFile(declared: 50, available: 2))
    }

    func testFileTruncatedInsideHeader() throws {
        let whole = Safetensors.encode(["weight": Tensor<Float>([1, 2, 3])])
        let cut = whole.prefix(20)
        assertDecodeFails(Data(cut), .headerExceedsFile(declared: UInt64(whole.count - 8 - 12), available: 12))
    }

    func testAbsurdHeaderLength() {
        assertDecodeFails(safetensorsBytes("{}", declaredLength: UInt64.max), .headerTooLarge(declared: UInt64.max, limit: 100_000_000))
        assertDecodeFails(safetensorsBytes("{}", declaredLength: 100_000_001), .headerTooLarge(declared: 100_000_001, limit: 100_000_000))
    }

    // MARK: header text

    func testHeaderNotUTF8() {
        assertDecodeFails(safetensorsBytes(headerBytes: Array(#"{"a"#.utf8) + [0xC3, 0x28] + Array(#"":1}"#.utf8)),
                          .headerNotUTF8(byteOffset: 3))
        // An overlong encoding of '/' and an encoded surrogate are not UTF-8 either.
        assertDecodeFails(safetensorsBytes(headerBytes: [0x7B, 0xC0, 0xAF, 0x7D]), .headerNotUTF8(byteOffset: 1))
        assertDecodeFails(safetensorsBytes(headerBytes: [0x7B, 0xED, 0xA0, 0x80, 0x7D]), .headerNotUTF8(byteOffset: 1))
    }

    func testHeaderNotJSON() {
        assertDecodeFails(safetensorsBytes("not json"), .invalidJSON(byteOffset: 0, reason: "unexpected 'n', expected 'null'"))
        assertDecodeFails(safetensorsBytes(#"{"t":"#), .invalidJSON(byteOffset: 5, reason: "unexpected end of input, expected a value"))
        assertDecodeFails(safetensorsBytes("{} x"), .invalidJSON(byteOffset: 3, reason: "unexpected 'x' after the top-level value"))
        assertDecodeFails(safetensorsBytes(""), .invalidJSON(byteOffset: 0, reason: "unexpected end of input, expected a value"))
    }

    func testDeeplyNestedHeaderIsRejectedWithoutRecursingForever() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        XCTAssertThrowsError(try Safetensors.decodeHeader(safetensorsBytes(#"{"__metadata__":"# + deep + "}"))) { error in
            guard case .invalidJSON(_, let reason)? = error as? SafetensorsError else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.contains("nesting"), reason)
        }
    }

    func testHeaderNotObject() {
        assertDecodeFails(safetensorsBytes("[1, 2]"), .headerNotObject(found: "an array"))
        assertDecodeFails(safetensorsBytes(#""text""#), .headerNotObject(found: #"the string "text""#))
    }

    func testDuplicateTensorName() {
        let e = #"{"dtype":"F32","shape":[],"data_offsets":[0,4]}"#
        assertDecodeFails(safetensorsBytes(#"{"t":"# + e + #","t":"# + e + "}", buffer: Array(repeating: 0, count: 8)), .duplicateKey("t"))
    }

    func testMetadataNotAnObjectOfStrings() {
        assertDecodeFails(safetensorsBytes(#"{"__metadata__":[1]}"#), .invalidMetadata(reason: "found an array"))
        assertDecodeFails(safetensorsBytes(#"{"__metadata__":{"step":100}}"#), .invalidMetadata(reason: #"value of "step" is the number 100"#))
    }

    // MARK: entries

    func testEntryNotAnObject() {
        assertDecodeFails(safetensorsBytes(#"{"t":[1]}"#), .invalidEntry(tensor: "t", found: "an array"))
    }

    func testMissingFields() {
        assertDecodeFails(safetensorsBytes(entry(#""shape":[1],"data_offsets":[0,4]"#), buffer: [0, 0, 0, 0]),
                          .missingField(tensor: "t", field: "dtype"))
        assertDecodeFails(safetensorsBytes(entry(#""dtype":"F32","data_offsets":[0,4]"#), buffer: [0, 0, 0, 0]),
                          .missingField(tensor: "t", field: "shape"))
        assertDecodeFails(safetensorsBytes(entry(#""dtype":"F32","shape":[1]"#), buffer: [0, 0, 0, 0]),
                          .missingField(tensor: "t", field: "data_offsets"))
    }

    func testDtypeNotAString() {
        assertDecodeFails(safetensorsBytes(entry(#""dtype":32,"shape":[1],"data_offsets":[0,4]"#), buffer: [0, 0, 0, 0]),
                          .invalidField(tensor: "t", field: "dtype", expected: #"a string such as "F32""#, found: "the number 32"))
    }

    func testUnknownDtype() {
        assertDecodeFails(safetensorsBytes(entry(#""dtype":"F17","shape":[1],"data_offsets":[0,4]"#), buffer: [0, 0, 0, 0]),
                          .unsupportedDtype(tensor: "t", dtype: "F17"))
        // Defined by the format but not convertible here.
        assertDecodeFails(safetensorsBytes(entry(#""dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]"#), buffer: [0]),
                          .unsupportedDtype(tensor: "t", dtype: "F8_E4M3"))
        XCTAssertTrue(SafetensorsError.unsupportedDtype(tensor: "t", dtype: "F17").description.contains("expected one of BOOL, U8"))
    }

    func testShapeNotAnArray() {
        assertDecodeFails(safetensorsBytes(entry(#""dtype":"F32","shape":4,"data_offsets":[0,16]"#), buffer: Array(repeating: 0, count: 16)),
                          .invalidField(tensor: "t", field: "shape", expected: "an array of non-negative integers", found: "the number 4"))
    }

    func testNegativeShapeEntry() {
        assertDecodeFails(safetensorsBytes(entry(#""dtype":"F32","shape":[2,-2],"data_offsets":[0,16]"#), buffer: Array(repeating: 0, count: 16)),
                          .invalidShape(tensor: "t", index: 1, found: "the number -2"))
    }

    func testNonIntegerShapeEntries() {
        for (text, found) in [("2.5", "the number 2.5"), ("4.0", "the number 4.0"), ("4e0", "the number 4e0"),
                              (#""4""#, #"the string "4""#), ("null", "null"), ("true", "true"),
                              ("99999999999999999999", "the number 99999999999999999999")] {
            assertDecodeFails(safetensorsBytes(entry(#""dtype":"F32","shape":["# + text + #"],"data_offsets":[0,16]"#), buffer: Array(repeating: 0, count: 16)),
                              .invalidShape(tensor: "t", index: 0, found: found))
        }
    }

    func testShapeElementCountOverflows() {
        // 2^32 · 2^32 overflows before the 0 would make the product 0.
        assertDecodeFails(safetensorsBytes(entry(#""dtype":"F32","shape":[4294967296,4294967296,0],"data_offsets":[0,0]"#)),
                          .shapeOverflow(tensor: "t", shape: [4_294_967_296, 4_294_967_296, 0], dtype: "F32"))
        // The element count fits but the byte count does not.
        assertDecodeFails(safetensorsBytes(entry(#""dtype":"F64","shape":[2305843009213693952],"data_offsets":[0,0]"#)),
                          .shapeOverflow(tensor: "t", shape: [2_305_843_009_213_693_952], dtype: "F64"))
    }

    func testShapeDisagreesWithByteRange() {
        let header = #"{"weight_ih_l0":{"dtype":"F32","shape":[4,8],"data_offsets":[0,96]}}"#
        let error = SafetensorsError.sizeMismatch(tensor: "weight_ih_l0", begin: 0, end: 96, shape: [4, 8], dtype: "F32", expectedByteCount: 128)
        assertDecodeFails(safetensorsBytes(header, buffer: Array(repeating: 0, count: 96)), error)
        XCTAssertEqual(error.description, "tensor 'weight_ih_l0': data_offsets [0, 96] give 96 bytes but shape [4, 8] of F32 needs 128")
    }

    func testHugeShapeIsNotAllocated() {
        // Claims 2^40 floats in 4 bytes: must be rejected from the header alone.
        assertDecodeFails(safetensorsBytes(entry(#""dtype":"F32","shape":[1099511627776],"data_offsets":[0,4]"#), buffer: [0, 0, 0, 0]),
                          .sizeMismatch(tensor: "t", begin: 0, end: 4, shape: [1 << 40], dtype: "F32", expectedByteCount: 1 << 42))
    }

    // MARK: data_offsets

    func testDataOffsetsMalformed() {
        let expected = "an array [begin, end] of two non-negative integers"
        assertDecodeFails(safetensorsBytes(entry(#""dtype":"F32","shape":[1],"data_offsets":4"#), buffer: [0, 0, 0, 0]),
                          .invalidField(tensor: "t", field: "data_offsets", expected: expected, found: "the number 4"))
        assertDecodeFails(safetensorsBytes(entry(#""dtype":"F32","shape":[1],"data_offsets":[0,4,8]"#), buffer: [0, 0, 0, 0]),
                          .invalidField(tensor: "t", field: "data_offsets", expected: expected, found: "an array of 3 elements"))
        assertDecodeFails(safetensorsBytes(entry(#""dtype":"F32","shape":[1],"data_offsets":[-4,0]"#), buffer: [0, 0, 0, 0]),
                          .invalidField(tensor: "t", field: "data_offsets", expected: expected, found: "an element that is the number -4"))
        assertDecodeFails(safetensorsBytes(entry(#""dtype":"F32","shape":[1],"data_offsets":[0,4.0]"#), buffer: [0, 0, 0, 0]),
                          .invalidField(tensor: "t", field: "data_offsets", expected: expected, found: "an element that is the number 4.0"))
    }

    func testDataOffsetsReversed() {
        assertDecodeFails(safetensorsBytes(entry(#""dtype":"F32","shape":[1],"data_offsets":[4,0]"#), buffer: [0, 0, 0, 0]),
                          .dataOffsetsReversed(tensor: "t", begin: 4, end: 0))
    }

    func testDataOffsetsOutOfBounds() {
        assertDecodeFails(safetensorsBytes(entry(#""dtype":"F32","shape":[2],"data_offsets":[0,8]"#), buffer: [0, 0, 0, 0]),
                          .dataOffsetsOutOfBounds(tensor: "t", begin: 0, end: 8, bufferByteCount: 4))
        assertDecodeFails(safetensorsBytes(entry(#""dtype":"F32","shape":[1],"data_offsets":[9223372036854775803,9223372036854775807]"#), buffer: [0, 0, 0, 0]),
                          .dataOffsetsOutOfBounds(tensor: "t", begin: 9_223_372_036_854_775_803, end: Int.max, bufferByteCount: 4))
    }

    func testFileTruncatedInsideData() throws {
        let whole = Safetensors.encode(["weight": Tensor<Float>([1, 2, 3])])
        assertDecodeFails(Data(whole.dropLast(2)), .dataOffsetsOutOfBounds(tensor: "weight", begin: 0, end: 12, bufferByteCount: 10))
    }

    func testOverlappingData() {
        let header = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#
        assertDecodeFails(safetensorsBytes(header, buffer: Array(repeating: 0, count: 12)), .overlappingData(tensor: "b", other: "a"))
        let same = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#
        assertDecodeFails(safetensorsBytes(same, buffer: Array(repeating: 0, count: 4)), .overlappingData(tensor: "b", other: "a"))
    }

    func testGapBetweenTensors() {
        let header = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#
        assertDecodeFails(safetensorsBytes(header, buffer: Array(repeating: 0, count: 12)), .gapInData(tensor: "b", begin: 8, expectedBegin: 4))
    }

    func testBytesAfterTheLastTensor() {
        assertDecodeFails(safetensorsBytes(entry(#""dtype":"F32","shape":[1],"data_offsets":[0,4]"#), buffer: Array(repeating: 0, count: 9)),
                          .unindexedTrailingBytes(indexedEnd: 4, bufferByteCount: 9))
    }

    // MARK: accepted oddities

    func testAcceptedVariations() throws {
        // Whitespace and padding, fields in any order, unknown fields ignored, escapes in names,
        // empty tensors sharing an offset, no tensors at all.
        let header = "  {\n\"\\u0074\\ud83d\\ude00\" : {\"data_offsets\":[0,4], \"shape\":[], \"dtype\":\"F32\", \"extra\": {\"x\": [null]}},"
            + #""z":{"dtype":"F64","shape":[0],"data_offsets":[4,4]},"y":{"dtype":"F32","shape":[3,0],"data_offsets":[4,4]}}   "#
        let file = try Safetensors.decode(safetensorsBytes(header, buffer: [0, 0, 0x80, 0x3F]), as: Float.self)
        XCTAssertEqual(file.tensors["t😀"]?.item, 1)
        XCTAssertEqual(file.tensors["z"]?.shape, [0])
        XCTAssertEqual(file.tensors["y"]?.shape, [3, 0])
        XCTAssertEqual(try Safetensors.decode(safetensorsBytes("{}"), as: Float.self).tensors.count, 0)
    }

    // MARK: robustness

    /// Every prefix and many corruptions of a valid file either decode or throw a `SafetensorsError`.
    func testTruncationsAndCorruptionsNeverCrash() throws {
        let whole = try Data(contentsOf: fixture("reference.safetensors"))
        for length in 0..<whole.count {
            XCTAssertThrowsError(try Safetensors.decode(Data(whole.prefix(length)), as: Float.self)) { error in
                XCTAssertTrue(error is SafetensorsError, "\(error)")
            }
        }
        var rng = RandomGenerator(seed: 42)
        var decoded = 0
        for _ in 0..<3000 {
            var bytes = [UInt8](whole)
            for _ in 0..<1 + rng.nextInt(below: 3) {
                // Favour the length prefix and the header, where the structure is.
                let index = rng.nextDouble() < 0.8 ? rng.nextInt(below: 8 + 720) : rng.nextInt(below: bytes.count)
                bytes[index] = UInt8(rng.nextInt(below: 256))
            }
            do {
                _ = try Safetensors.decode(Data(bytes), as: Double.self)
                decoded += 1
            } catch {
                XCTAssertTrue(error is SafetensorsError, "\(error)")
            }
        }
        XCTAssertGreaterThan(decoded, 0, "some corruptions only touch data bytes and still decode")
    }

    func testUnreadableFile() {
        let url = URL(fileURLWithPath: "/nonexistent-\(UUID().uuidString)/x.safetensors")
        XCTAssertThrowsError(try Safetensors.read(contentsOf: url, as: Float.self)) { error in
            guard case .unreadableFile(let path, _)? = error as? SafetensorsError else { return XCTFail("\(error)") }
            XCTAssertEqual(path, url.path)
        }
        XCTAssertThrowsError(try Safetensors.readHeader(from: url)) { error in
            guard case .unreadableFile? = error as? SafetensorsError else { return XCTFail("\(error)") }
        }
    }

    func testReadHeaderChecksFileSize() throws {
        let dir = try makeTemporaryDirectory(for: self)
        let url = dir.appendingPathComponent("short.safetensors")
        let whole = Safetensors.encode(["w": Tensor<Float>([1, 2])])
        try whole.dropLast(1).write(to: url)
        XCTAssertThrowsError(try Safetensors.readHeader(from: url)) { error in
            XCTAssertEqual(error as? SafetensorsError, .dataOffsetsOutOfBounds(tensor: "w", begin: 0, end: 8, bufferByteCount: 7))
        }
        try Data([1, 2]).write(to: url)
        XCTAssertThrowsError(try Safetensors.readHeader(from: url)) { error in
            XCTAssertEqual(error as? SafetensorsError, .fileTooSmall(byteCount: 2))
        }
    }

    func testErrorDescriptionsSayWhatWasExpectedAndFound() {
        XCTAssertEqual(SafetensorsError.headerExceedsFile(declared: 50, available: 2).description,
                       "safetensors: header length 50 exceeds the 2 bytes after the length prefix (file truncated?)")
        XCTAssertEqual(SafetensorsError.invalidShape(tensor: "w", index: 1, found: "the number -2").description,
                       "tensor 'w': shape[1] should be a non-negative integer, found the number -2")
        XCTAssertEqual(SafetensorsError.gapInData(tensor: "b", begin: 8, expectedBegin: 4).description,
                       "tensor 'b': data should begin at byte 4 of the buffer (right after the previous tensor), found 8; the bytes in between belong to no tensor")
    }
}
