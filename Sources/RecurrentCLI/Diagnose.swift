import ArgumentParser
import Foundation
import Recurrent
import RecurrentPresentation

extension RecurrentCommand {
    /// `recurrent diagnose`: gradient flow through a trained model's recurrences.
    struct Diagnose: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show vanishing and exploding gradients: ‖∂L/∂h_t‖ per step, singular values of W_hh, gradient norms.",
            discussion: """
            Takes one batch, computes the loss at the LAST step only and backpropagates it; then writes, into --out:
              gradient_norms.csv   ‖∂L/∂h_t‖ for every step t of every layer and direction (Jordan: ‖∂L/∂y_t‖)
              gradient_norms.svg   the same against the distance T − 1 − t, log scale
              singular_values.csv  the largest singular values of each W_hh (and of each gate's block), by power iteration
              parameter_gradients.csv  the norm of every parameter's gradient
            and prints how often clipping fired during training when the run's metrics.csv records it.
            Checkpoints: `train adding` and `train copy` (the batch is drawn from the task; --lag can lengthen it),
            `train forecast` (--data: the series file; the batch is the first training windows), `train charlm`
            (--data: a text; --batch windows of --lag characters spread evenly over it; the loss is the next-character
            cross-entropy at the last step) and `train classify` (--data: the sentences it was trained on; the batch is
            the first --batch sentences of the held-out test split, the loss their classification loss, which reads the
            last step's state with --pooling final, every step's with mean or max), and `train tag` (--data: its data
            folder; the batch is the first --batch sentences of the test split, the loss the cross-entropy of each
            sentence's last tag only), and `train translate` (--data: its pairs, none for a synthetic task; the batch is
            the first --batch test pairs, the loss that of each pair's last target token </s> under teacher forcing, and
            the norms are the encoder's, over the source steps: how far into the source the end of decoding reaches).
            Example:
              recurrent diagnose --checkpoint runs/adding-rnn/best.safetensors --out runs/adding-rnn/diagnose
            """
        )

        @Option(help: "A checkpoint written by train adding, copy, forecast, charlm, classify, tag or translate.") var checkpoint: String
        @Option(help: "The data (forecast: the series; charlm: a text in the checkpoint's vocabulary; classify: its sentences; tag: its folder; translate: its pairs).")
        var data: String?
        @Option(help: "Sequence length (adding, charlm; default: the trained one, 100 for charlm) or delay (copy) to diagnose at.") var lag: Int?
        @Option(help: "Sequences in the batch.") var batch = 32
        @Option(help: "Seed of the synthetic batch.") var seed: UInt64 = 12345
        @Option(name: .customLong("singular-values"), help: "Singular values to estimate per matrix.") var singularValues = 3
        @Option(help: "Output folder (default: diagnose/ next to the checkpoint).") var out: String?

        func validate() throws {
            guard batch > 0, batch <= 100_000 else { throw ValidationError("--batch must be in 1...100000, got \(batch)") }
            guard singularValues >= 1, singularValues <= 1000 else { throw ValidationError("--singular-values must be in 1...1000, got \(singularValues)") }
            if let lag { guard lag >= 0, lag <= 1_000_000 else { throw ValidationError("--lag must be in 0...1000000, got \(lag)") } }
        }

        func run() throws {
            try reportingErrors {
                let url = URL(fileURLWithPath: checkpoint)
                let task = try Checkpoint.load(from: url).extra["task"] ?? "unknown"
                let report: GradientFlowReport
                switch task {
                case "adding", "copy":
                    guard data == nil else { throw ValidationError("--data is for forecast checkpoints; the \(task) task draws its own sequences") }
                    var model = try MemoryTaskModel.load(from: url)
                    if let lag, lag != model.config.lag {
                        var config = model.config
                        config.lag = lag
                        try config.validate()
                        let resized = MemoryTaskModel(config, seed: 0)
                        try resized.loadParameters(model.stateDict())
                        model = resized
                    }
                    var generator = RandomGenerator(seed: seed)
                    let sample = MemoryTaskBatch(model.task, size: batch, generator: &generator)
                    report = GradientFlow.measure(model: model, singularValueCount: singularValues) { model.lastStepLoss(sample) }
                    print("\(task) \(model.config.cell) \(model.config.layers)×\(model.config.hiddenSize), \(sample.steps) steps, batch \(batch)")
                case "forecast":
                    guard let data else { throw ValidationError("a forecast checkpoint needs --data, the series it was trained on") }
                    guard lag == nil else { throw ValidationError("--lag is for adding and copy checkpoints") }
                    let model = try Forecaster.load(from: url)
                    let series = try TimeSeriesReader.read(path: data, reading: model.config.reading)
                    let dataset = try ForecastDataset(series: series.values, covariates: series.covariates, window: model.config.window, target: model.config.target,
                                                      season: nil, horizon: model.config.steps, path: data)
                    let times = Array(dataset.train.prefix(batch))
                    let (inputs, targets) = dataset.batch(times)
                    let (W, B, C, K) = (dataset.window, times.count, dataset.inputCount, dataset.horizon)
                    report = GradientFlow.measure(model: model, singularValueCount: singularValues) {
                        mseLoss(model.lastStep(Tensor(inputs, shape: [W, B, C])), Tensor(Array(targets[((W - 1) * B * K)...]), shape: [B, K]))   // (B, H)
                    }
                    print("forecast \(model.config.cell) \(model.config.layers)×\(model.config.hiddenSize), window \(W), batch \(B)")
                case "charlm":
                    guard let data else { throw ValidationError("a charlm checkpoint needs --data, a text file in its vocabulary") }
                    let (model, vocabulary) = try LanguageModel.load(from: url)
                    let T = lag ?? 100
                    guard T >= 1 else { throw ValidationError("--lag (the window length for charlm) must be positive") }
                    let corpus = try TextCorpus(path: data, vocabulary: vocabulary, validationFraction: 0, minimumLength: T + 1)
                    // B windows spread evenly over the text, deterministic.
                    let span = corpus.train.count - T - 1
                    let starts = (0..<batch).map { span * $0 / max(batch, 1) }
                    let sample = LanguageModelBatch.windows(from: corpus.train, starts: starts, steps: T)
                    model.eval()
                    report = GradientFlow.measure(model: model, singularValueCount: singularValues) {
                        let logits = model(sample.inputs, steps: T, batch: batch).logits       // (T, B, V)
                        return crossEntropy(logits.slice(axis: 0, (T - 1)..<T).reshaped([batch, model.config.vocabularySize]),
                                            targets: Array(sample.targets[((T - 1) * batch)...]))
                    }
                    print("charlm \(model.config.cell) \(model.config.layers)×\(model.config.hiddenSize), \(T) steps, batch \(batch)")
                case SequenceClassifier.task:
                    guard let data else { throw ValidationError("a classify checkpoint needs --data, the sentences it was trained on") }
                    guard lag == nil else { throw ValidationError("--lag is for adding, copy and charlm checkpoints; a classify batch has its sentences' lengths") }
                    let (model, vocabulary, extra) = try SequenceClassifier.load(from: url)
                    let sentences = try ClassificationTSV.load(path: data, classes: model.config.classes)
                    guard let splitSeed = extra["split_seed"].flatMap({ UInt64($0) }) else {
                        throw ValidationError("the checkpoint records no split seed, so its test split cannot be rebuilt")
                    }
                    let test = try SentenceClassificationData(sentences, classes: model.config.classes, splitSeed: splitSeed, vocabulary: vocabulary).test
                    guard let sample = test.batches(size: batch, paddingId: 0).first else {
                        throw ValidationError("the test split of --data is empty")
                    }
                    model.eval()
                    report = GradientFlow.measure(model: model, singularValueCount: singularValues) { model.loss(sample).loss }
                    print("classify \(model.config.cell) \(model.config.layers)×\(model.config.hiddenSize), pooling \(model.config.pooling), "
                          + "\(sample.steps) steps, batch \(sample.batch)")
                case "tag":
                    guard let data else { throw ValidationError("a tag checkpoint needs --data, the data folder it was trained on") }
                    guard lag == nil else { throw ValidationError("--lag is for adding, copy and charlm checkpoints; a tagging batch has its sentences' lengths") }
                    let (model, vocabularies) = try SequenceTagger.load(from: url)
                    let test = try TaggingDataset.load(folder: data).test
                    guard var sample = TaggingBatch.sequential(test, batch: batch, vocabularies: vocabularies).first else {
                        throw ValidationError("the test split of --data is empty")
                    }
                    // Only each sentence's last tag is a target (and no intent): the loss at the last step, as for the other tasks.
                    let B = sample.batch
                    sample.tags = sample.tags.indices.map { i in i / B == sample.lengths[i % B] - 1 ? sample.tags[i] : TaggingBatch.ignoreIndex }
                    sample.intents = Array(repeating: TaggingBatch.intentIgnoreIndex, count: B)
                    guard sample.tags.contains(where: { $0 != TaggingBatch.ignoreIndex }) else {
                        throw ValidationError("no sentence of the batch ends with a tag the model knows")
                    }
                    model.eval()
                    // The cross-entropy of the tag scores at those steps: the tag loss of a softmax tagger, and for a CRF
                    // tagger the same per-token gradient (a CRF's likelihood has no per-token form to mask).
                    report = GradientFlow.measure(model: model, singularValueCount: singularValues) {
                        let scores = model(sample).tags                                         // (T, B, tags)
                        return crossEntropy(scores.reshaped([sample.steps * B, model.config.tagCount]), targets: sample.tags,
                                            ignoreIndex: TaggingBatch.ignoreIndex)
                    }
                    print("tag \(model.config.cell) \(model.config.layers)×\(model.config.hiddenSize), \(sample.steps) steps, batch \(B)")
                case "translate":
                    guard lag == nil else { throw ValidationError("--lag is for adding, copy and charlm checkpoints; a translation batch has its pairs' lengths") }
                    let (model, vocabularies, extra) = try Seq2Seq<Float>.load(from: url)
                    let test = try TranslationData(description: extra, data: data).corpus.test
                    guard !test.isEmpty else { throw ValidationError("the test split is empty") }
                    let sample = Seq2SeqBatch(test, indices: Array(0..<min(batch, test.count)), vocabularies: vocabularies)
                    let (B, V) = (sample.batch, model.decoder.vocabularySize)
                    // Only each pair's last target (</s>) counts: the loss at the last decoder step.
                    let targets = sample.targetOutput.indices.map { i in i / B == sample.targetLengths[i % B] - 1 ? sample.targetOutput[i] : 0 }
                    model.eval()
                    var unused = RandomGenerator(seed: 0)                  // teacher forcing 1 draws nothing
                    report = GradientFlow.measure(model: model, singularValueCount: singularValues) {
                        let logits = model.logits(sample, teacherForcing: 1, generator: &unused)
                        return crossEntropy(logits.reshaped([sample.targetSteps * B, V]), targets: targets, ignoreIndex: 0)
                    }
                    print("translate \(model.config.cell) \(model.config.layers)×\(model.config.hiddenSize), attention \(model.config.attention), "
                          + "\(sample.sourceSteps) source steps, batch \(B)")
                default:
                    throw ValidationError("diagnose reads adding, copy, forecast, charlm, classify, tag and translate checkpoints; this one is for task '\(task)'")
                }
                let folder = out.map { URL(fileURLWithPath: $0) } ?? url.deletingLastPathComponent().appendingPathComponent("diagnose")
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                try atomicWrite(Data(report.stateGradientsCSV.utf8), to: folder.appendingPathComponent("gradient_norms.csv"))
                try atomicWrite(Data(report.parameterGradientsCSV.utf8), to: folder.appendingPathComponent("parameter_gradients.csv"))
                try atomicWrite(Data(report.singularValuesCSV.utf8), to: folder.appendingPathComponent("singular_values.csv"))
                try atomicWrite(Data(report.chart(title: "‖∂L/∂h_t‖, loss at the last step (\(url.lastPathComponent))").svg().utf8),
                                to: folder.appendingPathComponent("gradient_norms.svg"))
                print(summary(report))
                if let clipping = try ClippingHistory.read(folder: url.deletingLastPathComponent()) {
                    print(String(format: "clipping fired in %d of %d updates (%.1f %%) during training", clipping.clippedSteps, clipping.totalSteps,
                                 100 * clipping.fraction))
                } else {
                    print("clipping: not recorded in this run's metrics.csv")
                }
                print("wrote gradient_norms.csv, gradient_norms.svg, singular_values.csv and parameter_gradients.csv to \(folder.path)")
            }
        }

        func summary(_ report: GradientFlowReport) -> String {
            var lines = [String(format: "loss %.6g; global gradient norm %.4g", report.loss, report.totalGradientNorm)]
            for state in report.states {
                let distances = [1, 10, 50, 100, 200, report.steps - 1].filter { $0 > 0 && $0 < report.steps }
                let ratios = Array(Set(distances)).sorted().map { d in
                    "d=\(d): " + (report.decay(state, distance: d).map { String(format: "%.3g", $0) } ?? "–")
                }
                lines.append("\(state.name): ‖∂L/∂h_T‖ = \(String(format: "%.4g", state.norms.last ?? 0)); relative to it at distance " + ratios.joined(separator: ", "))
            }
            for s in report.singularValues where !s.name.contains("[") {
                lines.append("σ(\(s.name)) = " + s.values.map { String(format: "%.4g", $0) }.joined(separator: ", "))
            }
            return lines.joined(separator: "\n")
        }
    }
}
