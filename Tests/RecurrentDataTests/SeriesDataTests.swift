import Foundation
import XCTest
@testable import RecurrentData

/// The readers of `classify-series`: .ts, long CSV, .npy/.npz, the hyperspectral cube, and the scaler and splits.
final class SeriesDataTests: XCTestCase {
    let multivariate = """
    # a comment
    @problemName Tiny
    @timeStamps false
    @univariate false
    @dimensions 2
    @equalLength false
    @classLabel true a b
    @data
    1,2,3:4,5,6:a
    7,8:9,10:b

    """

    func testReadsMultivariateUnequalLengths() throws {
        let (header, series) = try UEATimeSeriesFile.parse(multivariate, path: "tiny.ts")
        XCTAssertEqual(header.dimensions, 2)
        XCTAssertEqual(header.classLabels, ["a", "b"])
        XCTAssertEqual(series.count, 2)
        XCTAssertEqual(series[0].steps, 3)
        XCTAssertEqual(series[0].features, 2)
        XCTAssertEqual(series[0].values, [1, 4, 2, 5, 3, 6], "(T, F) row-major: the dimensions interleave per step")
        XCTAssertEqual(series[1].label, "b")
        XCTAssertEqual(series[1].source, "tiny.ts, line 10")
    }

    func testReadsUnivariateEqualLengths() throws {
        let text = "@univariate true\n@equalLength true\n@seriesLength 3\n@classLabel true 1 2\n@data\n0.5,1.5,-2:1\n1,1,1:2\n"
        let (header, series) = try UEATimeSeriesFile.parse(text, path: "u.ts")
        XCTAssertEqual(header.dimensions, 1)
        XCTAssertEqual(series.map(\.steps), [3, 3])
        XCTAssertEqual(series[0].values, [0.5, 1.5, -2])
    }

    /// Every lie a header can tell, and bad values, give a one-line error naming the file and line.
    func testBadTSFilesGiveOneLineErrors() {
        let cases: [(String, String)] = [
            ("@dimensions 3\n@classLabel true a\n@data\n1,2:3,4:a\n", "line 4: 2 dimensions, but the header says @dimensions 3"),
            ("@univariate true\n@seriesLength 4\n@equalLength true\n@classLabel true a\n@data\n1,2,3:a\n", "line 6: 3 values per dimension, but the header says @seriesLength 4"),
            ("@equalLength true\n@classLabel true a\n@data\n1,2:a\n1,2,3:a\n", "line 5: 3 values per dimension, but the header says @equalLength true"),
            ("@dimensions 2\n@classLabel true a\n@data\n1,2:3,4\n", "line 4: missing class label"),
            ("@classLabel true a b\n@data\n1,2:c\n", "label 'c' is not one of @classLabel's a b"),
            ("@classLabel true a\n@data\n1,NaN,3:a\n", "line 3: dimension 1, value 2: a missing value ('NaN') is not a finite number"),
            ("@classLabel true a\n@data\n1,?,3:a\n", "a missing value ('?')"),
            ("@classLabel true a\n@data\n1,2,3:4,5:a\n", "dimension 2 has 2 values but dimension 1 has 3"),
            ("@univariate true\n@dimensions 2\n@data\n1:a\n", "@univariate true but @dimensions 2"),
            ("@timeStamps true\n@data\n", "time-stamped .ts files"),
            ("@classLabel true a\n1,2:a\n", "line 2: expected a @keyword header line or @data"),
            ("@classLabel true a\n", "no @data line"),
        ]
        for (text, expected) in cases {
            XCTAssertThrowsError(try UEATimeSeriesFile.parse(text, path: "bad.ts")) { error in
                let message = "\(error)"
                XCTAssertTrue(message.hasPrefix("bad.ts"), message)
                XCTAssertTrue(message.contains(expected), "\(message) should contain \(expected)")
                XCTAssertFalse(message.contains("\n"), "one line: \(message)")
            }
        }
    }

