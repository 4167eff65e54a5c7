import Foundation
import XCTest
@testable import RecurrentIO
import RecurrentTensor

final class SafetensorsTests: XCTestCase {
    // MARK: round trips

    func testRoundTripFloatWithMetadata() throws {
        let tensors: [String: Tensor<Float>] = [
            "weight_ih_l0": Tensor((0..<32).map { Float($0) * 0.1 - 1.3 }, shape: [4, 8]),
            "bias_hh_l0": Tensor([1, -2, .infinity, -.infinity], shape: [4]),
            "scalar": Tensor(scalar: -0.0),
            "empty": Tensor(zeros: [2, 0, 3]),
        ]
        let metadata = ["step": "100", "ünïcode": "✓ \"quoted\"\n\\", "": ""]
        let data = Safetensors.encode(tensors, metadata: metadata)
        let file = try Safetensors.decode(data, as: Float.self)
        XCTAssertEqual(file.metadata, metadata)
        XCTAssertEqual(Set(file.tensors.keys), Set(tensors.keys))
        for (name, tensor) in tensors {
            XCTAssertEqual(file.tensors[name]?.shape, tensor.shape, name)
            assertSameScalars(file.tensors[name]?.scalars ?? [], tensor.scalars)
        }
    }

    func testRoundTripDoubleIsExact() throws {
        var rng = RandomGenerator(seed: 7)
        let tensors: [String: Tensor<Double>] = [
            "a": Tensor.normal([3, 5], generator: &rng),
            "b": Tensor([.nan, .leastNonzeroMagnitude, .greatestFiniteMagnitude, -.ulpOfOne], shape: [2, 2]),
        ]
        let file = try Safetensors.decode(Safetensors.encode(tensors, metadata: ["k": "v"]), as: Double.self)
        XCTAssertEqual(file.metadata, ["k": "v"])
        for (name, tensor) in tensors {
            XCTAssertEqual(file.tensors[name]?.shape, tensor.shape)
            assertSameScalars(file.tensors[name]!.scalars, tensor.scalars)
        }
        let header = try Safetensors.decodeHeader(Safetensors.encode(tensors))
        XCTAssertEqual(header.tensors.map(\.dtype), [.f64, .f64])
        XCTAssertEqual(header.metadata, [:])
    }

    func testWriteAndReadFile() throws {
        let dir = try makeTemporaryDirectory(for: self)
        let url = dir.appendingPathComponent("model.safetensors")
        let tensors = pythonF32Tensors()
        try Safetensors.write(tensors, metadata: ["format": "pt"], to: url)
        let file = try Safetensors.read(contentsOf: url, as: Float.self)
        XCTAssertEqual(file.metadata, ["format": "pt"])
        for (name, tensor) in tensors { assertSameScalars(file.tensors[name]!.scalars, tensor.scalars) }
        let header = try Safetensors.readHeader(from: url)
        XCTAssertEqual(header.tensors.count, tensors.count)
        XCTAssertEqual(header["weight_ih_l0"]?.shape, [3, 4])
        XCTAssertEqual(header["weight_ih_l0"]?.elementCount, 12)
        XCTAssertEqual(directoryListing(dir), ["model.safetensors"], "no temporary files left behind")
    }

