import Foundation
import RecurrentData
import RecurrentIO
import RecurrentModels
import RecurrentNN
import RecurrentTensor
import RecurrentTraining
import XCTest

/// Two classes of short 2-feature sequences: class "up" rises in feature 0, class "down" falls; lengths 3...6.
func risingFallingSeries(count: Int, seed: UInt64) -> [LabelledSeries] {
    var generator = RandomGenerator(seed: seed)
    return (0..<count).map { i in
        let up = i % 2 == 0, T = 3 + generator.nextInt(below: 4)
        var values: [Float] = []
        for t in 0..<T {
            values += [Float(up ? t : -t) + 0.3 * generator.nextNormal(Float.self), generator.nextNormal(Float.self)]
        }
        return LabelledSeries(values: values, steps: T, features: 2, label: up ? "up" : "down", source: "synthetic, index \(i)")
    }
}

final class ClassifySeriesTests: XCTestCase {
    var folder: URL!
    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("series-\(UInt64.random(in: 0...UInt64.max))")
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    func seriesConfig(pooling: Pooling, cell: CellKind = .lstm, scaler: FeatureScaler = FeatureScaler(mean: [0, 0], std: [1, 1])) -> SequenceClassifierConfig {
        SequenceClassifierConfig.series(features: 2, scaler: scaler, classNames: ["a", "b", "c"], hiddenSize: 5, layers: 2, cell: cell,
                                        bidirectional: true, dropout: 0.3, pooling: pooling)
    }

    /// Every pooling, attention included, and every cell: one row of logits per sequence, and padding changes nothing.
    func testRealVectorInputIgnoresPaddingForEveryPoolingAndCell() {
        for pooling in Pooling.allCases {
            for cell in CellKind.allCases {
                let model = SequenceClassifier(seriesConfig(pooling: pooling, cell: cell), seed: 2)
                model.eval()
                XCTAssertNil(model.embedding)
                XCTAssertEqual(model.attention != nil, pooling == .attention)
                let short: [Float] = [0.5, -1, 1, 2]
                let alone = SeriesBatch(sequences: [short], features: 2)
                let padded = SeriesBatch(sequences: [short, [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]], features: 2)
                let a = model(alone), b = model(padded)
                XCTAssertEqual(b.shape, [2, 3])
                for c in 0..<3 { XCTAssertEqual(a.data[c], b.data[c], accuracy: 1e-5, "\(cell) \(pooling): padding must not change the result") }
            }
        }
    }

    /// Attention weights are a softmax over each sequence's valid steps only.
    func testAttentionPoolingWeightsSumToOneOverValidSteps() {
        var generator = RandomGenerator(seed: 4)
        let pool = AttentionPooling(inputSize: 3, attentionSize: 4, generator: &generator)
        let output = Tensor<Float>((0..<(4 * 2 * 3)).map { Float($0 % 7) / 7 - 0.4 }, shape: [4, 2, 3])
        let (pooled, weights) = pool(output, lengths: [2, 4])
        XCTAssertEqual(pooled.shape, [2, 3])
        let w = weights.data
        XCTAssertEqual(w[0 * 2 + 0] + w[1 * 2 + 0], 1, accuracy: 1e-5, "sequence 0: weights on its 2 steps")
        XCTAssertEqual(w[2 * 2 + 0], 0)
        XCTAssertEqual(w[3 * 2 + 0], 0)
        XCTAssertEqual((0..<4).map { w[$0 * 2 + 1] }.reduce(0, +), 1, accuracy: 1e-5)
    }

    /// The word classifier's config JSON has none of the new keys, so its checkpoints and fingerprints are unchanged.
    func testTokenConfigJSONIsUnchanged() throws {
        let json = String(decoding: try JSONEncoder().encode(SequenceClassifierConfig(vocabularySize: 10)), as: UTF8.self)
        for key in ["inputFeatures", "scaler", "classNames"] { XCTAssertFalse(json.contains(key), json) }
        let old = #"{"vocabularySize": 5, "embeddingSize": 4, "hiddenSize": 4, "layers": 1, "cell": "lstm", "bidirectional": true, "dropout": 0, "classes": 2, "pooling": "max"}"#
        XCTAssertNil(try JSONDecoder().decode(SequenceClassifierConfig.self, from: Data(old.utf8)).inputFeatures)
        var bad = seriesConfig(pooling: .mean)
        bad.scaler = FeatureScaler(mean: [0], std: [1])
        XCTAssertThrowsError(try bad.validate()) { XCTAssertEqual($0 as? ModelError, .badConfig("the feature scaler has 1 features but inputFeatures is 2")) }
        bad.scaler = FeatureScaler(mean: [0, 0], std: [1, 0])
        XCTAssertThrowsError(try bad.validate()) { XCTAssertEqual($0 as? ModelError, .badConfig("the feature scaler must be finite with every std > 0")) }
    }

