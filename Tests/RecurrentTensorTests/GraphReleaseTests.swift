import XCTest
@testable import RecurrentTensor

/// A recorded graph must be freed once its last tensor goes: a backward closure that captured its
/// own output would form output → gradFn → closure → output and keep every step's graph alive.
final class GraphReleaseTests: XCTestCase {
    func testOutputsAreFreedAfterBackward() {
        var weakOutputs: [() -> Tensor<Double>?] = []
        func watch(_ t: Tensor<Double>) -> Tensor<Double> {
            weakOutputs.append { [weak t] in t }
            return t
        }
        do {
            let x = Tensor<Double>([0.5, -1, 2, 3, -0.25, 1.5], shape: [2, 3], requiresGrad: true)
            let parts = x.split(sizes: [1, 2], axis: 1).map(watch)
            let terms = [
                watch(x.tanh()), watch(x.sigmoid()), watch(x.relu()), watch(x.exp()), watch(x * 2.0),
                watch(x / (x.abs() + 1.0)), watch((x.square() + 1.0).sqrt()), watch(x.softmax()),
                watch(x.logSoftmax(axis: 0)), watch(x.clamp(min: -1, max: 1)),
                watch(x.maskedFill(mask: [true, false, true], maskShape: [3], value: 0)),
                watch(Tensor.stack([x, x], axis: 0).sum(axis: 0)),
                watch(x.max(axis: 1, keepDim: true)), watch(x.indexSelect(axis: 1, indices: [2, 0, 0])),
                watch(parts[1].gather(axis: 1, indices: [1, 0, 0, 0, 1, 1], indexShape: [2, 3])),
            ]
            terms.reduce(parts[0], +).sum().backward()
        }
        for (i, w) in weakOutputs.enumerated() { XCTAssertNil(w(), "output \(i) outlived its graph") }
    }
}