    func testEncodedHeaderLayout() throws {
        let data = Safetensors.encode(["b": Tensor<Float>([1, 2, 3]), "a": Tensor<Float>([4])], metadata: ["x": "y"])
        let n = Int(data.prefix(8).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) })
        XCTAssertEqual(n % 8, 0, "header padded to a multiple of 8")
        let header = String(decoding: data[8..<8 + n], as: UTF8.self)
        let expected = #"{"__metadata__":{"x":"y"},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[3],"data_offsets":[4,16]}}"#
        XCTAssertEqual(header.trimmingCharacters(in: .whitespaces), expected)
        XCTAssertTrue(header.hasSuffix(String(repeating: " ", count: n - expected.utf8.count)))
        XCTAssertEqual(data.count, 8 + n + 16)
    }

    func testTensorNamesAreNeverPaths() throws {
        let dir = try makeTemporaryDirectory(for: self)
        let url = dir.appendingPathComponent("x.safetensors")
        let names = ["../../escape", "/etc/passwd", "a/b/c", "."]
        try Safetensors.write(Dictionary(uniqueKeysWithValues: names.map { ($0, Tensor<Float>([1])) }), to: url)
        XCTAssertEqual(directoryListing(dir), ["x.safetensors"])
        XCTAssertEqual(Set(try Safetensors.read(contentsOf: url, as: Float.self).tensors.keys), Set(names))
    }

    func testReservedTensorNameIsRejected() throws {
        let dir = try makeTemporaryDirectory(for: self)
        let url = dir.appendingPathComponent("x.safetensors")
        XCTAssertThrowsError(try Safetensors.write(["__metadata__": Tensor<Float>([1])], to: url)) { error in
            XCTAssertEqual(error as? SafetensorsError, .reservedTensorName("__metadata__"))
            XCTAssertEqual("\(error)", "safetensors: '__metadata__' is reserved for the metadata and cannot name a tensor")
        }
        XCTAssertThrowsError(try Checkpoint(tensors: ["__metadata__": Tensor<Float>([1])]).save(to: url)) { error in
            XCTAssertEqual(error as? SafetensorsError, .reservedTensorName("__metadata__"))
        }
        XCTAssertEqual(directoryListing(dir), [], "nothing written")
    }

    func testBriefAPIShapes() throws {
        // The tuple form: destructuring works, as do the labels.
        let (tensors, metadata) = try Safetensors.decode(Safetensors.encode(["w": Tensor<Double>([1, 2])], metadata: ["k": "v"]), as: Double.self)
        XCTAssertEqual(tensors["w"]?.scalars, [1, 2])
        XCTAssertEqual(metadata, ["k": "v"])
        let dir = try makeTemporaryDirectory(for: self)
        let url = dir.appendingPathComponent("w.safetensors")
        try Safetensors.write(["w": Tensor<Float>([3])], metadata: [:], to: url)
        XCTAssertEqual(try Safetensors.read(contentsOf: url, as: Float.self).tensors["w"]?.scalars, [3])
        XCTAssertEqual(try Safetensors.read(from: url, as: Float.self).tensors["w"]?.scalars, [3])
        try writeAtomically(Data("a,b\n".utf8), to: dir.appendingPathComponent("log.csv"))
        XCTAssertEqual(directoryListing(dir), ["log.csv", "w.safetensors"])
    }

    func testTensorViewsAreWrittenFromTheirOffset() throws {
        // A tensor that lives at an offset in shared storage (as packed parameters do).
        let storage = TensorStorage<Float>(capacity: 6)
        for i in 0..<6 { storage.base[i] = Float(i) }
        let view = Tensor<Float>([0, 0], shape: [2])
        view.rebind(to: storage, offset: 3)
        view.withMutableData { $0[0] = 30; $0[1] = 40 }
        let file = try Safetensors.decode(Safetensors.encode(["v": view]), as: Float.self)
        XCTAssertEqual(file.tensors["v"]?.scalars, [30, 40])
    }

    // MARK: the Python library's files

    func testReadsPythonReferenceFileExactly() throws {
        let file = try Safetensors.read(contentsOf: fixture("reference.safetensors"), as: Float.self)
        let t = file.tensors
        XCTAssertEqual(file.metadata["generator"], "Scripts/make_io_fixtures.py")
        XCTAssertEqual(file.metadata["note"], "ünïcode ✓")
        XCTAssertNotNil(file.metadata["torch"])
        XCTAssertEqual(Set(t.keys), ["f32", "f64", "f16", "bf16", "i64", "i32", "u8", "bool", "scalar", "empty"])

        XCTAssertEqual(t["f32"]?.shape, [2, 3])
        assertSameScalars(t["f32"]!.scalars, [0, 1, -2.5, Float(bitPattern: 0x4049_0FDB), .leastNonzeroMagnitude, .greatestFiniteMagnitude])
        XCTAssertEqual(t["f16"]?.shape, [3, 3])
        assertSameScalars(t["f16"]!.scalars, [1, -2.5, 65504, 0x1p-14, 0x1p-24, .infinity, -.infinity, -0.0, .nan])
        XCTAssertEqual(t["bf16"]?.shape, [5])
        assertSameScalars(t["bf16"]!.scalars, [1, -3.140625, Float(bitPattern: 0x7F7F_0000), 0x1p-133, .infinity])
        assertSameScalars(t["f64"]!.scalars, [Float(1.0 / 3.0), -0.0, .infinity])  // 1e300 overflows Float
        assertSameScalars(t["i64"]!.scalars, [-0x1p53, 0, 0x1p53])
        XCTAssertEqual(t["i32"]?.shape, [2, 2])
        assertSameScalars(t["i32"]!.scalars, [-7, 0, 7, 2_147_483_648])  // rounded to Float
        assertSameScalars(t["u8"]!.scalars, [0, 1, 255])
        assertSameScalars(t["bool"]!.scalars, [1, 0])
        XCTAssertEqual(t["scalar"]?.shape, [])
        XCTAssertEqual(t["scalar"]?.item, 2.5)
        XCTAssertEqual(t["empty"]?.shape, [0, 3])
        XCTAssertEqual(t["empty"]?.count, 0)
    }

    func testReadsPythonReferenceFileAsDouble() throws {
        let t = try Safetensors.read(contentsOf: fixture("reference.safetensors"), as: Double.self).tensors
        assertSameScalars(t["f64"]!.scalars, [1.0 / 3.0, -0.0, 1e300])
        assertSameScalars(t["f32"]!.scalars, [0, 1, -2.5, Double(Float(bitPattern: 0x4049_0FDB)), Double(Float.leastNonzeroMagnitude), Double(Float.greatestFiniteMagnitude)])
        assertSameScalars(t["f16"]!.scalars, [1, -2.5, 65504, 0x1p-14, 0x1p-24, .infinity, -.infinity, -0.0, .nan])
        assertSameScalars(t["bf16"]!.scalars, [1, -3.140625, Double(Float(bitPattern: 0x7F7F_0000)), 0x1p-133, .infinity])
        assertSameScalars(t["i32"]!.scalars, [-7, 0, 7, 2_147_483_647])
    }

    func testReadsPythonHeader() throws {
        let header = try Safetensors.readHeader(from: fixture("reference.safetensors"))
        XCTAssertEqual(header["bf16"]?.dtype, .bf16)
        XCTAssertEqual(header["f16"]?.dataOffsets.count, 18)
        XCTAssertEqual(header.headerByteCount % 8, 0)
        // In data order, tiling the buffer.
        XCTAssertEqual(header.tensors.first?.dataOffsets.lowerBound, 0)
        XCTAssertEqual(header.tensors.last?.dataOffsets.upperBound, header.bufferByteCount)
    }

    /// The Python library and ours write the same bytes for the same tensors (one dtype, at most
    /// one metadata key, since Python orders metadata keys by hash).
    func testEncodingMatchesPythonBytesF32() throws {
        let expected = try Data(contentsOf: fixture("python_f32.safetensors"))
        XCTAssertEqual(Safetensors.encode(pythonF32Tensors(), metadata: ["format": "pt"]), expected)
    }

    func testEncodingMatchesPythonBytesF64() throws {
        let expected = try Data(contentsOf: fixture("python_f64.safetensors"))
        XCTAssertEqual(Safetensors.encode(pythonF64Tensors()), expected)
    }

    /// Writes the files that `Scripts/make_io_fixtures.py --check DIR` reads with the Python library.
    /// Set RECURRENT_IO_EXPORT_DIR=DIR to keep them; otherwise they go to a temporary directory.
    func testExportForPythonCheck() throws {
        let dir: URL
        if let path = ProcessInfo.processInfo.environment["RECURRENT_IO_EXPORT_DIR"] {
            dir = URL(fileURLWithPath: path, isDirectory: true)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        } else {
            dir = try makeTemporaryDirectory(for: self)
        }
        try Safetensors.write(pythonF32Tensors(), metadata: ["format": "pt"], to: dir.appendingPathComponent("swift_f32.safetensors"))
        try Safetensors.write(pythonF64Tensors(), to: dir.appendingPathComponent("swift_f64.safetensors"))
        let special: [String: Tensor<Double>] = [
            "nan\u{1}/inf": Tensor([.nan, .infinity, -.infinity, -0.0], shape: [4]),
            "💥": Tensor(zeros: [2, 0, 3]),
        ]
        let metadata = ["kë\"y": "vä\\l\tue", "empty": ""]
        try Safetensors.write(special, metadata: metadata, to: dir.appendingPathComponent("swift_special.safetensors"))
        let checkpoint = try Checkpoint(
            tensors: ["rnn.weight_ih_l0": Tensor((0..<6).map { Float($0) }, shape: [2, 3])],
            encodingConfig: ["hidden_size": 3, "cell": "lstm"] as [String: AnyCodableValue],
            vocabulary: ["<pad>", "\"", "\\", "é", "\n"])
        try checkpoint.save(to: dir.appendingPathComponent("swift_checkpoint.safetensors"))

        let reread = try Safetensors.read(contentsOf: dir.appendingPathComponent("swift_special.safetensors"), as: Double.self)
        XCTAssertEqual(reread.metadata, metadata)
        assertSameScalars(reread.tensors["nan\u{1}/inf"]!.scalars, [.nan, .infinity, -.infinity, -0.0])
        XCTAssertEqual(reread.tensors["💥"]?.shape, [2, 0, 3])
    }

    // MARK: conversions

    func testHalfConversionCoversAllBitPatterns() {
        // Against the hardware/stdlib conversion where available; otherwise spot checks.
        #if os(Linux) || arch(arm64)  // Float16 does not exist on Intel Macs
        if #available(macOS 11, *) {
            for bits in 0...UInt16.max {
                let ours = Safetensors.floatFromHalfBits(bits)
                let reference = Float(Float16(bitPattern: bits))
                if reference.isNaN {
                    XCTAssertTrue(ours.isNaN, "\(bits)")
                } else {
                    XCTAssertEqual(ours.bitPattern, reference.bitPattern, "half bits 0x\(String(bits, radix: 16))")
                }
            }
        }
        #endif
        XCTAssertEqual(Safetensors.floatFromHalfBits(0x3C00), 1)
        XCTAssertEqual(Safetensors.floatFromHalfBits(0x0001), 0x1p-24)
        XCTAssertEqual(Safetensors.floatFromHalfBits(0x8000).sign, .minus)
    }
}

/// A tiny Codable JSON value, so tests can build configs from literals.
enum AnyCodableValue: Codable, Equatable, ExpressibleByIntegerLiteral, ExpressibleByStringLiteral {
    case int(Int), string(String)
    init(integerLiteral value: Int) { self = .int(value) }
    init(stringLiteral value: String) { self = .string(value) }
    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let i = try? c.decode(Int.self) { self = .int(i) } else { self = .string(try c.decode(String.self)) }
    }
    func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .int(let i): try c.encode(i)
        case .string(let s): try c.encode(s)
        }
    }
}