    /// A few epochs on the one training loop: learns beyond chance, writes its files, and loads back with its scaler.
    func testShortTrainingLearnsAndLoadsBack() throws {
        let all = risingFallingSeries(count: 96, seed: 1)
        let split = SeriesClassificationData.stratifiedSplit(Array(all[..<64]), test: Array(all[64...]), seed: 1, validation: 0.25)
        let data = try SeriesClassificationData(split: split)
        XCTAssertEqual(data.classNames, ["down", "up"])
        let config = SequenceClassifierConfig.series(features: 2, scaler: data.scaler, classNames: data.classNames, hiddenSize: 8, pooling: .attention)
        let task = try SeriesClassificationTask(model: SequenceClassifier(config, seed: 3), data: data,
                                                settings: .init(splitSeed: 1, validationFraction: 0.25, inputNoise: 0.05))
        let trainer = Trainer(task: task, options: options(SeriesClassificationTask.defaultOptions, .epochs(6), batch: 8, seed: 1) { $0.learningRate = 1e-2 },
                              folder: folder)
        try trainer.run()
        XCTAssertLessThan(trainer.history.last!.trainLoss, trainer.history.first!.trainLoss)
        let test = task.classifier.evaluate(on: data.test)
        XCTAssertGreaterThan(test.accuracy, 0.8, test.summary)
        for name in ["config.json", "metrics.csv", "best.safetensors", "last.safetensors", "test.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent(name).path), name)
        }
        let (model, extra) = try SequenceClassifier.loadSeries(from: folder.appendingPathComponent("best.safetensors"))
        XCTAssertEqual(extra["task"], "classify-series")
        XCTAssertEqual(model.config.scaler, data.scaler)
        XCTAssertEqual(model.config.classNames, ["down", "up"])
        let report = try JSONDecoder().decode(SeriesClassificationTask.Report.self, from: Data(contentsOf: folder.appendingPathComponent("test.json")))
        XCTAssertEqual(model.evaluate(on: data.test), report.test)
        XCTAssertThrowsError(try SequenceClassifier.load(from: folder.appendingPathComponent("best.safetensors"))) {
            XCTAssertEqual($0 as? ModelError, .wrongTask(expected: "classify", found: "classify-series"))
        }
    }

    func testPerClassFigures() {
        let m = ClassificationMetrics(predictions: [0, 0, 1, 1, 2], labels: [0, 1, 1, 1, 2], classes: 3)
        let figures = m.perClass
        XCTAssertEqual(figures[0].precision, 0.5)
        XCTAssertEqual(figures[1].recall, 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(figures[1].support, 3)
        XCTAssertEqual(figures[2].f1, 1)
    }
}

/// `recurrent train/eval/predict classify-series` end to end on tiny files, and bad files with one-line errors.
final class ClassifySeriesCommandLineTests: CommandLineTestCase {
    func write(_ text: String, _ name: String) throws -> String {
        let url = folder.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    /// A `.ts` file of `series` (the rising/falling set).
    func tsFile(_ series: [LabelledSeries], name: String) throws -> String {
        var text = "@problemName Tiny\n@univariate false\n@dimensions 2\n@equalLength false\n@classLabel true up down\n@data\n"
        for s in series {
            let dims = (0..<2).map { f in (0..<s.steps).map { "\(s.values[$0 * 2 + f])" }.joined(separator: ",") }
            text += dims.joined(separator: ":") + ":\(s.label)\n"
        }
        return try write(text, name)
    }

    /// An .npy of float64 numbers (version 1, C order).
    func npy(_ values: [Double], shape: [Int], name: String) throws -> String {
        var header = "{'descr': '<f8', 'fortran_order': False, 'shape': (" + shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? ",), }" : "), }")
        while (10 + header.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var data = Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, UInt8(header.count), 0])
        data.append(Data(header.utf8))
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        let url = folder.appendingPathComponent(name)
        try data.write(to: url)
        return url.path
    }

    override class var refusalMaximumLines: Int? { 1 }

