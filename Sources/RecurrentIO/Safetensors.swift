import Foundation
import RecurrentTensor

// The safetensors format (https://github.com/huggingface/safetensors):
//
//   [8 bytes]  N, the header length, little-endian u64
//   [N bytes]  UTF-8 JSON object, padded with spaces:
//              { "__metadata__": {string: string}        (optional)
//                "<name>": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ... }
//   [rest]     the data buffer; offsets are relative to its start, little-endian, row-major,
//              and the tensors' byte ranges tile it exactly.

/// The element types a safetensors file may declare that this library can read. All are converted
/// to the requested `TensorScalar` on load (F16/BF16 exactly, F64 → Float and 64-bit integers with
/// rounding, BOOL as 0/1). Only F32 and F64 are written.
public enum SafetensorsDType: String, CaseIterable, Sendable {
    /// Booleans, one byte each.
    case bool = "BOOL"
    /// Unsigned 8-bit integers.
    case u8 = "U8"
    /// Signed 8-bit integers.
    case i8 = "I8"
    /// Signed 16-bit integers.
    case i16 = "I16"
    /// Unsigned 16-bit integers.
    case u16 = "U16"
    /// IEEE half precision.
    case f16 = "F16"
    /// bfloat16 (the upper half of a Float).
    case bf16 = "BF16"
    /// Signed 32-bit integers.
    case i32 = "I32"
    /// Unsigned 32-bit integers.
    case u32 = "U32"
    /// IEEE single precision.
    case f32 = "F32"
    /// IEEE double precision.
    case f64 = "F64"
    /// Signed 64-bit integers.
    case i64 = "I64"
    /// Unsigned 64-bit integers.
    case u64 = "U64"

    /// Bytes per element.
    public var byteCount: Int {
        switch self {
        case .bool, .u8, .i8: return 1
        case .i16, .u16, .f16, .bf16: return 2
        case .i32, .u32, .f32: return 4
        case .f64, .i64, .u64: return 8
        }
    }
}

/// One tensor's entry in a safetensors header, validated.
public struct SafetensorsTensorInfo: Equatable, Sendable {
    /// The tensor's key in the header.
    public var name: String
    /// Its element type.
    public var dtype: SafetensorsDType
    /// Its dimensions, outermost first.
    public var shape: [Int]
    /// Byte range within the data buffer (which starts after the header).
    public var dataOffsets: Range<Int>

    /// Number of elements: the product of `shape`.
    public var elementCount: Int { dataOffsets.count / dtype.byteCount }
}

/// A validated safetensors header: what a file holds, without its tensor data.
public struct SafetensorsHeader: Equatable, Sendable {
    /// The tensors in the order of their data in the buffer.
    public var tensors: [SafetensorsTensorInfo]
    /// The `__metadata__` map (empty when absent).
    public var metadata: [String: String]
    /// N, the length of the JSON header in bytes (padding included).
    public var headerByteCount: Int
    /// Length of the data buffer in bytes.
    public var bufferByteCount: Int

    /// Offset of the data buffer from the start of the file.
    public var bufferStart: Int { 8 + headerByteCount }

    /// The entry named `name`, if any.
    public subscript(name: String) -> SafetensorsTensorInfo? { tensors.first { $0.name == name } }
}

/// Reading and writing the safetensors format of Hugging Face, compatible with its Python library.
///
/// Reading validates everything before allocating tensors and throws `SafetensorsError` on any
/// malformed input; it never traps. Writing produces the same bytes as Python's
/// `safetensors.torch.save_file` for tensors of one dtype: tensors sorted by name, compact JSON,
/// header padded with spaces to a multiple of 8 bytes.
public enum Safetensors {
    /// Largest header accepted, as in the reference implementation (100 MB).
    public static let maxHeaderByteCount = 100_000_000

    /// The reserved header key holding the string-to-string metadata.
    public static let metadataKey = "__metadata__"

    /// What `decode` and `read` return: tensors by name, converted to one scalar type, and the
    /// `__metadata__` map (empty when absent).
    public typealias Contents<Scalar: TensorScalar> = (tensors: [String: Tensor<Scalar>], metadata: [String: String])

