import Foundation

/// Writes TensorBoard event files (`events.out.tfevents.*`) holding scalar summaries, so that
/// `tensorboard --logdir runs` shows a run's curves without TensorFlow.
///
/// The format is TFRecord framing around serialized `tensorflow.Event` protocol buffers:
/// each record is `length (u64 LE) · masked CRC32C(length) · data · masked CRC32C(data)`. The first
/// event carries `file_version = "brain.Event:2"`; each scalar is an `Event { wall_time, step,
/// summary { value { tag, simple_value } } }`. The protobuf fields are encoded by hand (a handful of
/// fixed field numbers) rather than pulling in a protobuf dependency.
public final class TensorBoardEventWriter {
    /// The events file being written.
    public let url: URL
    private let handle: FileHandle

    /// Creates `folder/events.out.tfevents.<seconds>.<host>` and writes the version record.
    public init(folder: URL, wallTime: Double = Date().timeIntervalSince1970) throws {
        let host = ProcessInfo.processInfo.hostName.filter { $0.isLetter || $0.isNumber || $0 == "-" }
        url = folder.appendingPathComponent("events.out.tfevents.\(Int(wallTime)).\(host.isEmpty ? "recurrent" : host)")
        guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path])
        }
        handle = try FileHandle(forWritingTo: url)
        var event = ProtobufWriter()
        event.double(field: 1, wallTime)
        event.bytes(field: 3, Array("brain.Event:2".utf8))
        try write(record: event.bytes)
    }

    deinit { try? handle.close() }

    /// Appends one scalar per (tag, value) at `step`, in one event.
    public func addScalars(_ values: [(tag: String, value: Double)], step: Int, wallTime: Double = Date().timeIntervalSince1970) throws {
        var summary = ProtobufWriter()
        for (tag, value) in values {
            var entry = ProtobufWriter()
            entry.bytes(field: 1, Array(tag.utf8))
            entry.float(field: 2, Float(value))
            summary.bytes(field: 1, entry.bytes)
        }
        var event = ProtobufWriter()
        event.double(field: 1, wallTime)
        event.varint(field: 2, UInt64(bitPattern: Int64(step)))
        event.bytes(field: 5, summary.bytes)
        try write(record: event.bytes)
    }

    private func write(record data: [UInt8]) throws {
        var frame: [UInt8] = []
        frame.reserveCapacity(data.count + 16)
        let length = withUnsafeBytes(of: UInt64(data.count).littleEndian, Array.init)
        frame += length
        frame += withUnsafeBytes(of: maskedCRC32C(length).littleEndian, Array.init)
        frame += data
        frame += withUnsafeBytes(of: maskedCRC32C(data).littleEndian, Array.init)
        try handle.write(contentsOf: frame)
        try handle.synchronize()
    }
}

/// TFRecord's checksum: CRC-32C (Castagnoli), rotated and offset so that a CRC of data containing CRCs stays well-distributed.
public func maskedCRC32C(_ bytes: [UInt8]) -> UInt32 {
    let crc = crc32c(bytes)
    return ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
}

/// CRC-32C (polynomial 0x82F63B78, reflected), table-driven.
public func crc32c(_ bytes: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes { crc = crc32cTable[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
    return crc ^ 0xFFFF_FFFF
}

private let crc32cTable: [UInt32] = (0..<256).map { n in
    var c = UInt32(n)
    for _ in 0..<8 { c = c & 1 != 0 ? 0x82F6_3B78 ^ (c >> 1) : c >> 1 }
    return c
}

/// The few protobuf wire encodings an Event needs.
struct ProtobufWriter {
    private(set) var bytes: [UInt8] = []

    mutating func key(_ field: Int, _ wireType: UInt64) { rawVarint(UInt64(field) << 3 | wireType) }

    mutating func rawVarint(_ value: UInt64) {
        var v = value
        while v >= 0x80 { bytes.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
        bytes.append(UInt8(v))
    }

    mutating func varint(field: Int, _ value: UInt64) { key(field, 0); rawVarint(value) }
    mutating func double(field: Int, _ value: Double) { key(field, 1); bytes += withUnsafeBytes(of: value.bitPattern.littleEndian, Array.init) }
    mutating func float(field: Int, _ value: Float) { key(field, 5); bytes += withUnsafeBytes(of: value.bitPattern.littleEndian, Array.init) }
    mutating func bytes(field: Int, _ value: [UInt8]) { key(field, 2); rawVarint(UInt64(value.count)); bytes += value }
}
