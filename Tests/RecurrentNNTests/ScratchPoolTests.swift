import XCTest
@testable import RecurrentNN
import RecurrentTensor

/// The fused layers' scratch cache (ScratchBuffer.swift): a training step's blocks come back at the next
/// step however large they are, and live plus cached memory never exceeds the larger of the peak
/// without a cache and the minimum limit. A private pool with a small minimum stands in for the shared one.
final class ScratchPoolTests: XCTestCase {
    let kib = 1 << 10

    /// Two "steps" of the same three sizes, larger together than the minimum limit: the second reuses
    /// every block of the first (the fixed 64 MiB cap freed what did not fit).
    func testRepeatedStepsReuseBlocksAboveTheMinimumLimit() {
        let pool = ScratchPool(minimumLimitBytes: 256 * kib)
        let sizes = [600 * kib, 600 * kib, 300 * kib]
        let first = sizes.map { pool.allocate($0) }
        XCTAssertEqual(pool.liveBytes, 1500 * kib)
        XCTAssertEqual(pool.peakLiveBytes, 1500 * kib)
        for (p, n) in zip(first, sizes) { pool.give(p, byteCount: n) }
        XCTAssertEqual(pool.cachedBytes, 1500 * kib, "everything freed is kept: it was live a moment ago")
        let second = sizes.map { pool.allocate($0) }
        XCTAssertEqual(Set(second), Set(first), "the second step gets the first step's blocks back")
        XCTAssertEqual(pool.cachedBytes, 0)
        for (p, n) in zip(second, sizes) { pool.give(p, byteCount: n) }
        pool.drain()
        XCTAssertEqual(pool.cachedBytes, 0)
        XCTAssertEqual(pool.peakLiveBytes, 0, "the high-water mark restarts from what is live")
    }

    /// A new shape after a big phase: the cache is emptied (oldest first) far enough that live + cached
    /// + the new block stay within the peak, so the cache never adds to the memory of a new phase.
    func testAMissFreesCachedBlocksBeyondThePeak() {
        let pool = ScratchPool(minimumLimitBytes: 256 * kib)
        let sizes = [400 * kib, 400 * kib, 400 * kib]
        let blocks = sizes.map { pool.allocate($0) }
        for (p, n) in zip(blocks, sizes) { pool.give(p, byteCount: n) }
        XCTAssertEqual(pool.cachedBytes, 1200 * kib)
        let other = pool.allocate(500 * kib)                          // no cached block of this size
        XCTAssertLessThanOrEqual(pool.liveBytes + pool.cachedBytes, 1200 * kib)
        XCTAssertEqual(pool.cachedBytes, 400 * kib, "two of the three 400 KiB blocks had to go")
        let bigger = pool.allocate(2000 * kib)                        // a new peak: nothing cached may stay
        XCTAssertEqual(pool.cachedBytes, 0)
        XCTAssertEqual(pool.peakLiveBytes, 2500 * kib)
        pool.give(other, byteCount: 500 * kib)
        pool.give(bigger, byteCount: 2000 * kib)
        XCTAssertEqual(pool.liveBytes, 0)
        XCTAssertEqual(pool.cachedBytes, 2500 * kib)
    }

    /// Blocks under `minimumBytes` are never cached or counted; the most recently freed block of a size
    /// is the one reused (it is the likeliest to be in cache).
    func testSmallBlocksBypassAndNewestIsReusedFirst() {
        let pool = ScratchPool(minimumLimitBytes: 256 * kib)
        let small = pool.allocate(pool.minimumBytes - 64)
        XCTAssertEqual(pool.liveBytes, 0)
        pool.give(small, byteCount: pool.minimumBytes - 64)
        XCTAssertEqual(pool.cachedBytes, 0)
        let a = pool.allocate(100 * kib), b = pool.allocate(100 * kib)
        pool.give(a, byteCount: 100 * kib)
        pool.give(b, byteCount: 100 * kib)
        XCTAssertEqual(pool.allocate(100 * kib), b)
    }

    /// The shared pool under a real layer: every scratch block of a training step comes back to the pool
    /// when the step's graph goes, and the next step takes exactly those blocks (nothing new is cached)
    /// and computes the same gradients.
    func testLayerTrainingStepsReuseTheirScratch() {
        var rng = RandomGenerator(seed: 11)
        let layer = RecurrentLayer<Float>(kind: .lstm, inputSize: 8, hiddenSize: 16, numLayers: 1, bias: true, batchFirst: false,
                                          dropout: 0, bidirectional: false, merge: .concat, projSize: 0, generator: &rng)
        let x = Tensor<Float>.normal([64, 32, 8], generator: &rng)
        func step() -> [Float] {
            let (y, _) = layer(x, lengths: nil)
            (y * y).mean().backward()
            return layer.parameters().flatMap { $0.grad!.scalars }
        }
        releaseCachedRecurrentBuffers()
        let first = step()
        let cachedAfterFirst = ScratchPool.shared.cachedBytes
        XCTAssertGreaterThan(cachedAfterFirst, 0)
        for p in layer.parameters() { p.grad = nil }
        let second = step()
        XCTAssertEqual(first, second)
        XCTAssertEqual(ScratchPool.shared.cachedBytes, cachedAfterFirst, "the second step took and gave back the same blocks")
    }
}