    // MARK: reading

    /// Reads and validates the file at `url`, converting every tensor to `Scalar`.
    ///
    /// The whole file is read into memory first; every size in the header is validated against
    /// the file's size before any tensor is allocated.
    /// - Parameters:
    ///   - url: A file URL.
    ///   - as: `Float.self` or `Double.self`. F16, BF16, F64/F32 and integer tensors are converted.
    /// - Throws: `SafetensorsError`.
    public static func read<Scalar: TensorScalar>(contentsOf url: URL, as: Scalar.Type = Scalar.self) throws -> Contents<Scalar> {
        try decode(readWholeFile(url), as: Scalar.self)
    }

    /// Same as `read(contentsOf:as:)` (kept for existing callers).
    public static func read<Scalar: TensorScalar>(from url: URL, as: Scalar.Type = Scalar.self) throws -> Contents<Scalar> {
        try read(contentsOf: url, as: Scalar.self)
    }

    /// Reads and validates only the header of the file at `url` (the data is not read, but the
    /// header is checked against the file's size).
    /// - Throws: `SafetensorsError`.
    public static func readHeader(from url: URL) throws -> SafetensorsHeader {
        let handle: FileHandle
        do { handle = try FileHandle(forReadingFrom: url) } catch {
            throw SafetensorsError.unreadableFile(path: url.path, reason: error.localizedDescription)
        }
        defer { try? handle.close() }
        do {
            let fileSize = Int(clamping: try handle.seekToEnd())
            try handle.seek(toOffset: 0)
            let prefix = try handle.read(upToCount: 8) ?? Data()
            let n = try prefix.withUnsafeBytes { try checkPrefix($0, totalByteCount: fileSize) }
            let headerBytes = try handle.read(upToCount: n) ?? Data()
            guard headerBytes.count == n else {  // the file shrank while we read it
                throw SafetensorsError.headerExceedsFile(declared: UInt64(n), available: headerBytes.count)
            }
            return try headerBytes.withUnsafeBytes { try parseHeader($0, bufferByteCount: fileSize - 8 - n) }
        } catch let error as SafetensorsError {
            throw error
        } catch {
            throw SafetensorsError.unreadableFile(path: url.path, reason: error.localizedDescription)
        }
    }

    /// Decodes a whole safetensors file held in memory, converting every tensor to `Scalar`.
    /// - Throws: `SafetensorsError`.
    public static func decode<Scalar: TensorScalar>(_ data: Data, as: Scalar.Type = Scalar.self) throws -> Contents<Scalar> {
        try data.withUnsafeBytes { try decode($0, as: Scalar.self) }
    }

    /// Decodes a whole safetensors file from raw bytes (any alignment), converting every tensor to
    /// `Scalar`. Safe on arbitrary input: suitable as a fuzzing entry point.
    /// - Throws: `SafetensorsError`.
    public static func decode<Scalar: TensorScalar>(_ bytes: UnsafeRawBufferPointer, as: Scalar.Type = Scalar.self) throws -> Contents<Scalar> {
        let header = try decodeHeader(bytes)
        let buffer = UnsafeRawBufferPointer(rebasing: bytes[header.bufferStart...])
        var tensors: [String: Tensor<Scalar>] = [:]
        tensors.reserveCapacity(header.tensors.count)
        for info in header.tensors {
            // Shape and byte range were checked against each other and against the buffer.
            let tensor = Tensor<Scalar>(zeros: info.shape)
            convert(UnsafeRawBufferPointer(rebasing: buffer[info.dataOffsets]), from: info.dtype, into: tensor.data, count: tensor.count)
            tensors[info.name] = tensor
        }
        return (tensors, header.metadata)
    }

    /// Validates the header of a whole safetensors file held in memory.
    /// - Throws: `SafetensorsError`.
    public static func decodeHeader(_ data: Data) throws -> SafetensorsHeader {
        try data.withUnsafeBytes { try decodeHeader($0) }
    }

