import ArgumentParser
import Foundation
import Recurrent

extension RecurrentCommand.Train {
    /// `recurrent train tag`: many-to-many aligned sequence labelling (slot filling with a joint intent head, NER).
    struct Tag: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "tag",
            abstract: "Train a bidirectional LSTM (or GRU, RNN) sequence tagger (slot filling + intent, or NER).",
            discussion: """
            --data is a folder in one of two formats, detected from its contents; the data set is named after the folder:
              SNIPS/ATIS: train/, valid/ (or dev/), test/ sub-folders, each with seq.in (tokens), seq.out (tags), label (intent);
                          a joint intent head is trained from the final states of both directions (--intent-pooling).
              CoNLL:      files named *train*, *dev* (or *valid*, or CoNLL-2003's eng.testa) and *test* (eng.testb): one token per
                          line in whitespace-separated columns, the token first and the tag last (token<TAB>tag as WNUT-17,
                          `token POS chunk NER` as CoNLL-2003), blank lines between sentences, -DOCSTART- lines skipped.
            Tags in IOB1, IOB2, BIOES, BILOU or without prefixes (PER, LOC, O) are detected and converted to IOB2; tags that mix
            encodings are refused. A multi-intent label a#b counts a guess of a#b, a or b as right.
            Reports conlleval entity precision/recall/F1 (and intent accuracy) on the validation split after each epoch and on
            the test split with the best model. Writes config.json, options.json, vocabulary.json, metrics.csv, test.json,
            best.safetensors and last.safetensors into --out. Defaults: lowercased words with a casing embedding (8) and a
            character BiLSTM (30 units per direction), dropout 0.5, words seen once replaced by <unk> with probability 0.5 in training, a CRF
            output layer, up to 30 epochs with early stopping after 5 without a better validation score (--patience), the
            rate halved after every 2 (--lr-schedule plateau), batch 32, lr 0.002, clip-norm 5. At the end, a bias against the O
            tag (subtracted from its score before decoding; more entities named) is chosen on the validation split with the best
            weights and stored in best.safetensors (--o-bias fixes it instead).
            Example:
              recurrent train tag --data Examples/data/snips --out runs/snips
              recurrent train tag --data Examples/data/wnut17 --train-on-dev 0.5 --out runs/wnut17
            """
        )

        @Option(help: "Data folder (SNIPS folder format or CoNLL files).") var data: String
        @Option(help: "Recurrent cell of the bidirectional layer: lstm, gru, rnn (tanh) or jordan.") var cell = CellKind.lstm
        @Option(help: "Hidden units per direction.") var hidden = 128
        @Option(help: "Stacked bidirectional layers.") var layers = 1
        @Option(help: "Word embedding size.") var embedding = 100
        @Option(help: "Dropout on embeddings, between layers and before the heads (train mode).") var dropout = 0.5
        @Option(name: .customLong("word-dropout"), help: "Probability of replacing a training word seen once with <unk> (Lample et al.: 0.5).") var wordDropout = 0.5
        @Option(name: .customLong("min-count"), help: "Words seen fewer times in training become <unk>.") var minCount = 1
        @Option(name: .customLong("train-on-dev"),
                help: "Fraction of the validation sentences (spread evenly) moved into training, the rest validating: for data whose training split comes from another domain than dev and test (WNUT-17: 0.5).")
        var trainOnDev = 0.0
        @Flag(inversion: .prefixedNo, help: "A linear-chain CRF output layer (Viterbi decoding under IOB2 constraints) instead of a per-token softmax.")
        var crf = true
        @Flag(inversion: .prefixedNo, help: "Look words up lowercased (the word vocabulary holds lowercased words; characters and casing keep the case).")
        var lowercase = true
        @Option(name: .customLong("char-features"), help: "Character-level word features: lstm (BiLSTM, Lample et al.), cnn (Ma & Hovy) or none.")
        var charFeatures = CharacterFeatures.lstm
        @Option(name: .customLong("char-embedding"), help: "Character embedding size.") var charEmbedding = 30
        @Option(name: .customLong("char-hidden"), help: "Hidden units per direction of the character BiLSTM, or filters of the character CNN.")
        var charHidden = 30
        @Option(help: "Size of the word-casing embedding concatenated to each word (0: none).") var casing = 8
        @Option(help: "Pretrained word vectors (word2vec/GloVe/fastText text, or word2vec binary *.bin): they initialise the word embedding, whose size becomes theirs; words of the validation and test splits that have a vector join the vocabulary.")
        var embeddings: String?
        @Flag(name: .customLong("freeze-embeddings"), help: "Keep the (pretrained) word embedding fixed instead of fine-tuning it.")
        var freezeEmbeddings = false
        @Option(name: .customLong("intent-pooling"), help: "What the intent head reads: final (the final states of both directions), max (max-pooling of the outputs over the words, with the final states), attention (attention pooling, with the final states) or votes (each word scores the intents; their log-probabilities are averaged).")
        var intentPooling = IntentPooling.final
        @Option(name: .customLong("o-bias"), help: "Bias subtracted from the O tag's score before decoding, stored with the model (default: chosen on the validation split at the end of training, from -1 to 4 by 0.25; --o-bias 0 turns that off).")
        var outsideBias: Double?
        @OptionGroup var training: TrainingArguments

        func validate() throws {
            guard charEmbedding > 0, charHidden > 0, casing >= 0 else {
                throw ValidationError("--char-embedding and --char-hidden must be positive, --casing not negative")
            }
            guard hidden > 0, layers > 0, embedding > 0, minCount > 0 else {
                throw ValidationError("--hidden, --layers, --embedding, --batch, --epochs and --min-count must be positive")
            }
            guard isDropoutProbability(dropout) else { throw ValidationError("--dropout must be in [0, 1) in single precision, got \(dropout)") }
            guard wordDropout >= 0, wordDropout < 1 else { throw ValidationError("--word-dropout must be in [0, 1), got \(wordDropout)") }
            guard trainOnDev >= 0, trainOnDev < 1 else { throw ValidationError("--train-on-dev must be in [0, 1), got \(trainOnDev)") }
            try validateOutsideBias(outsideBias)
        }

        func run() throws {
            try reportingErrors {
                let options = try training.runOptions("tag", defaults: TaggingTask.defaultOptions,
                                                      settings: TaggingTask.Settings(minCount: minCount, wordDropout: wordDropout,
                                                                                     validationIntoTraining: trainOnDev, outsideBias: outsideBias))
                let saved = try training.savedConfig(SequenceTaggerConfig.self, task: "tag") { _ in }
                let loaded = try TaggingDataset.load(folder: data)
                let dataset = loaded.movingValidationIntoTraining(fraction: options.task.validationIntoTraining)
                guard !dataset.validation.isEmpty else {
                    throw ValidationError("--train-on-dev \(options.task.validationIntoTraining) leaves no validation sentence")
                }
                if dataset.train.count > loaded.train.count {
                    print("training on \(dataset.train.count - loaded.train.count) of the \(loaded.validation.count) validation sentences (--train-on-dev), validating on the rest")
                }
                let vectors = try embeddings.map { try PretrainedVectors(contentsOf: $0, format: VectorFileFormat.guess(forPath: $0)) }
                var config = saved ?? SequenceTaggerConfig(vocabularySize: 0, tagCount: 0, embeddingSize: vectors?.dimension ?? embedding,
                                                           hiddenSize: hidden, layers: layers, dropout: dropout, cell: cell, crf: crf, lowercase: lowercase)
                if saved == nil {
                    (config.characterFeatures, config.characterEmbeddingSize, config.characterHiddenSize) = (charFeatures, charEmbedding, charHidden)
                    (config.casingSize, config.freezeEmbeddings, config.intentPooling) = (casing, freezeEmbeddings, intentPooling)
                }
                var vocabularies = try TaggingVocabularies(training: dataset.train, minCount: options.task.minCount, lowercase: config.lowercase)
                if config.characterFeatures != .none { vocabularies.characters = try TaggingVocabularies.characters(of: dataset.train) }
                if let vectors {
                    // Lample et al.'s practice: words of the other splits that have a vector are not <unk>.
                    var known = Set(vocabularies.words.tokens), added: [String] = []
                    for token in (dataset.validation + dataset.test).lazy.flatMap(\.tokens) {
                        let word = config.lowercase ? token.lowercased() : token
                        if !known.contains(word), vectors.lookup(word) != nil { known.insert(word); added.append(word) }
                    }
                    vocabularies.words = try Vocabulary(tokens: vocabularies.words.tokens + added)
                }
                var sized = config
                (sized.vocabularySize, sized.tagCount, sized.intentCount) = (vocabularies.words.count, vocabularies.tags.count, vocabularies.intents?.count ?? 0)
                sized.alphabetSize = vocabularies.characters?.count ?? 0
                try sized.validate()
                try MemoryEstimate.requireTraining(parameters: sized.minimumParameterCount, for: "a \(sized.layers)×\(sized.hiddenSize) \(sized.cell)")
                let model = SequenceTagger(sized, seed: options.training.seed, tags: vocabularies.tags.tokens)
                if let vectors, !training.resume {
                    let coverage = try vectors.fill(model.embedding.weight, vocabulary: vocabularies.words.tokens, skipping: [0])
                    print("embeddings: \(coverage)")
                }
                print("tag (\(dataset.name): \(dataset.format.rawValue) format, \(dataset.encoding.rawValue.uppercased()) tags): \(dataset.train.count) training, \(dataset.validation.count) validation, \(dataset.test.count) test sentences; "
                      + "\(vocabularies.words.count) words, \(vocabularies.tags.count - 1) tags" + (vocabularies.intents.map { ", \($0.count) intents" } ?? ""))
                print("model: bidirectional \(sized.cell.rawValue.uppercased()) \(sized.layers)×\(sized.hiddenSize), embedding \(sized.embeddingSize)"
                      + (sized.lowercase ? " (lowercased words)" : "") + (sized.freezeEmbeddings ? " (frozen)" : "")
                      + (sized.characterFeatures == .none ? "" : ", character \(sized.characterFeatures.rawValue.uppercased()) \(sized.characterEmbeddingSize)→\(sized.characterHiddenSize)")
                      + (sized.casingSize > 0 ? ", casing \(sized.casingSize)" : "") + (sized.crf ? ", CRF" : ", softmax")
                      + (sized.intentCount > 0 ? ", intent head on \(sized.intentPooling.rawValue) pooling" : "")
                      + ", \(model.parameterCount) parameters; \(describe(options.training))")
                let task = try TaggingTask(model: model, data: dataset, vocabularies: vocabularies, settings: options.task,
                                           evaluationBatch: max(options.training.batch, 64))
                let start = Date()
                let (test, trainer) = try training.train(task, options: options.training, resumeArguments: ["tag", "--data", data])
                if let last = trainer.history.last { print("validation (last epoch): \(last.evaluation.summary)") }
                if trainer.stoppedEarly, let best = trainer.best {
                    print("stopped early after epoch \(trainer.history.last?.epoch ?? 0): \(options.training.patience) epochs without improvement since epoch \(best.epoch)")
                }
                if let search = task.outsideBiasSearch, let zero = search.f1(at: 0), let chosen = search.f1(at: search.bias) {
                    print(String(format: "bias against O chosen on validation: %g (validation F1 %.4f, %.4f without)", search.bias, chosen, zero))
                } else {
                    print(String(format: "bias against O: %g", task.tagger.outsideBias))
                }
                print("test (best model): \(test.summary)")
                print(String(format: "%.0f s. Run folder: %@", Date().timeIntervalSince(start), trainer.folder.url.path))
            }
        }
    }
}

/// `--o-bias` of `train`, `eval` and `predict tag`: a finite number within ±`OutsideBias.limit`.
func validateOutsideBias(_ value: Double?) throws {
    if let value, !(value.isFinite && abs(value) <= OutsideBias.limit) {
        throw ValidationError("--o-bias must be a finite number in -\(Int(OutsideBias.limit))...\(Int(OutsideBias.limit)), got \(value)")
    }
}