    func testTrainEvalPredictAndBadFiles() throws {
        let all = risingFallingSeries(count: 48, seed: 2)
        let train = try tsFile(Array(all[..<32]), name: "Tiny_TRAIN.ts"), test = try tsFile(Array(all[32...]), name: "Tiny_TEST.ts")
        let runFolder = folder.appendingPathComponent("run").path
        let trained = try run(["train", "classify-series", "--data", folder.path, "--hidden", "8", "--epochs", "3", "--batch", "8",
                               "--pooling", "attention", "--out", runFolder])
        XCTAssertEqual(trained.status, 0, trained.error)
        XCTAssertTrue(trained.output.contains("26 training, 6 validation, 16 test sequences"), trained.output)
        XCTAssertTrue(trained.output.contains("macro"), "per-class table: \(trained.output)")
        let csv = try String(contentsOfFile: runFolder + "/confusion.csv", encoding: .utf8)
        XCTAssertTrue(csv.hasPrefix("label\\prediction,up,down\n"), csv)
        XCTAssertEqual(csv.split(separator: "\n").dropFirst().flatMap { $0.split(separator: ",").dropFirst().map { Int($0)! } }.reduce(0, +), 16)
        XCTAssertTrue(try String(contentsOfFile: runFolder + "/confusion.svg", encoding: .utf8).hasPrefix("<svg"))

        let checkpoint = runFolder + "/best.safetensors"
        let evaluated = try run(["eval", "classify-series", "--checkpoint", checkpoint, "--data", train, "--test", test, "--report", folder.path])
        XCTAssertEqual(evaluated.status, 0, evaluated.error)
        XCTAssertTrue(evaluated.output.hasPrefix("test: accuracy"), evaluated.output)
        XCTAssertTrue(evaluated.output.contains("(16 sequences)"), evaluated.output)

        let predicted = try run(["predict", "classify-series", "--checkpoint", checkpoint, "--data", test])
        XCTAssertEqual(predicted.status, 0, predicted.error)
        let lines = predicted.output.split(separator: "\n")
        XCTAssertEqual(lines.count, 16)
        XCTAssertTrue(lines[0].hasPrefix("Tiny_TEST.ts, line 7\t"), String(lines[0]))
        XCTAssertTrue(["up", "down"].contains(String(lines[0].split(separator: "\t")[1])), String(lines[0]))

        // Bad files: one line naming the file and line or index.
        let lying = try write("@dimensions 3\n@classLabel true up down\n@data\n1,2:3,4:up\n", "lying.ts")
        try assertFails(["train", "classify-series", "--data", lying], mentioning: "lying.ts, line 4: 2 dimensions, but the header says @dimensions 3")
        let unlabelled = try write("@dimensions 2\n@classLabel true up down\n@data\n1,2:3,4\n", "nolabel.ts")
        try assertFails(["train", "classify-series", "--data", unlabelled], mentioning: "nolabel.ts, line 4: missing class label")
        let nan = try write("@classLabel true up down\n@data\n1,NaN:3,4:up\n", "nan.ts")
        try assertFails(["train", "classify-series", "--data", nan], mentioning: "nan.ts, line 3: dimension 1, value 2")
        let cube = try npy([Double](repeating: 1, count: 4 * 4 * 3), shape: [4, 4, 3], name: "cube.npy")
        let mask = try npy([Double](repeating: 1, count: 4 * 5), shape: [4, 5], name: "mask.npy")
        try assertFails(["train", "classify-series", "--data", cube, "--mask", mask, "--bands-as-sequence"],
                        mentioning: "mask.npy: the mask has shape [4, 5] but the cube")
        try assertFails(["eval", "classify-series", "--checkpoint", test, "--data", test], mentioning: "error")
    }

    /// A synthetic hyperspectral cube: pixels of class 1 rise across the bands, class 2 fall; split by 4×4 blocks.
    func testCubeBandsAsSequence() throws {
        let (H, W, B) = (16, 16, 8)
        var values: [Double] = [], labels: [Double] = []
        var generator = RandomGenerator(seed: 5)
        for r in 0..<H {
            for c in 0..<W {
                let k = (r / 4 + c / 4) % 2 + 1
                labels.append(Double(k))
                for b in 0..<B { values.append((k == 1 ? Double(b) : Double(B - b)) + 0.5 * Double(generator.nextNormal(Float.self))) }
            }
        }
        let cube = try npy(values, shape: [H, W, B], name: "cube.npy"), mask = try npy(labels, shape: [H, W], name: "mask.npy")
        let runFolder = folder.appendingPathComponent("cube-run").path
        let trained = try run(["train", "classify-series", "--data", cube, "--mask", mask, "--bands-as-sequence", "--block-size", "4",
                               "--hidden", "8", "--epochs", "2", "--batch", "16", "--lr", "0.01", "--out", runFolder])
        XCTAssertEqual(trained.status, 0, trained.error)
        XCTAssertTrue(trained.output.contains("cube 16×16×8, 256 labelled pixels, split by 4×4 blocks"), trained.output)
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: runFolder + "/test.json"))) as! [String: Any]
        let accuracy = (report["test"] as! [String: Any])["accuracy"] as! Double
        XCTAssertGreaterThan(accuracy, 0.8, "rising versus falling spectra are easy")
    }
}