    /// Validates the header of a whole safetensors file given as raw bytes.
    /// - Throws: `SafetensorsError`.
    public static func decodeHeader(_ bytes: UnsafeRawBufferPointer) throws -> SafetensorsHeader {
        let n = try checkPrefix(bytes, totalByteCount: bytes.count)
        return try parseHeader(UnsafeRawBufferPointer(rebasing: bytes[8..<8 + n]), bufferByteCount: bytes.count - 8 - n)
    }

    // MARK: writing

    /// Encodes `tensors` and `metadata` as a safetensors file: tensors sorted by name and laid out
    /// contiguously, dtype `Scalar.dtypeName` ("F32" or "F64"), header padded with spaces to a
    /// multiple of 8 bytes (the same bytes as Python's `safetensors.torch.save_file`).
    ///
    /// A tensor named `__metadata__` is a programmer error and traps (the name is reserved by the
    /// format); `write(_:metadata:to:)` throws `SafetensorsError.reservedTensorName` instead.
    public static func encode<Scalar: TensorScalar>(_ tensors: [String: Tensor<Scalar>], metadata: [String: String] = [:]) -> Data {
        precondition(tensors[metadataKey] == nil, "Safetensors.encode: '\(metadataKey)' is reserved for the metadata and cannot name a tensor")
        let (header, ordered) = encodeHeader(tensors, metadata: metadata)
        var data = Data()
        data.reserveCapacity(header.count + ordered.reduce(0) { $0 + $1.count * MemoryLayout<Scalar>.size })
        data.append(contentsOf: header)
        for tensor in ordered {
            withLittleEndianBytes(tensor) { data.append(contentsOf: $0) }
        }
        return data
    }

    /// Writes `tensors` and `metadata` to `url` atomically (see `atomicWrite(to:_:)`): an
    /// interrupted save leaves the previous file intact.
    /// - Throws: `SafetensorsError.reservedTensorName`, `AtomicWriteError`.
    public static func write<Scalar: TensorScalar>(_ tensors: [String: Tensor<Scalar>], metadata: [String: String] = [:], to url: URL) throws {
        if tensors[metadataKey] != nil { throw SafetensorsError.reservedTensorName(metadataKey) }
        let (header, ordered) = encodeHeader(tensors, metadata: metadata)
        try atomicWrite(to: url) { file in
            try file.write(header)
            for tensor in ordered {
                try withLittleEndianBytes(tensor) { try file.write($0) }
            }
        }
    }
}

// MARK: - validation

extension Safetensors {
    static func readWholeFile(_ url: URL) throws -> Data {
        do { return try Data(contentsOf: url) } catch {
            throw SafetensorsError.unreadableFile(path: url.path, reason: error.localizedDescription)
        }
    }

    /// Checks the 8-byte length prefix against the limit and the input size; returns N.
    static func checkPrefix(_ bytes: UnsafeRawBufferPointer, totalByteCount: Int) throws -> Int {
        guard bytes.count >= 8, totalByteCount >= 8 else {
            throw SafetensorsError.fileTooSmall(byteCount: min(bytes.count, totalByteCount))
        }
        let declared = UInt64(littleEndian: bytes.loadUnaligned(as: UInt64.self))
        if declared > UInt64(maxHeaderByteCount) {
            throw SafetensorsError.headerTooLarge(declared: declared, limit: maxHeaderByteCount)
        }
        if declared > UInt64(totalByteCount - 8) {
            throw SafetensorsError.headerExceedsFile(declared: declared, available: totalByteCount - 8)
        }
        return Int(declared)
    }

