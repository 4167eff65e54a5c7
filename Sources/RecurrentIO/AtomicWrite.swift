import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why an atomic write failed. The destination is untouched in every case, and the temporary file
/// has been removed.
public struct AtomicWriteError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The step that failed.
    public enum Step: String, Sendable {
        /// Creating the temporary file beside the destination.
        case createTemporary = "create a temporary file"
        /// Writing the bytes.
        case write = "write"
        /// Flushing them to the disk.
        case sync = "flush (fsync)"
        /// Closing the file.
        case close = "close"
        /// Renaming the temporary file over the destination.
        case rename = "rename the temporary file over"
    }

    /// The step that failed.
    public var step: Step
    /// The destination path.
    public var path: String
    /// The temporary file's path (when the failure happened while using it).
    public var temporaryPath: String?
    /// `errno` of the failing call.
    public var code: Int32

    public var description: String {
        let reason = String(cString: strerror(code))
        return "atomic write of '\(path)': could not \(step.rawValue)\(step == .rename ? " the destination" : "")"
            + (temporaryPath.map { " ('\($0)')" } ?? "") + ": \(reason) (errno \(code))"
    }
}

/// Receives the bytes of a file being written by `atomicWrite(to:_:)`.
public final class AtomicFileWriter {
    fileprivate let fd: Int32
    fileprivate let temporaryPath: String
    fileprivate let destinationPath: String

    fileprivate init(fd: Int32, temporaryPath: String, destinationPath: String) {
        self.fd = fd
        self.temporaryPath = temporaryPath
        self.destinationPath = destinationPath
    }

    /// Appends `bytes`, retrying partial writes and interrupted calls.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard var pointer = bytes.baseAddress else { return }
        var remaining = bytes.count
        while remaining > 0 {
            let written = systemWrite(fd, pointer, remaining)
            if written < 0 {
                if errno == EINTR { continue }
                throw AtomicWriteError(step: .write, path: destinationPath, temporaryPath: temporaryPath, code: errno)
            }
            if written == 0 {
                throw AtomicWriteError(step: .write, path: destinationPath, temporaryPath: temporaryPath, code: EIO)
            }
            pointer += written
            remaining -= written
        }
    }

    /// Appends `data` to the file.
    public func write(_ data: Data) throws {
        try data.withUnsafeBytes { try write($0) }
    }

    /// Appends `bytes` to the file.
    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    /// Appends the UTF-8 encoding of `string`.
    public func write(_ string: String) throws {
        try write(Array(string.utf8))
    }
}

/// Writes a file so that readers see either the old contents or the complete new contents, never
/// a partial file, even if the process is killed or the machine loses power mid-way.
///
/// `body` writes into a new temporary file in the destination's directory (named
/// `.<name>.tmp-<pid>-<random>`); that file is then flushed to disk (`fsync`), renamed over the
/// destination (an atomic replace on POSIX file systems), and the directory is flushed so the
/// rename itself is durable. If `body` or any step throws, the temporary file is removed and the
/// destination is left as it was.
///
/// The new file gets the default permissions (0666 less the umask). If the destination is a
/// symbolic link, the link itself is replaced.
///
/// - Parameters:
///   - url: The destination, a file URL.
///   - body: Writes the new contents; may throw to abandon the write.
/// - Throws: `AtomicWriteError`, or whatever `body` throws.
/// Fault injection for tests: with RECURRENT_FAULT_WRITE_DELAY_US set, every atomic write waits that
/// many microseconds between writing its temporary file and renaming it, so that a test can kill the
/// process inside that window reliably even on a fast machine. Unset (always, outside tests): no delay.
let faultInjectionWriteDelay: useconds_t = getenv("RECURRENT_FAULT_WRITE_DELAY_US").flatMap { useconds_t(String(cString: $0)) }.map { min($0, 1_000_000) } ?? 0

