import ArgumentParser
import Foundation
import Recurrent

extension RecurrentCommand.Train {
    /// `recurrent train translate`: an encoder-decoder with attention on sentence pairs or a synthetic task.
    struct Translate: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "translate",
            abstract: "Train a sequence-to-sequence model (encoder-decoder, optionally with attention).",
            discussion: """
            --data is a source<TAB>target file (Tatoeba / manythings.org format; further columns are ignored). Both sides are
            lowercased and punctuation is split off; pairs with more than --max-length tokens on a side are dropped. The pairs are
            split 90/5/5 by distinct source sentence with --split-seed. Instead of --data, --synthetic reverse|sort trains on random
            sequences of --symbols symbols with lengths --min-symbols...--max-symbols.
            Reports validation BLEU (greedy) after each epoch and test BLEU and exact match with the best model (and with beam search
            when --beam > 1). Writes config.json, options.json, vocabulary.json, metrics.csv, loss.svg, test.json, best.safetensors and
            last.safetensors into --out. Defaults: 10 epochs, batch 64, lr 0.002, clip-norm 5.
            Example:
              recurrent train translate --data Examples/data/tatoeba-eng-fra/eng-fra.txt --attention bahdanau --epochs 20 --out runs/fra
              recurrent train translate --synthetic reverse --attention luong-general --epochs 6 --out runs/reverse
            """
        )

        @Option(help: "Sentence pairs: source<TAB>target per line.") var data: String?
        @Option(help: "Synthetic task instead of --data: reverse or sort.") var synthetic: SyntheticTask?
        @Option(name: .customLong("max-length"), help: "Drop pairs with more tokens than this on either side.") var maxLength = 10
        @Option(name: .customLong("max-pairs"), help: "Keep only the first N usable pairs (0: all).") var maxPairs = 0
        @Option(name: .customLong("split-seed"), help: "Seed of the 90/5/5 split (and of the synthetic data).") var splitSeed: UInt64 = 1
        @Option(help: "Synthetic task: number of symbols (2...26).") var symbols = 10
        @Option(name: .customLong("min-symbols"), help: "Synthetic task: shortest sequence.") var minSymbols = 20
        @Option(name: .customLong("max-symbols"), help: "Synthetic task: longest sequence.") var maxSymbols = 40
        @Option(name: .customLong("synthetic-train"), help: "Synthetic task: training pairs.") var syntheticTrain = 10000
        @Option(name: .customLong("synthetic-eval"), help: "Synthetic task: validation and test pairs (each).") var syntheticEval = 500
        @Option(help: "Recurrent cell of the encoder and the decoder: lstm, gru, rnn or jordan.") var cell = CellKind.lstm
        @Option(help: "Hidden units (decoder, and each encoder direction).") var hidden = 128
        @Option(help: "Stacked layers of encoder and decoder.") var layers = 1
        @Option(help: "Embedding size.") var embedding = 64
        @Flag(inversion: .prefixedNo, help: "Bidirectional encoder.") var bidirectional = true
        @Option(help: "Attention: none, bahdanau, luong-dot, luong-general or luong-concat.") var attention = Seq2SeqAttention.bahdanau
        @Option(name: .customLong("attention-size"), help: "Hidden width of additive attention (0: --hidden).") var attentionSize = 0
        @Flag(name: .customLong("input-feeding"), inversion: .prefixedNo,
              help: "Luong attention: feed the previous attentional vector to the decoder's first cell (no effect with other kinds).")
        var inputFeeding = true
        @Option(help: "Dropout on embeddings, between layers and before the output layer.") var dropout = 0.1
        @Option(name: .customLong("min-count"), help: "Words seen fewer times in training become <unk>.") var minCount = 1
        @Option(name: .customLong("teacher-forcing"), help: "Probability of feeding the true previous token (1: always).") var teacherForcing = 1.0
        @Option(name: .customLong("teacher-forcing-end"), help: "Scheduled sampling: the ratio decays linearly from --teacher-forcing to this over training.")
        var teacherForcingEnd: Double?
        @Option(name: .customLong("max-batches"), help: "Stop each epoch after N batches (0: all); for quick checks.") var maxBatches = 0
        @Option(help: "Also score the test split with beam search of this width.") var beam = 1
        @Option(name: .customLong("length-penalty"), help: "GNMT length penalty α of that beam search (0: none).") var lengthPenalty = 0.0
        @OptionGroup var training: TrainingArguments

        /// The checkpoint fields that describe the data (what `TranslationData` reads back).
        static let descriptionKeys: Set<String> = ["synthetic", "symbols", "min_symbols", "max_symbols", "synthetic_train", "synthetic_eval",
                                                   "split_seed", "max_length", "max_pairs", "pairs"]

        func validate() throws {
            guard (data == nil) != (synthetic == nil) || (training.resume && synthetic == nil) else { throw ValidationError("give either --data or --synthetic") }
            guard hidden > 0, layers > 0, embedding > 0, minCount > 0, maxLength > 0, beam > 0, attentionSize >= 0, maxPairs >= 0, maxBatches >= 0 else {
                throw ValidationError("--hidden, --layers, --embedding, --batch, --epochs, --min-count, --max-length and --beam must be positive")
            }
            guard (2...26).contains(symbols), minSymbols >= 1, minSymbols <= maxSymbols, maxSymbols <= TranslationData.longestSyntheticSequence,
                  (1...TranslationData.mostSyntheticPairs).contains(syntheticTrain), (1...TranslationData.mostSyntheticPairs).contains(syntheticEval) else {
                throw ValidationError("--symbols must be in 2...26, --min-symbols in 1...--max-symbols (at most \(TranslationData.longestSyntheticSequence)), and the synthetic sizes in 1...\(TranslationData.mostSyntheticPairs)")
            }
            guard lengthPenalty >= 0, lengthPenalty.isFinite else { throw ValidationError("--length-penalty must not be negative") }
            guard isDropoutProbability(dropout) else { throw ValidationError("--dropout must be in [0, 1) in single precision, got \(dropout)") }
            for (name, value) in [("--teacher-forcing", teacherForcing), ("--teacher-forcing-end", teacherForcingEnd ?? 0)] where !(0...1).contains(value) {
                throw ValidationError("\(name) must be in [0, 1], got \(value)")
            }
        }

        func run() throws {
            try reportingErrors {
                var settings = TranslationTask.Settings()
                settings.teacherForcing = teacherForcing
                settings.teacherForcingEnd = teacherForcingEnd
                settings.minCount = minCount
                var defaults = TranslationTask.defaultOptions
                defaults.schedule = .epochs(10, maxBatchesPerEpoch: maxBatches)
                var options = try training.runOptions("translate", defaults: defaults, settings: settings)
                let folder = training.folder("translate")
                let corpus: ParallelCorpus
                var description: [String: String] = [:]
                let config: Seq2SeqConfig
                if let saved = try training.savedConfig(Seq2SeqConfig.self, task: "translate", validate: { config in
                    try config.validate()
                    try config.requireResumable(from: folder.last)     // before a model of config.json's size is built
                }) {
                    // The saved model and data description, so the continued run is the same run.
                    config = saved
                    let checkpoint = try Checkpoint.load(from: folder.last)
                    guard checkpoint.extra["task"] == "translate" else {
                        throw ModelError.wrongTask(expected: "translate", found: checkpoint.extra["task"] ?? "unknown")
                    }
                    let source = try TranslationData(description: checkpoint.extra, data: data)
                    if let recorded = source.recordedPairs, recorded != source.all.count {
                        throw ValidationError("cannot resume: the run was trained on \(recorded) pairs, --data has \(source.all.count); resume on the same file")
                    }
                    corpus = source.corpus
                    description = checkpoint.extra.filter { Self.descriptionKeys.contains($0.key) }
                } else {
                    if let task = synthetic {
                        corpus = task.corpus(train: syntheticTrain, validation: syntheticEval, test: syntheticEval,
                                             lengths: minSymbols...maxSymbols, symbols: symbols, seed: splitSeed)
                        description = ["synthetic": task.rawValue, "symbols": "\(symbols)", "min_symbols": "\(minSymbols)", "max_symbols": "\(maxSymbols)",
                                       "synthetic_train": "\(syntheticTrain)", "synthetic_eval": "\(syntheticEval)", "split_seed": "\(splitSeed)"]
                    } else {
                        let pairs = try ParallelCorpus.readPairs(path: data!, maxLength: maxLength, maxPairs: maxPairs)
                        corpus = ParallelCorpus(splitting: pairs, seed: splitSeed)
                        description = ["max_length": "\(maxLength)", "max_pairs": "\(maxPairs)", "split_seed": "\(splitSeed)", "pairs": "\(pairs.count)"]
                    }
                    guard !corpus.train.isEmpty, !corpus.validation.isEmpty, !corpus.test.isEmpty else {
                        throw ValidationError("too few pairs for a 90/5/5 split: \(corpus.train.count) training, \(corpus.validation.count) validation, \(corpus.test.count) test")
                    }
                    let longest = (corpus.train + corpus.validation + corpus.test).map(\.target.count).max() ?? maxLength
                    options.task.maxDecodeLength = 2 * longest + 5
                    let vocabularies = try Seq2SeqVocabularies(training: corpus.train, minCount: minCount)
                    config = Seq2SeqConfig(sourceVocabularySize: vocabularies.source.count, targetVocabularySize: vocabularies.target.count,
                                           embeddingSize: embedding, hiddenSize: hidden, layers: layers, cell: cell, bidirectional: bidirectional,
                                           attention: attention, attentionSize: attentionSize, dropout: dropout,
                                           inputFeeding: inputFeeding && attention.isLuong)
                }
                let vocabularies = try Seq2SeqVocabularies(training: corpus.train, minCount: options.task.minCount)
                try config.validate()
                try MemoryEstimate.requireTraining(parameters: config.minimumParameterCount, for: "a \(config.layers)×\(config.hiddenSize) \(config.cell) encoder–decoder")
                let model = Seq2Seq<Float>(config, seed: options.training.seed)
                print("translate: \(corpus.train.count) training, \(corpus.validation.count) validation, \(corpus.test.count) test pairs; "
                      + "\(vocabularies.source.count) source and \(vocabularies.target.count) target tokens")
                print("model: \(config.bidirectional ? "bidirectional " : "")\(config.cell) \(config.layers)×\(config.hiddenSize), attention \(config.attention)"
                      + "\(config.inputFeeding ? " with input feeding" : ""), embedding \(config.embeddingSize), "
                      + "\(model.parameterCount) parameters; \(describe(options.training))")
                let task = try TranslationTask(model: model, data: corpus, vocabularies: vocabularies, settings: options.task, dataDescription: description)
                let start = Date()
                let (test, trainer) = try training.train(task, options: options.training, resumeArguments: ["translate"] + (data.map { ["--data", $0] } ?? []))
                let trainSeconds = Date().timeIntervalSince(start)
                if let last = trainer.history.last { print("validation (last epoch): \(last.evaluation.summary)") }
                print("test (best model, greedy): \(test.summary)")
                print("  \(test.bleu)")
                if beam > 1 {
                    let beamStart = Date()
                    let scored = TranslationEvaluation.evaluate(model, corpus.test, vocabularies: vocabularies, beam: beam, lengthPenalty: lengthPenalty,
                                                                maxLength: options.task.maxDecodeLength)
                    print(String(format: "test (best model, beam %d, length penalty %.2f): %@ (%.0f s)", beam, lengthPenalty, scored.summary, Date().timeIntervalSince(beamStart)))
                    print("  \(scored.bleu)")
                }
                print(String(format: "%.0f s training. Run folder: %@", trainSeconds, trainer.folder.url.path))
            }
        }
    }
}