    /// Parses and validates the N header bytes, given the size of the data buffer that follows.
    static func parseHeader(_ header: UnsafeRawBufferPointer, bufferByteCount: Int) throws -> SafetensorsHeader {
        let bytes = header.bindMemory(to: UInt8.self)
        if let bad = firstInvalidUTF8Offset(bytes) { throw SafetensorsError.headerNotUTF8(byteOffset: bad) }

        let json: JSONValue
        do { json = try JSONParser.parse(bytes) } catch {
            if let key = error.duplicateKey { throw SafetensorsError.duplicateKey(key) }
            throw SafetensorsError.invalidJSON(byteOffset: error.offset, reason: error.reason)
        }
        guard case .object(let members) = json else { throw SafetensorsError.headerNotObject(found: json.summary) }

        var metadata: [String: String] = [:]
        var infos: [SafetensorsTensorInfo] = []
        infos.reserveCapacity(members.count)
        for (key, value) in members {
            if key == metadataKey {
                metadata = try parseMetadata(value)
            } else {
                infos.append(try parseEntry(name: key, value, bufferByteCount: bufferByteCount))
            }
        }

        // The byte ranges must tile the buffer: sorted by position, each begins where the previous ended.
        infos.sort {
            ($0.dataOffsets.lowerBound, $0.dataOffsets.upperBound) < ($1.dataOffsets.lowerBound, $1.dataOffsets.upperBound)
                || (($0.dataOffsets == $1.dataOffsets) && $0.name.utf8.lexicographicallyPrecedes($1.name.utf8))
        }
        var position = 0
        var previous: String?
        for info in infos {
            let begin = info.dataOffsets.lowerBound
            if begin < position {
                throw SafetensorsError.overlappingData(tensor: info.name, other: previous ?? "")
            }
            if begin > position {
                throw SafetensorsError.gapInData(tensor: info.name, begin: begin, expectedBegin: position)
            }
            position = info.dataOffsets.upperBound
            previous = info.name
        }
        if position != bufferByteCount {
            throw SafetensorsError.unindexedTrailingBytes(indexedEnd: position, bufferByteCount: bufferByteCount)
        }
        return SafetensorsHeader(tensors: infos, metadata: metadata, headerByteCount: header.count, bufferByteCount: bufferByteCount)
    }

    static func parseMetadata(_ value: JSONValue) throws -> [String: String] {
        guard case .object(let members) = value else {
            throw SafetensorsError.invalidMetadata(reason: "found \(value.summary)")
        }
        var metadata: [String: String] = [:]
        for (key, value) in members {
            guard case .string(let s) = value else {
                throw SafetensorsError.invalidMetadata(reason: "value of \(JSONWriter.quoted(key)) is \(value.summary)")
            }
            metadata[key] = s
        }
        return metadata
    }

