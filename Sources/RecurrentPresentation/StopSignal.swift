import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Turns SIGINT and SIGTERM into a request that a training loop polls between steps, so that an
/// interrupted run can finish its step, save a checkpoint and exit with a message instead of dying
/// mid-way (a second signal of the same kind still ends the process at once).
///
/// The signals are received through `DispatchSource` rather than a C handler, so nothing here runs
/// in signal context: the handler is ordinary Swift on a dispatch queue, and the flag is guarded by a
/// lock. Trainers never install anything themselves: the CLI calls `install()` and hands
/// `isRequested` to the trainer, and a library user who wants other behaviour simply does not.
public final class StopSignal: @unchecked Sendable {
    /// The process-wide instance (signal dispositions are process-wide too).
    public static let shared = StopSignal()

    private let lock = NSLock()
    private var received: Int32?
    private var sources: [DispatchSourceSignal] = []
    private let queue = DispatchQueue(label: "recurrent.stop-signal")

    public init() {}

    /// Starts listening for `signals` (SIGINT and SIGTERM by default). Idempotent per signal.
    public func install(_ signals: [Int32] = [SIGINT, SIGTERM]) {
        lock.lock()
        defer { lock.unlock() }
        for number in signals where !sources.contains(where: { Int32($0.handle) == number }) {
            // The default action would kill the process before the dispatch source sees the signal.
            _ = signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { [weak self] in self?.receive(number) }
            source.resume()
            sources.append(source)
        }
    }

    private func receive(_ number: Int32) {
        lock.lock()
        let first = received == nil
        if first { received = number }
        lock.unlock()
        if !first {
            // Asked twice: the user does not want to wait for the step to end.
            _ = signal(number, SIG_DFL)
            _ = kill(getpid(), number)
        }
    }

    /// The signal that asked to stop (SIGINT, SIGTERM), or nil.
    public var receivedSignal: Int32? {
        lock.lock()
        defer { lock.unlock() }
        return received
    }

    /// Whether a stop was asked for; what trainers poll between steps.
    public var isRequested: Bool { receivedSignal != nil }

    /// Forgets a received signal (for a process that trains several runs, and tests).
    public func reset() {
        lock.lock()
        received = nil
        lock.unlock()
    }

    /// "SIGINT", "SIGTERM" or "signal N", for messages.
    public static func name(_ number: Int32) -> String {
        switch number {
        case SIGINT: "SIGINT"
        case SIGTERM: "SIGTERM"
        default: "signal \(number)"
        }
    }
}