    func testLongCSVGroupsOrdersAndChecksLabels() throws {
        let csv = "id,time,x,y,label\ns2,1,5,6,up\ns1,1,3,4,down\ns1,0,1,2,down\ns2,0,7,8,up\n"
        let series = try LongCSVSeries.parse(csv, path: "long.csv", timeColumn: "time")
        XCTAssertEqual(series.map(\.label), ["up", "down"], "sequences in order of first appearance")
        XCTAssertEqual(series[1].values, [1, 2, 3, 4], "rows ordered by the time column")
        XCTAssertEqual(series[0].values, [7, 8, 5, 6])
        XCTAssertThrowsError(try LongCSVSeries.parse("id,x,label\na,1,u\na,2,v\n", path: "c.csv")) {
            XCTAssertTrue("\($0)".contains("c.csv, line 3: sequence 'a' has label 'v' here but 'u' on line 2"), "\($0)")
        }
        XCTAssertThrowsError(try LongCSVSeries.parse("id,x,label\na,1,\n", path: "c.csv")) { XCTAssertTrue("\($0)".contains("line 2: missing label"), "\($0)") }
        XCTAssertThrowsError(try LongCSVSeries.parse("id,x,label\na,nan,u\n", path: "c.csv")) { XCTAssertTrue("\($0)".contains("'nan' is not a finite number"), "\($0)") }
        XCTAssertThrowsError(try LongCSVSeries.parse("id,x\na,1\n", path: "c.csv")) { XCTAssertTrue("\($0)".contains("no label column 'label'"), "\($0)") }
        XCTAssertEqual(try LongCSVSeries.parse("id,x\na,1\n", path: "c.csv", requireLabels: false).first?.label, "")
    }