    static func parseEntry(name: String, _ value: JSONValue, bufferByteCount: Int) throws -> SafetensorsTensorInfo {
        guard case .object(let fields) = value else {
            throw SafetensorsError.invalidEntry(tensor: name, found: value.summary)
        }
        func field(_ key: String) throws -> JSONValue {
            guard let v = fields.first(where: { $0.key == key })?.value else {
                throw SafetensorsError.missingField(tensor: name, field: key)
            }
            return v
        }
        let dtypeValue = try field("dtype"), shapeValue = try field("shape"), offsetsValue = try field("data_offsets")

        guard case .string(let dtypeName) = dtypeValue else {
            throw SafetensorsError.invalidField(tensor: name, field: "dtype", expected: "a string such as \"F32\"", found: dtypeValue.summary)
        }
        guard let dtype = SafetensorsDType(rawValue: dtypeName) else {
            throw SafetensorsError.unsupportedDtype(tensor: name, dtype: dtypeName)
        }

        guard case .array(let shapeItems) = shapeValue else {
            throw SafetensorsError.invalidField(tensor: name, field: "shape", expected: "an array of non-negative integers", found: shapeValue.summary)
        }
        var shape: [Int] = []
        shape.reserveCapacity(shapeItems.count)
        for (i, item) in shapeItems.enumerated() {
            guard let d = item.nonNegativeInt else { throw SafetensorsError.invalidShape(tensor: name, index: i, found: item.summary) }
            shape.append(d)
        }

        let offsetsExpected = "an array [begin, end] of two non-negative integers"
        guard case .array(let offsetItems) = offsetsValue, offsetItems.count == 2 else {
            throw SafetensorsError.invalidField(tensor: name, field: "data_offsets", expected: offsetsExpected, found: offsetsValue.summary + describeCount(offsetsValue))
        }
        guard let begin = offsetItems[0].nonNegativeInt, let end = offsetItems[1].nonNegativeInt else {
            let bad = offsetItems[0].nonNegativeInt == nil ? offsetItems[0] : offsetItems[1]
            throw SafetensorsError.invalidField(tensor: name, field: "data_offsets", expected: offsetsExpected, found: "an element that is \(bad.summary)")
        }
        if begin > end { throw SafetensorsError.dataOffsetsReversed(tensor: name, begin: begin, end: end) }
        if end > bufferByteCount {
            throw SafetensorsError.dataOffsetsOutOfBounds(tensor: name, begin: begin, end: end, bufferByteCount: bufferByteCount)
        }

        // Multiply left to right, as `Tensor` will: if this does not overflow, neither will it.
        var count = 1
        for d in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: d)
            if overflow { throw SafetensorsError.shapeOverflow(tensor: name, shape: shape, dtype: dtype.rawValue) }
            count = product
        }
        let (byteCount, overflow) = count.multipliedReportingOverflow(by: dtype.byteCount)
        if overflow { throw SafetensorsError.shapeOverflow(tensor: name, shape: shape, dtype: dtype.rawValue) }
        if end - begin != byteCount {
            throw SafetensorsError.sizeMismatch(tensor: name, begin: begin, end: end, shape: shape, dtype: dtype.rawValue, expectedByteCount: byteCount)
        }
        return SafetensorsTensorInfo(name: name, dtype: dtype, shape: shape, dataOffsets: begin..<end)
    }

    private static func describeCount(_ value: JSONValue) -> String {
        if case .array(let items) = value { return " of \(items.count) elements" }
        return ""
    }

    /// Offset of the first byte that is not part of well-formed UTF-8 (no overlong forms, no
    /// surrogates, nothing above U+10FFFF), or nil.
    static func firstInvalidUTF8Offset(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        var i = 0
        let n = bytes.count
        while i < n {
            let b0 = bytes[i]
            if b0 < 0x80 { i += 1; continue }
            let length: Int
            var lower: UInt8 = 0x80, upper: UInt8 = 0xBF  // allowed range of the second byte
            switch b0 {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; lower = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; upper = 0x9F
            case 0xF0: length = 4; lower = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; upper = 0x8F
            default: return i
            }
            guard i + length <= n else { return i }
            guard bytes[i + 1] >= lower, bytes[i + 1] <= upper else { return i }
            for k in 2..<length where bytes[i + k] & 0xC0 != 0x80 { return i }
            i += length
        }
        return nil
    }
}

// MARK: - encoding

