import Foundation
import RecurrentTensor

/// A hyperspectral image as a classification data set (`--bands-as-sequence`): an (H, W, B) cube of reflectances
/// and an (H, W) label mask (0 = unlabelled, k ≥ 1 = class k, the convention of Indian Pines and Pavia). Each
/// labelled pixel becomes one sequence of B steps with one feature: its spectrum read band by band, the way a
/// recurrent network reads a sentence.
public struct HyperspectralCube: Sendable {
    /// One labelled pixel: its spectrum as a sequence and where it lies.
    public struct Pixel: Sendable {
        /// The pixel's spectrum, B steps of one feature, with its class name.
        public var series: LabelledSeries
        /// The pixel's position in the image.
        public var row: Int, column: Int
    }

    /// The image's size: rows, columns and spectral bands.
    public var height: Int, width: Int, bands: Int
    /// Labelled pixels in row-major order.
    public var pixels: [Pixel]

    /// Reads the cube and the mask (`.npy`); they must agree on H and W, the mask must hold non-negative integers,
    /// and every labelled pixel's bands must be finite (unlabelled pixels are not read).
    public init(cube cubePath: String, mask maskPath: String) throws {
        try self.init(cube: NumpyArray.read(path: cubePath), cubePath: cubePath, mask: NumpyArray.read(path: maskPath), maskPath: maskPath)
    }

    /// Pairs a cube (H, W, B) with a label mask (H, W); `cubePath` and `maskPath` name the files in messages.
    /// - Throws: `DataError` when the two arrays do not form a labelled image.
    public init(cube: NumpyArray, cubePath: String, mask: NumpyArray, maskPath: String) throws {
        guard cube.strings == nil, cube.shape.count == 3, cube.shape.allSatisfy({ $0 >= 1 }) else {
            throw DataError.badFile(path: cubePath, reason: "expected a cube of numbers of shape (H, W, B), got shape \(cube.shape)")
        }
        guard mask.strings == nil, mask.shape.count == 2 else {
            throw DataError.badFile(path: maskPath, reason: "expected a label mask of shape (H, W), got shape \(mask.shape)")
        }
        let (H, W, B) = (cube.shape[0], cube.shape[1], cube.shape[2])
        guard mask.shape == [H, W] else {
            throw DataError.badFile(path: maskPath, reason: "the mask has shape \(mask.shape) but the cube \(cubePath) is \(H)×\(W) pixels (shape \(cube.shape))")
        }
        height = H; width = W; bands = B
        let name = (cubePath as NSString).lastPathComponent
        var pixels: [Pixel] = []
        for r in 0..<H {
            for c in 0..<W {
                let k = mask.numbers[r * W + c]
                guard k.isFinite, k >= 0, k == k.rounded(), k < 1e9 else {
                    throw DataError.badItem(path: maskPath, index: "pixel (\(r), \(c))", reason: "label \(k) is not a non-negative integer (0 = unlabelled)")
                }
                guard k > 0 else { continue }
                let base = (r * W + c) * B
                var values = [Float](repeating: 0, count: B)
                for b in 0..<B {
                    let v = cube.numbers[base + b]
                    guard v.isFinite, Swift.abs(v) <= Double(Float.greatestFiniteMagnitude) else {
                        throw DataError.badItem(path: cubePath, index: "pixel (\(r), \(c)), band \(b)", reason: "\(v) is not a finite number")
                    }
                    values[b] = Float(v)
                }
                pixels.append(Pixel(series: LabelledSeries(values: values, steps: B, features: 1, label: String(Int(k)), source: "\(name), pixel (\(r), \(c))"),
                                    row: r, column: c))
            }
        }
        guard !pixels.isEmpty else { throw DataError.badFile(path: maskPath, reason: "no labelled pixel (every label is 0)") }
        self.pixels = pixels
    }

    /// Train / validation / test by pixel: the labelled pixels shuffled by `seed` and cut at the fractions (as `DataSplit`).
    /// Neighbouring pixels are alike, so this split flatters a model: it measures interpolation within regions.
    public func splitByPixel(seed: UInt64, train: Double = 0.8, validation: Double = 0.1) -> DataSplit<LabelledSeries> {
        DataSplit(pixels.map(\.series), seed: seed, train: train, validation: validation)
    }

    /// Train / validation / test by spatial block: the image is tiled into `block`×`block` squares, the squares holding
    /// labelled pixels are shuffled by `seed`, and whole squares go to training until it holds `train` of the labelled
    /// pixels, then to validation until `train + validation`, the rest to test. No test pixel has a training pixel in
    /// its square, so the score measures generalisation to unseen places (the stricter, more honest figure).
    public func splitByBlock(size block: Int, seed: UInt64, train: Double = 0.8, validation: Double = 0.1) -> DataSplit<LabelledSeries> {
        precondition(block >= 1, "HyperspectralCube.splitByBlock: block size must be positive")
        let columns = (width + block - 1) / block
        var byBlock: [Int: [LabelledSeries]] = [:]
        for p in pixels { byBlock[(p.row / block) * columns + p.column / block, default: []].append(p.series) }
        let keys = byBlock.keys.sorted()
        var generator = RandomGenerator(seed: seed)
        let order = generator.permutation(keys.count)
        var split = DataSplit<LabelledSeries>(train: [], validation: [], test: [])
        let total = Double(pixels.count)
        for i in order {
            let items = byBlock[keys[i]]!
            if Double(split.train.count) < train * total { split.train += items }
            else if Double(split.train.count + split.validation.count) < (train + validation) * total { split.validation += items }
            else { split.test += items }
        }
        return split
    }
}

/// How the labelled pixels of a cube are divided into train, validation and test.
public enum CubeSplit: String, Codable, CaseIterable, Sendable, CustomStringConvertible {
    /// Pixels shuffled one by one (`HyperspectralCube.splitByPixel`): neighbours of test pixels train.
    case pixel
    /// Whole squares of pixels (`HyperspectralCube.splitByBlock`): test regions are unseen.
    case block

    public var description: String { rawValue }
}
