import ArgumentParser
import Foundation
import Recurrent

/// Where the sequences of `train`, `eval` and `predict classify-series` come from: a `.ts` file (or a folder holding
/// NAME_TRAIN.ts and NAME_TEST.ts), a long CSV, `.npy`/`.npz` arrays, or a hyperspectral cube with its mask.
struct SeriesDataArguments: ParsableArguments {
    @Option(help: ArgumentHelp("Sequences: a .ts file (UEA/UCR), a folder with NAME_TRAIN.ts and NAME_TEST.ts, a long .csv, an .npy array (N, T[, F]) with --labels, an .npz holding X and y, or with --bands-as-sequence an (H, W, B) .npy cube.", valueName: "path"))
    var data: String
    @Option(help: ArgumentHelp("Test sequences in the same format (default: NAME_TEST.ts of a --data folder; else a split of --data).", valueName: "path"))
    var test: String?
    @Option(help: ArgumentHelp("Labels (N,) of an .npy --data.", valueName: "file.npy")) var labels: String?
    @Option(name: .customLong("test-labels"), help: ArgumentHelp("Labels (N,) of an .npy --test.", valueName: "file.npy")) var testLabels: String?
    @Option(name: .customLong("id-column"), help: "CSV: the column naming each row's sequence.") var idColumn = "id"
    @Option(name: .customLong("time-column"), help: "CSV: the column ordering a sequence's rows (default: file order).") var timeColumn: String?
    @Option(name: .customLong("label-column"), help: "CSV: the class column.") var labelColumn = "label"
    @Option(name: .customLong("feature-columns"), help: ArgumentHelp("CSV: feature columns, comma-separated (default: all others).", valueName: "a,b,c"))
    var featureColumns: String?
    @Flag(name: .customLong("bands-as-sequence"), help: "--data is an (H, W, B) hyperspectral cube: each labelled pixel's B bands are one sequence.")
    var bandsAsSequence = false
    @Option(help: ArgumentHelp("With --bands-as-sequence: the (H, W) .npy label mask (0 unlabelled, k ≥ 1 class k).", valueName: "file.npy"))
    var mask: String?

    func validate() throws {
        if bandsAsSequence { guard mask != nil else { throw ValidationError("--bands-as-sequence needs --mask (the (H, W) label mask)") } }
        else if mask != nil { throw ValidationError("--mask goes with --bands-as-sequence") }
    }

    /// --data and --test as files: a folder's NAME_TRAIN.ts and NAME_TEST.ts.
    func files() throws -> (train: String, test: String?) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: data, isDirectory: &isDirectory), isDirectory.boolValue else { return (data, test) }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: data)) ?? []
        guard let train = names.filter({ $0.hasSuffix("_TRAIN.ts") }).sorted().first else {
            throw ValidationError("--data \(data) is a folder without a NAME_TRAIN.ts file")
        }
        let testName = String(train.dropLast("_TRAIN.ts".count)) + "_TEST.ts"
        let path = { (data as NSString).appendingPathComponent($0) }
        return (path(train), test ?? (names.contains(testName) ? path(testName) : nil))
    }

    /// Reads one file by its extension; `requireLabels` false lets unlabelled data through (labels "").
    /// - Returns: the sequences and, for a `.ts` file whose header lists its classes, that list.
    func read(_ path: String, labels: String?, requireLabels: Bool = true) throws -> (series: [LabelledSeries], classLabels: [String]?) {
        switch (path as NSString).pathExtension.lowercased() {
        case "ts":
            let (header, series) = try UEATimeSeriesFile.read(path: path)
            if requireLabels && !header.hasLabels { throw DataError.badFile(path: path, reason: "the header says @classLabel false: no labels to train or score on") }
            return (series, header.classLabels.isEmpty ? nil : header.classLabels)
        case "csv", "txt":
            let columns = featureColumns.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
            return (try LongCSVSeries.read(path: path, idColumn: idColumn, timeColumn: timeColumn, labelColumn: labelColumn,
                                           featureColumns: columns, requireLabels: requireLabels), nil)
        case "npy", "npz":
            return (try SeriesArrays.read(path: path, labels: labels, requireLabels: requireLabels), nil)
        default:
            throw ValidationError("--data \(path): unknown format; expected .ts, .csv, .npy or .npz")
        }
    }

    /// The train / validation / test split that `settings` describes, and the class list a `.ts` header gives.
    /// With a test file, validation is a stratified `validationFraction` of --data; without one, --data is split 80/10/10
    /// (a cube: by pixel or by block).
    func split(_ settings: SeriesClassificationTask.Settings) throws -> (split: DataSplit<LabelledSeries>, classLabels: [String]?, description: String) {
        if bandsAsSequence {
            let cube = try HyperspectralCube(cube: data, mask: mask!)
            let split = settings.cubeSplit == .pixel ? cube.splitByPixel(seed: settings.splitSeed)
                : cube.splitByBlock(size: settings.blockSize, seed: settings.splitSeed)
            let how = settings.cubeSplit == .pixel ? "split by pixel" : "split by \(settings.blockSize)×\(settings.blockSize) blocks"
            return (split, nil, "cube \(cube.height)×\(cube.width)×\(cube.bands), \(cube.pixels.count) labelled pixels, \(how) 80/10/10")
        }
        let (trainPath, testPath) = try files()
        let (train, classLabels) = try read(trainPath, labels: labels)
        if let testPath {
            let (test, _) = try read(testPath, labels: testLabels)
            return (SeriesClassificationData.stratifiedSplit(train, test: test, seed: settings.splitSeed, validation: settings.validationFraction),
                    classLabels, "\((testPath as NSString).lastPathComponent) as test, \(Int(settings.validationFraction * 100)) % of \((trainPath as NSString).lastPathComponent) as validation")
        }
        return (DataSplit(train, seed: settings.splitSeed), classLabels, "\((trainPath as NSString).lastPathComponent) split 80/10/10")
    }

    /// The arguments that read the same data again (for the resume command a stopped run prints).
    var arguments: [String] {
        var a = ["--data", data]
        for (flag, value) in [("--test", test), ("--labels", labels), ("--test-labels", testLabels), ("--time-column", timeColumn),
                              ("--feature-columns", featureColumns), ("--mask", mask)] {
            if let value { a += [flag, value] }
        }
        if idColumn != "id" { a += ["--id-column", idColumn] }
        if labelColumn != "label" { a += ["--label-column", labelColumn] }
        if bandsAsSequence { a.append("--bands-as-sequence") }
        return a
    }
}