extension Safetensors {
    /// The 8-byte prefix and the padded JSON header, and the tensors in data order.
    static func encodeHeader<Scalar: TensorScalar>(_ tensors: [String: Tensor<Scalar>], metadata: [String: String]) -> ([UInt8], [Tensor<Scalar>]) {
        // Byte order, as Rust sorts `String`s, so the header matches the Python library's.
        let names = tensors.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        var members: [(key: String, value: JSONValue)] = []
        if !metadata.isEmpty {
            let keys = metadata.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            members.append((metadataKey, .object(keys.map { ($0, .string(metadata[$0]!)) })))
        }
        var ordered: [Tensor<Scalar>] = []
        var offset = 0
        for name in names {
            let tensor = tensors[name]!
            let byteCount = tensor.count * MemoryLayout<Scalar>.size
            members.append((name, .object([
                ("dtype", .string(Scalar.dtypeName)),
                ("shape", .array(tensor.shape.map { .number(String($0)) })),
                ("data_offsets", .array([.number(String(offset)), .number(String(offset + byteCount))])),
            ])))
            offset += byteCount
            ordered.append(tensor)
        }
        var json: [UInt8] = []
        JSONWriter.append(.object(members), to: &json)
        json.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - json.count % 8) % 8))
        var out: [UInt8] = []
        out.reserveCapacity(8 + json.count)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: json)
        return (out, ordered)
    }

    /// Calls `body` with the tensor's elements as little-endian bytes.
    static func withLittleEndianBytes<Scalar: TensorScalar, R>(_ tensor: Tensor<Scalar>, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        #if _endian(little)
        return try body(UnsafeRawBufferPointer(start: tensor.data, count: tensor.count * MemoryLayout<Scalar>.size))
        #else
        var bytes: [UInt8] = []
        bytes.reserveCapacity(tensor.count * MemoryLayout<Scalar>.size)
        for i in 0..<tensor.count {
            if let x = tensor.data[i] as? Float {
                withUnsafeBytes(of: x.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
            } else if let x = tensor.data[i] as? Double {
                withUnsafeBytes(of: x.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
            }
        }
        return try bytes.withUnsafeBytes(body)
        #endif
    }
}

// MARK: - conversion

extension Safetensors {
    /// Converts `count` little-endian elements of `dtype` in `source` (any alignment) into `destination`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    static func convert<Scalar: TensorScalar>(_ source: UnsafeRawBufferPointer, from dtype: SafetensorsDType, into destination: UnsafeMutablePointer<Scalar>, count: Int) {
        precondition(source.count == count * dtype.byteCount, "Safetensors.convert: \(source.count) bytes for \(count) × \(dtype.rawValue)")
        guard count > 0 else { return }
        #if _endian(little)
        if dtype.rawValue == Scalar.dtypeName {
            UnsafeMutableRawPointer(destination).copyMemory(from: source.baseAddress!, byteCount: source.count)
            return
        }
        #endif
        func load<T: FixedWidthInteger>(_ i: Int, _: T.Type) -> T {
            T(littleEndian: source.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.size, as: T.self))
        }
        switch dtype {
        case .f32: for i in 0..<count { destination[i] = Scalar(Float(bitPattern: load(i, UInt32.self))) }
        case .f64: for i in 0..<count { destination[i] = Scalar(Double(bitPattern: load(i, UInt64.self))) }
        case .f16: for i in 0..<count { destination[i] = Scalar(floatFromHalfBits(load(i, UInt16.self))) }
        case .bf16: for i in 0..<count { destination[i] = Scalar(Float(bitPattern: UInt32(load(i, UInt16.self)) << 16)) }
        case .bool: for i in 0..<count { destination[i] = load(i, UInt8.self) != 0 ? 1 : 0 }
        case .u8: for i in 0..<count { destination[i] = Scalar(load(i, UInt8.self)) }
        case .i8: for i in 0..<count { destination[i] = Scalar(load(i, Int8.self)) }
        case .u16: for i in 0..<count { destination[i] = Scalar(load(i, UInt16.self)) }
        case .i16: for i in 0..<count { destination[i] = Scalar(load(i, Int16.self)) }
        case .u32: for i in 0..<count { destination[i] = Scalar(load(i, UInt32.self)) }
        case .i32: for i in 0..<count { destination[i] = Scalar(load(i, Int32.self)) }
        case .u64: for i in 0..<count { destination[i] = Scalar(load(i, UInt64.self)) }
        case .i64: for i in 0..<count { destination[i] = Scalar(load(i, Int64.self)) }
        }
    }

    /// IEEE 754 binary16 → binary32, exactly (subnormals, infinities and NaN payloads included).
    static func floatFromHalfBits(_ h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exponent = UInt32(h >> 10) & 0x1F
        let mantissa = UInt32(h & 0x3FF)
        switch exponent {
        case 0:
            // Zero or subnormal: mantissa × 2⁻²⁴, exact in Float.
            let magnitude = Float(mantissa) * 0x1p-24
            return sign != 0 ? -magnitude : magnitude
        case 0x1F:
            return Float(bitPattern: sign | 0x7F80_0000 | mantissa << 13)
        default:
            return Float(bitPattern: sign | (exponent + 112) << 23 | mantissa << 13)
        }
    }
}