/// Writes a file atomically by streaming: `body` appends to a temporary file beside `url`, which is flushed and renamed over `url` only if `body` returns; on any error the temporary file is removed and `url` is untouched.
public func atomicWrite(to url: URL, _ body: (AtomicFileWriter) throws -> Void) throws {
    let destination = url.standardizedFileURL.path
    let directory = (destination as NSString).deletingLastPathComponent
    let name = (destination as NSString).lastPathComponent
    let random = UInt64.random(in: 0...UInt64.max)
    let temporary = (directory.isEmpty ? "." : directory) + "/.\(name).tmp-\(getpid())-\(String(random, radix: 16))"

    let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
    if fd < 0 {
        throw AtomicWriteError(step: .createTemporary, path: destination, temporaryPath: temporary, code: errno)
    }
    var isOpen = true
    do {
        try body(AtomicFileWriter(fd: fd, temporaryPath: temporary, destinationPath: destination))
        if faultInjectionWriteDelay > 0 { usleep(faultInjectionWriteDelay) }
        if fsync(fd) != 0 {
            throw AtomicWriteError(step: .sync, path: destination, temporaryPath: temporary, code: errno)
        }
        isOpen = false
        if close(fd) != 0 {
            throw AtomicWriteError(step: .close, path: destination, temporaryPath: temporary, code: errno)
        }
        if rename(temporary, destination) != 0 {
            throw AtomicWriteError(step: .rename, path: destination, temporaryPath: temporary, code: errno)
        }
    } catch {
        if isOpen { _ = close(fd) }
        _ = unlink(temporary)
        throw error
    }
    // Make the rename durable. Failure here cannot be undone (the new file is in place) and some
    // file systems refuse fsync on directories, so it is best effort.
    let directoryFD = openDirectoryForSync(directory.isEmpty ? "." : directory)
    if directoryFD >= 0 {
        _ = fsync(directoryFD)
        _ = close(directoryFD)
    }
}

/// Atomically replaces the file at `url` with `data`: a temporary file in the same directory,
/// flushed with `fsync`, then renamed over the destination. An interrupted or failed write leaves
/// the previous file intact and no temporary file behind. Use it for checkpoints, configs, CSV logs.
///
/// - Parameters:
///   - data: The complete new contents.
///   - url: The destination, a file URL.
/// - Throws: `AtomicWriteError`.
public func writeAtomically(_ data: Data, to url: URL) throws {
    try atomicWrite(to: url) { try $0.write(data) }
}

/// Atomically replaces the file at `url` with the UTF-8 encoding of `string`. See `writeAtomically(_:to:)`.
/// - Throws: `AtomicWriteError`.
public func writeAtomically(_ string: String, to url: URL) throws {
    try atomicWrite(to: url) { try $0.write(string) }
}

/// Same as `writeAtomically(_:to:)` (the name used before it; kept for existing callers).
public func atomicWrite(_ data: Data, to url: URL) throws {
    try writeAtomically(data, to: url)
}

/// Same as `writeAtomically(_:to:)` for a `String` (kept for existing callers).
public func atomicWrite(_ string: String, to url: URL) throws {
    try writeAtomically(string, to: url)
}

/// Removes the temporary files that `atomicWrite` left in `folder` when its process was killed
/// mid-write (`.<name>.tmp-<pid>-<hex>` of a process that no longer exists). Files of a live process,
/// and every other file, are left alone. Best effort: failures are ignored.
public func removeStaleTemporaryFiles(in folder: URL) {
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return }
    for name in names where name.hasPrefix(".") {
        guard let marker = name.range(of: ".tmp-", options: .backwards) else { continue }
        let parts = name[marker.upperBound...].split(separator: "-")
        guard parts.count == 2, let pid = Int32(parts[0]), pid > 0, UInt64(parts[1], radix: 16) != nil else { continue }
        if pid == getpid() || kill(pid, 0) == 0 || errno != ESRCH { continue }
        _ = unlink(folder.appendingPathComponent(name).path)
    }
}

private func systemWrite(_ fd: Int32, _ pointer: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    return Glibc.write(fd, pointer, count)
    #else
    return Darwin.write(fd, pointer, count)
    #endif
}

private func openDirectoryForSync(_ path: String) -> Int32 {
    open(path, O_RDONLY | O_CLOEXEC)
}
