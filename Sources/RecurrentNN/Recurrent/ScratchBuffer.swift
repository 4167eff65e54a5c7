#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import RecurrentTensor

/// Step-indexed scratch memory owned by one fused node (kept alive by its backward closure). Unlike
/// `Tensor(zeros:)` it is only zero-filled when asked, with one memset.
///
/// Large blocks are recycled through `ScratchPool`: a training loop allocates buffers of the same
/// sizes at every step, and a fresh multi-megabyte block from malloc is fresh pages from the kernel,
/// whose page faults and clearing a layer's forward would pay every time (perf: `clear_page_erms`,
/// `exc_page_fault`).
final class Scratch<Scalar> {
    let data: UnsafeMutablePointer<Scalar>
    private let bytes: Int
    private let keep: AnyObject?

    @inline(__always)
    init(_ count: Int, zeroed: Bool) {
        bytes = Swift.max(count, 1) * MemoryLayout<Scalar>.stride
        let raw = ScratchPool.shared.allocate(bytes)
        if zeroed { raw.initializeMemory(as: UInt8.self, repeating: 0, count: bytes) }
        data = raw.bindMemory(to: Scalar.self, capacity: Swift.max(count, 1))
        keep = nil
    }

    /// Borrows a tensor's memory (keeps the tensor alive).
    init(viewing t: Tensor<Scalar>) where Scalar: TensorScalar {
        data = t.data
        bytes = 0
        keep = t
    }

    deinit { if keep == nil { ScratchPool.shared.give(UnsafeMutableRawPointer(data), byteCount: bytes) } }
}

/// Frees the scratch blocks that the fused recurrent layers keep for reuse between calls (see
/// `ScratchPool`), e.g. after training, before a long phase that needs the memory.
public func releaseCachedRecurrentBuffers() { ScratchPool.shared.drain() }

/// A cache of freed `Scratch` blocks by exact byte size (the most recently freed are reused first).
/// Blocks below `minimumBytes` go straight back to malloc, which recycles small blocks itself.
///
/// How much it may hold: as much scratch memory as was ever live at once (`peakLiveBytes`), and at
/// least `minimumLimitBytes`. A training step frees and reallocates the same blocks at every step, and
/// the largest are the largest part of it (lstm2-512-b64-t100: 52 MB of gate history per layer, as much
/// for their pre-activations and gradients). With a fixed 64 MiB cap those fell out of the cache and came
/// back from the kernel as fresh pages every step (page faults and page clearing: docs/BENCHMARKS.md).
/// Capped by the peak instead, they are all reused.
///
/// Why that costs no memory: a request the cache cannot serve (a new shape) first frees the oldest cached
/// blocks until what is live, what is cached and the new block fit within the limit. So live plus cached
/// scratch never exceeds the larger of the peak the program reached without any cache and the minimum.
final class ScratchPool: @unchecked Sendable {
    static let shared = ScratchPool(minimumLimitBytes: 64 << 20)

    let minimumLimitBytes: Int
    let minimumBytes = 1 << 16
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var blocks: [(bytes: Int, pointer: UnsafeMutableRawPointer)] = []   // oldest first
    /// Bytes of the blocks held for reuse.
    private(set) var cachedBytes = 0
    /// Bytes of the pooled-size blocks handed out and not given back yet, and their high-water mark.
    private(set) var liveBytes = 0
    private(set) var peakLiveBytes = 0

    /// The most that live plus cached blocks may take while the cache holds anything.
    var limitBytes: Int { Swift.max(minimumLimitBytes, peakLiveBytes) }

    init(minimumLimitBytes: Int) {
        self.minimumLimitBytes = minimumLimitBytes
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        for block in blocks { block.pointer.deallocate() }
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Frees every cached block; the high-water mark restarts from what is live now.
    func drain() {
        pthread_mutex_lock(mutex)
        let all = blocks
        blocks = []
        cachedBytes = 0
        peakLiveBytes = liveBytes
        pthread_mutex_unlock(mutex)
        for block in all { block.pointer.deallocate() }
    }

    /// A block of `byteCount` bytes, 64-byte aligned: a cached one of exactly that size when there is one,
    /// else a new one, after freeing the oldest cached blocks that would take memory above the limit.
    func allocate(_ byteCount: Int) -> UnsafeMutableRawPointer {
        guard byteCount >= minimumBytes else { return .allocate(byteCount: byteCount, alignment: 64) }
        var evicted: [UnsafeMutableRawPointer] = []
        pthread_mutex_lock(mutex)
        liveBytes += byteCount
        peakLiveBytes = Swift.max(peakLiveBytes, liveBytes)
        if let i = blocks.lastIndex(where: { $0.bytes == byteCount }) {
            cachedBytes -= byteCount
            let reused = blocks.remove(at: i).pointer
            pthread_mutex_unlock(mutex)
            return reused
        }
        while !blocks.isEmpty && liveBytes + cachedBytes > limitBytes {
            let oldest = blocks.removeFirst()
            cachedBytes -= oldest.bytes
            evicted.append(oldest.pointer)
        }
        pthread_mutex_unlock(mutex)
        for p in evicted { p.deallocate() }
        return .allocate(byteCount: byteCount, alignment: 64)
    }

    /// Takes back a block from `allocate` and keeps it for reuse (or frees it, when small).
    func give(_ pointer: UnsafeMutableRawPointer, byteCount: Int) {
        guard byteCount >= minimumBytes else { return pointer.deallocate() }
        var evicted: [UnsafeMutableRawPointer] = []
        pthread_mutex_lock(mutex)
        liveBytes -= byteCount
        blocks.append((byteCount, pointer))
        cachedBytes += byteCount
        while cachedBytes > limitBytes {               // only after `drain` lowered the limit under live blocks
            let oldest = blocks.removeFirst()
            cachedBytes -= oldest.bytes
            evicted.append(oldest.pointer)
        }
        pthread_mutex_unlock(mutex)
        for p in evicted { p.deallocate() }
    }
}

/// Computes the gradient of `input` with `body(destination, beta)`, which must write it (beta 0) or
/// add it (beta 1) at `destination`, and returns what the node's backward hands the engine.
///
/// For a leaf that wants a gradient (a parameter) the gradient goes straight into its `grad` (added
/// when one exists, as the engine's accumulation would) and nil is returned: weight gradients are
/// the largest tensors of a backward pass and need no temporary plus copy (llm.c's "backward
/// accumulates"). Another input needing a gradient gets a fresh tensor; an input needing none gets
/// nothing computed (a layer's data input: its ∂x GEMM is skipped).
@inline(__always)
func accumulateGradient<Scalar: TensorScalar>(
    _ input: Tensor<Scalar>, _ body: (UnsafeMutablePointer<Scalar>, Scalar) -> Void
) -> Tensor<Scalar>? {
    guard input.requiresGrad else { return nil }
    if input.isLeaf {
        if let existing = input.grad {
            checkShapes("accumulateGradient", input.shape, existing.shape, existing.count == input.count)
            body(existing.data, 1)
        } else {
            let g = Tensor<Scalar>.uninitialized(input.shape)            // body writes it all (β = 0)
            body(g.data, 0)
            input.grad = g
        }
        return nil
    }
    let g = Tensor<Scalar>.uninitialized(input.shape)
    body(g.data, 0)
    return g
}
