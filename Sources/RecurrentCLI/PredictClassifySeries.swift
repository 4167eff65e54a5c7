import ArgumentParser
import Foundation
import Recurrent

extension RecurrentCommand.Predict {
    /// `recurrent predict classify-series`: the class and its probability for each sequence of a file.
    struct ClassifySeries: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "classify-series",
            abstract: "Classify every sequence of a file, printing source<TAB>class<TAB>probability per sequence.",
            discussion: """
            Reads --data in any format `train classify-series` reads; labels are not needed (.ts with @classLabel false, .npy \
            without --labels, a CSV without a label column). The checkpoint's standardisation is applied first.

            Example:
              recurrent predict classify-series --checkpoint runs/vowels/best.safetensors --data Examples/data/uea-ucr/JapaneseVowels/JapaneseVowels_TEST.ts
            """
        )

        @Option(help: "Checkpoint written by `recurrent train classify-series`.") var checkpoint: String
        @OptionGroup var source: SeriesDataArguments
        @Option(help: "Sequences per batch.") var batch = 256
        @Option(help: "Arithmetic of the recurrent layers' and the head's products: fp32 (the trained weights), bf16 or int8 (quantized at load; printed on stderr).")
        var precision: Precision = .fp32

        func validate() throws {
            guard batch > 0 else { throw ValidationError("--batch must be positive") }
        }

        func run() throws {
            try reportingErrors {
                let (model, _) = try SequenceClassifier.loadSeries(from: URL(fileURLWithPath: checkpoint))
                let quantized = try precision == .fp32 ? nil : model.quantized(precision)
                let series = source.bandsAsSequence ? try HyperspectralCube(cube: source.data, mask: source.mask!).pixels.map(\.series)
                    : try source.read(source.files().train, labels: source.labels, requireLabels: false).series
                let encoded = try EncodedSeries(series.map { $0.patched(model.config.patchLength ?? 1) }, scaler: model.config.scaler!, classIds: nil)
                let names = model.config.classNames ?? (0..<model.config.classes).map(String.init)
                let C = model.config.classes
                var output = ""
                for start in stride(from: 0, to: encoded.count, by: batch) {
                    let indices = start..<min(start + batch, encoded.count)
                    let rows = encoded.batch(indices)
                    let probabilities = quantized?.probabilities(rows) ?? model.probabilities(rows)   // (B, C)
                    for (b, i) in indices.enumerated() {
                        let row = (0..<C).map { probabilities.data[b * C + $0] }
                        let label = row.indices.max { row[$0] < row[$1] } ?? 0
                        output += "\(encoded.sources[i])\t\(names[label])\t\(String(format: "%.4f", row[label]))\n"
                    }
                }
                FileHandle.standardError.write(Data("precision: \(precision.rawValue)\n".utf8))   // once it ran: errors stay one line
                FileHandle.standardOutput.write(Data(output.utf8))
            }
        }
    }
}