    /// An .npy file as NumPy writes it (version 1, little-endian, C order).
    static func npy(_ values: [Double], shape: [Int], descr: String = "<f8") -> Data {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
        while (10 + header.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var data = Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, UInt8(header.count & 0xFF), UInt8(header.count >> 8)])
        data.append(Data(header.utf8))
        for v in values {
            switch descr {
            case "<f4": withUnsafeBytes(of: Float(v).bitPattern.littleEndian) { data.append(contentsOf: $0) }
            case "<i8": withUnsafeBytes(of: Int64(v).littleEndian) { data.append(contentsOf: $0) }
            default: withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) }
            }
        }
        return data
    }

    /// A stored-only zip of named entries, as `np.savez` writes.
    static func npz(_ entries: [(String, Data)]) -> Data {
        var zip = Data()
        func le(_ v: Int, _ n: Int) -> [UInt8] { (0..<n).map { UInt8((v >> (8 * $0)) & 0xFF) } }
        for (name, payload) in entries {
            zip.append(contentsOf: le(0x0403_4B50, 4) + le(20, 2) + le(0, 2) + le(0, 2) + le(0, 4) + le(0, 4))
            zip.append(contentsOf: le(payload.count, 4) + le(payload.count, 4) + le(name.utf8.count, 2) + le(0, 2))
            zip.append(Data(name.utf8))
            zip.append(payload)
        }
        zip.append(contentsOf: le(0x0201_4B50, 4))      // the central directory starts: the reader stops here
        return zip
    }

    func testNpyAndNpzWithNaNPadding() throws {
        // Two sequences of (T = 3, F = 2); the second is 2 steps long, padded with NaN.
        let x: [Double] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, .nan, .nan]
        let values = try SeriesArrays.series(values: NumpyArray.parse(Self.npy(x, shape: [2, 3, 2], descr: "<f4"), path: "x.npy"), valuesPath: "x.npy",
                                             labels: NumpyArray.parse(Self.npy([0, 3], shape: [2], descr: "<i8"), path: "y.npy"), labelsPath: "y.npy")
        XCTAssertEqual(values.map(\.steps), [3, 2])
        XCTAssertEqual(values.map(\.label), ["0", "3"])
        XCTAssertEqual(values[1].values, [7, 8, 9, 10])

        let url = FileManager.default.temporaryDirectory.appendingPathComponent("series-\(UInt64.random(in: 0...UInt64.max)).npz")
        defer { try? FileManager.default.removeItem(at: url) }
        try Self.npz([("X.npy", Self.npy(x, shape: [2, 3, 2])), ("y.npy", Self.npy([1, 2], shape: [2]))]).write(to: url)
        let fromArchive = try SeriesArrays.read(path: url.path, labels: nil)
        XCTAssertEqual(fromArchive.map(\.values), values.map(\.values))
        XCTAssertEqual(fromArchive.map(\.label), ["1", "2"])

        let inside: [Double] = [1, .nan, 3, 4, 5, 6]
        XCTAssertThrowsError(try SeriesArrays.series(values: NumpyArray.parse(Self.npy(inside, shape: [1, 3, 2]), path: "x.npy"), valuesPath: "x.npy",
                                                     labels: NumpyArray.parse(Self.npy([0], shape: [1]), path: "y.npy"), labelsPath: "y.npy")) {
            XCTAssertEqual("\($0)", "x.npy, index 0: step 0, feature 1: nan is not a finite number (NaN is only allowed as padding after the last step)")
        }
        XCTAssertThrowsError(try SeriesArrays.series(values: NumpyArray.parse(Self.npy(x, shape: [2, 3, 2]), path: "x.npy"), valuesPath: "x.npy",
                                                     labels: NumpyArray.parse(Self.npy([0, 1, 2], shape: [3]), path: "y.npy"), labelsPath: "y.npy")) {
            XCTAssertEqual("\($0)", "y.npy: 3 labels for 2 sequences in x.npy")
        }
        XCTAssertThrowsError(try NumpyArray.parse(Data("not numpy".utf8), path: "z.npy")) { XCTAssertTrue("\($0)".hasPrefix("z.npy: not an .npy array"), "\($0)") }
        XCTAssertThrowsError(try NumpyArray.parse(Self.npy([1, 2], shape: [3]), path: "short.npy")) { XCTAssertTrue("\($0)".contains("less than the shape"), "\($0)") }
    }

    /// A synthetic cube: class 1 pixels rise across the bands, class 2 fall; a stripe is unlabelled.
    static func cube(height: Int = 12, width: Int = 12, bands: Int = 6) -> (cube: NumpyArray, mask: NumpyArray) {
        var values: [Double] = [], labels: [Double] = []
        for r in 0..<height {
            for c in 0..<width {
                let k = c == 0 ? 0 : (r < height / 2 ? 1 : 2)
                labels.append(Double(k))
                for b in 0..<bands { values.append(k == 2 ? Double(bands - b) : Double(b) + 0.01 * Double(c)) }
            }
        }
        return (NumpyArray(shape: [height, width, bands], numbers: values, strings: nil), NumpyArray(shape: [height, width], numbers: labels, strings: nil))
    }

    func testCubeBandsAsSequenceAndSplits() throws {
        let (cubeArray, maskArray) = Self.cube()
        let cube = try HyperspectralCube(cube: cubeArray, cubePath: "cube.npy", mask: maskArray, maskPath: "mask.npy")
        XCTAssertEqual(cube.pixels.count, 12 * 11, "column 0 is unlabelled")
        XCTAssertEqual(cube.pixels[0].series.steps, 6)
        XCTAssertEqual(cube.pixels[0].series.features, 1)
        XCTAssertEqual(cube.pixels[0].series.source, "cube.npy, pixel (0, 1)")

        let blocks = cube.splitByBlock(size: 4, seed: 3)
        XCTAssertEqual(blocks.train.count + blocks.validation.count + blocks.test.count, cube.pixels.count)
        XCTAssertFalse(blocks.test.isEmpty)
        // No 4×4 square holds pixels of two splits.
        func squares(_ items: [LabelledSeries]) -> Set<String> {
            Set(items.map { s in
                let numbers = s.source.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
                return "\(numbers[numbers.count - 2] / 4),\(numbers[numbers.count - 1] / 4)"
            })
        }
        XCTAssertTrue(squares(blocks.train).isDisjoint(with: squares(blocks.test)))
        XCTAssertTrue(squares(blocks.validation).isDisjoint(with: squares(blocks.test)))
        let pixels = cube.splitByPixel(seed: 3)
        XCTAssertEqual(pixels.train.count, Int(Double(cube.pixels.count) * 0.8))

        let wrongMask = NumpyArray(shape: [12, 11], numbers: [Double](repeating: 1, count: 132), strings: nil)
        XCTAssertThrowsError(try HyperspectralCube(cube: cubeArray, cubePath: "cube.npy", mask: wrongMask, maskPath: "mask.npy")) {
            XCTAssertEqual("\($0)", "mask.npy: the mask has shape [12, 11] but the cube cube.npy is 12×12 pixels (shape [12, 12, 6])")
        }
        var nan = cubeArray
        nan.numbers[6 * 5 + 2] = .nan
        XCTAssertThrowsError(try HyperspectralCube(cube: nan, cubePath: "cube.npy", mask: maskArray, maskPath: "mask.npy")) {
            XCTAssertEqual("\($0)", "cube.npy, pixel (0, 5), band 2: nan is not a finite number")
        }
    }

    func testScalerIsFittedOnTrainingOnlyAndClassesAreOrdered() throws {
        let train = [LabelledSeries(values: [0, 10, 2, 30], steps: 2, features: 2, label: "10", source: "a"),
                     LabelledSeries(values: [4, 20], steps: 1, features: 2, label: "9", source: "b")]
        let test = [LabelledSeries(values: [100, 100], steps: 1, features: 2, label: "9", source: "c")]
        let data = try SeriesClassificationData(split: DataSplit(train: train, validation: [], test: test))
        XCTAssertEqual(data.classNames, ["9", "10"], "numeric labels sort as numbers")
        XCTAssertEqual(data.scaler.mean, [2, 20])
        XCTAssertEqual(data.scaler.std[0], (8.0 / 3).squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(data.test.labels, [0])
        let batch = data.train.batch([1, 0])
        XCTAssertEqual(batch.steps, 2)
        XCTAssertEqual(batch.lengths, [1, 2])
        XCTAssertEqual(Array(batch.values[4...5]), [0, 0], "padding past a length is zero")
        XCTAssertThrowsError(try SeriesClassificationData(split: DataSplit(train: train, validation: [], test: [
            LabelledSeries(values: [1, 1], steps: 1, features: 2, label: "7", source: "t.ts, line 9")]))) {
            XCTAssertTrue("\($0)".hasPrefix("t.ts, line 9: label '7' is not a known class"), "\($0)")
        }
        let split = SeriesClassificationData.stratifiedSplit(train + train + train, test: test, seed: 1, validation: 0.34)
        XCTAssertEqual(split.validation.map(\.label).sorted(), ["10", "9"], "one of each class held out")
    }

    func testPatchesLaySuccessiveStepsSideBySide() {
        let s = LabelledSeries(values: [1, 10, 2, 20, 3, 30, 4, 40, 5, 50], steps: 5, features: 2, label: "a", source: "s")
        let p = s.patched(2)
        XCTAssertEqual(p.steps, 3)
        XCTAssertEqual(p.features, 4)
        XCTAssertEqual(p.values, [1, 10, 2, 20, 3, 30, 4, 40, 5, 50, 5, 50], "the last patch repeats the final step")
        XCTAssertEqual(s.patched(1), s)
    }

    func testBundledUEAFilesRead() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Examples/data/uea-ucr")
        for (name, count, features, classes) in [("JapaneseVowels", 270, 12, 9), ("BasicMotions", 40, 6, 4), ("GunPoint", 50, 1, 2)] {
            let (header, series) = try UEATimeSeriesFile.read(path: root.appendingPathComponent("\(name)/\(name)_TRAIN.ts").path)
            XCTAssertEqual(series.count, count, name)
            XCTAssertEqual(series[0].features, features, name)
            XCTAssertEqual(header.classLabels.count, classes, name)
        }
    }
}
