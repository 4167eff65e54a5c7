import Foundation
import ZIPFoundation

/// The parts of a Keras 3 `.keras` file, a zip archive (read with weichsel/ZIPFoundation):
/// `config.json` (the model), `metadata.json` (Keras' version), `model.weights.h5` (the weights).
struct KerasArchive {
    /// Zip's local-file signature, PK\3\4.
    static let signature: [UInt8] = [0x50, 0x4B, 0x03, 0x04]
    /// Largest entry extracted (a size read from the archive is checked before extracting it).
    static let maximumEntryBytes = 1 << 30

    var config: Data
    var weights: Data
    var metadata: Data?

    /// Reads the archive's bytes. ZIPFoundation 0.9.20's in-memory archives (`Archive(data:)`) trap on an entry whose
    /// offset points past the end and leak when they refuse the bytes; its file-backed archives read through the C
    /// library and do neither. So the bytes are staged in a temporary file, removed afterwards.
    /// - Throws: `KerasError.badZip`, `.missingEntry`, `.tooLarge`, `.unreadable`.
    init(_ data: Data) throws(KerasError) {
        guard data.count >= 4, data.prefix(4).elementsEqual(Self.signature) else { throw .badZip(reason: "no zip signature (PK\\3\\4) at byte 0") }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("recurrent-keras-\(UUID().uuidString).keras")
        do { try data.write(to: url) } catch {
            throw .unreadable(path: url.path, reason: "cannot stage the archive in a temporary file: \(error.localizedDescription)")
        }
        defer { try? FileManager.default.removeItem(at: url) }
        try self.init(contentsOf: url)
    }

    /// Reads the archive at `url`.
    /// - Throws: `KerasError.badZip`, `.missingEntry`, `.tooLarge`.
    init(contentsOf url: URL) throws(KerasError) {
        let archive: Archive
        do { archive = try Archive(url: url, accessMode: .read) } catch {
            throw .badZip(reason: "\(error)")
        }
        config = try Self.extract("config.json", from: archive)
        weights = try Self.extract("model.weights.h5", from: archive)
        metadata = archive["metadata.json"] == nil ? nil : try Self.extract("metadata.json", from: archive)
    }

    /// The entry's bytes, CRC-checked; no more than `maximumEntryBytes` whatever the archive claims.
    static func extract(_ name: String, from archive: Archive) throws(KerasError) -> Data {
        guard let entry = archive[name], entry.type == .file else { throw .missingEntry(name: name) }
        guard entry.uncompressedSize <= UInt64(maximumEntryBytes) else {
            throw .tooLarge(what: "'\(name)' in the archive", size: Int(clamping: entry.uncompressedSize), limit: maximumEntryBytes)
        }
        struct Overflow: Error {}
        var bytes = Data()
        do {
            _ = try archive.extract(entry) { chunk in
                guard bytes.count + chunk.count <= maximumEntryBytes else { throw Overflow() }
                bytes.append(chunk)
            }
        } catch is Overflow {
            throw .tooLarge(what: "'\(name)' in the archive", size: maximumEntryBytes + 1, limit: maximumEntryBytes)
        } catch {
            throw .badZip(reason: "cannot extract '\(name)': \(error)")
        }
        return bytes
    }

    /// `keras_version` from metadata.json, when it is there and readable.
    var kerasVersion: String? {
        guard let metadata, let object = try? JSONSerialization.jsonObject(with: metadata) as? [String: Any] else { return nil }
        return object["keras_version"] as? String
    }
}
