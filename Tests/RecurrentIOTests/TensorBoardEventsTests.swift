import Foundation
@testable import RecurrentIO
import XCTest

final class TensorBoardEventsTests: XCTestCase {
    func testCRC32CKnownValues() {
        XCTAssertEqual(crc32c(Array("123456789".utf8)), 0xE306_9283)   // the standard check value of CRC-32C
        XCTAssertEqual(crc32c([]), 0)
        XCTAssertEqual(crc32c([UInt8](repeating: 0, count: 32)), 0x8A91_36AA)   // RFC 3720 B.4 test vector
    }

    /// Reads the records back: framing, both checksums, and the protobuf fields of a scalar event.
    func testRecordsAreFramedAndChecksummed() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("recurrent-tb-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let writer = try TensorBoardEventWriter(folder: folder, wallTime: 1000)
        try writer.addScalars([("val_loss", 1.5)], step: 300, wallTime: 1001)
        XCTAssertTrue(writer.url.lastPathComponent.hasPrefix("events.out.tfevents.1000."))
        let bytes = [UInt8](try Data(contentsOf: writer.url))
        var records: [[UInt8]] = []
        var offset = 0
        while offset < bytes.count {
            let lengthBytes = Array(bytes[offset..<(offset + 8)])
            let length = Int(lengthBytes.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
            let crc = { (at: Int) in (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[at + $1]) << (8 * UInt32($1)) } }
            XCTAssertEqual(crc(offset + 8), maskedCRC32C(lengthBytes))
            let data = Array(bytes[(offset + 12)..<(offset + 12 + length)])
            XCTAssertEqual(crc(offset + 12 + length), maskedCRC32C(data))
            records.append(data)
            offset += 16 + length
        }
        XCTAssertEqual(records.count, 2)
        // Event 1: wall_time (field 1, fixed64) then file_version (field 3, bytes) "brain.Event:2".
        XCTAssertEqual(records[0][0], 0x09)
        XCTAssertEqual(String(decoding: records[0].suffix(13), as: UTF8.self), "brain.Event:2")
        // Event 2: wall_time, step 300 as a varint (0x10 0xAC 0x02), summary (field 5) with tag and float 1.5.
        XCTAssertEqual(Array(records[1][9..<12]), [0x10, 0xAC, 0x02])
        XCTAssertEqual(records[1][12], 0x2A)
        let tail = Array(records[1].suffix(5))
        XCTAssertEqual(tail[0], 0x15)
        XCTAssertEqual(Float(bitPattern: tail[1...].enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) }), 1.5)
        XCTAssertNotNil(String(decoding: records[1], as: UTF8.self).range(of: "val_loss"))
    }
}
