import ArgumentParser
import Foundation
import Recurrent
import RecurrentPresentation

extension RecurrentCommand.Eval {
    /// `recurrent eval classify-series`: accuracy, macro F1, per-class figures and confusion of a series classifier.
    struct ClassifySeries: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "classify-series",
            abstract: "Accuracy, macro F1, per-class table and confusion matrix of a series classifier on the test split (or a whole file with --all).",
            discussion: """
            The test split is the one `recurrent train classify-series` held out: --test (or a folder's NAME_TEST.ts), or the \
            split of --data rebuilt from the seed and split kind the checkpoint records. Writes confusion.csv and confusion.svg \
            into --report (default: the checkpoint's folder).

            Example:
              recurrent eval classify-series --checkpoint runs/vowels/best.safetensors --data Examples/data/uea-ucr/JapaneseVowels
            """
        )

        @Option(help: "Checkpoint written by `recurrent train classify-series`.") var checkpoint: String
        @OptionGroup var source: SeriesDataArguments
        @Flag(help: "Score every sequence of --data instead of the test split.") var all = false
        @Option(help: ArgumentHelp("Folder for confusion.csv and confusion.svg (default: the checkpoint's folder).", valueName: "folder")) var report: String?

        func run() throws {
            try reportingErrors {
                let (model, extra) = try SequenceClassifier.loadSeries(from: URL(fileURLWithPath: checkpoint))
                let config = model.config
                let scored: [LabelledSeries]
                if all {
                    scored = source.bandsAsSequence ? try HyperspectralCube(cube: source.data, mask: source.mask!).pixels.map(\.series)
                        : try source.read(source.files().train, labels: source.labels).series
                } else {
                    guard let seed = extra["split_seed"].flatMap(UInt64.init) else {
                        throw ValidationError("the checkpoint records no split seed; use --all to score every sequence of --data")
                    }
                    let settings = SeriesClassificationTask.Settings(
                        splitSeed: seed, validationFraction: extra["validation_fraction"].flatMap(Double.init) ?? 0.2,
                        cubeSplit: extra["cube_split"].flatMap(CubeSplit.init) ?? .block, blockSize: extra["block_size"].flatMap(Int.init).map { max(1, $0) } ?? 8)
                    scored = try source.split(settings).split.test
                }
                let patchLength = config.patchLength ?? 1
                let patched = scored.map { $0.patched(patchLength) }
                let data = try SeriesClassificationData(split: DataSplit(train: patched, validation: [], test: patched), classNames: config.classNames, scaler: config.scaler)
                let metrics = model.evaluate(on: data.test)
                print("\(all ? "all" : "test"): \(metrics.summary.replacingOccurrences(of: "sentences", with: "sequences"))")
                let confusion = ConfusionReport(metrics: metrics, classNames: data.classNames)
                print(confusion.table, terminator: "")
                let folder = report.map { URL(fileURLWithPath: $0) } ?? URL(fileURLWithPath: checkpoint).deletingLastPathComponent()
                let paths = try confusion.write(into: folder, title: "\(SequenceClassifier.seriesTask): \(all ? "all" : "test"), rows label, columns prediction")
                print("confusion matrix: \(paths.joined(separator: ", "))")
            }
        }
    }
}
