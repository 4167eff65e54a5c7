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
/// whose page faults and clearing cost several percent of a layer's forward (perf: `clear_page_erms`,
/// `exc_page_fault`).
final class Scratch<Scalar> {
    let data: UnsafeMutablePointer<Scalar>
    private let bytes: Int
    private let keep: AnyObject?

    @inline(__always)
    init(_ count: Int, zeroed: Bool) {
        bytes = Swift.max(count, 1) * MemoryLayout<Scalar>.stride
        let raw = ScratchPool.shared.take(bytes) ?? UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
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

/// Frees the scratch blocks that the fused recurrent layers keep for reuse between calls (at most
/// 64 MiB, blocks of 64 KiB and more), e.g. after training, before a long phase that needs the memory.
public func releaseCachedRecurrentBuffers() { ScratchPool.shared.drain() }

/// A small cache of freed `Scratch` blocks by exact byte size, holding at most `limitBytes` (the most
/// recently freed win). Blocks below `minimumBytes` go straight back to malloc (which recycles small
/// blocks itself).
final class ScratchPool: @unchecked Sendable {
    static let shared = ScratchPool(limitBytes: 64 << 20)

    let limitBytes: Int
    let minimumBytes = 1 << 16
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var blocks: [(bytes: Int, pointer: UnsafeMutableRawPointer)] = []   // oldest first
    private var cachedBytes = 0

    init(limitBytes: Int) {
        self.limitBytes = limitBytes
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        for block in blocks { block.pointer.deallocate() }
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Frees every cached block.
    func drain() {
        pthread_mutex_lock(mutex)
        let all = blocks
        blocks = []
        cachedBytes = 0
        pthread_mutex_unlock(mutex)
        for block in all { block.pointer.deallocate() }
    }

    /// A cached block of exactly `byteCount` bytes, or nil.
    func take(_ byteCount: Int) -> UnsafeMutableRawPointer? {
        guard byteCount >= minimumBytes else { return nil }
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        guard let i = blocks.lastIndex(where: { $0.bytes == byteCount }) else { return nil }
        cachedBytes -= byteCount
        return blocks.remove(at: i).pointer
    }

    /// Keeps `pointer` for reuse, evicting the oldest blocks beyond the limit, or frees it.
    func give(_ pointer: UnsafeMutableRawPointer, byteCount: Int) {
        guard byteCount >= minimumBytes, byteCount <= limitBytes else { return pointer.deallocate() }
        var evicted: [UnsafeMutableRawPointer] = []
        pthread_mutex_lock(mutex)
        blocks.append((byteCount, pointer))
        cachedBytes += byteCount
        while cachedBytes > limitBytes {
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
