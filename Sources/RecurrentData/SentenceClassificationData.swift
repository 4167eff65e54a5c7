/// A sentence classification data set ready for training: read, split (seeded 80/10/10, see
/// `DataSplit`), tokenized with `WordTokenizer`, and encoded with a word vocabulary built from the
/// training split only (`<pad>` = 0, `<unk>` = 1, words seen at least `minCount` times).
public struct SentenceClassificationData: Sendable {
    /// The word vocabulary, built from the training split.
    public let vocabulary: Vocabulary
    /// Number of classes.
    public let classes: Int
    /// The seed of the split, stored so that evaluation finds the same test sentences.
    public let splitSeed: UInt64
    /// The sentences of each split, as read.
    public let sentences: DataSplit<LabelledSentence>
    /// The training sentences, encoded.
    public let train: EncodedSentences
    /// The validation sentences, encoded.
    public let validation: EncodedSentences
    /// The test sentences, encoded.
    public let test: EncodedSentences

    /// - Parameters:
    ///   - vocabulary: encode with this one (e.g. a checkpoint's) instead of building it from the training split.
    public init(_ all: [LabelledSentence], classes: Int = 2, splitSeed: UInt64 = 1, minCount: Int = 2, vocabulary: Vocabulary? = nil,
                tokenizer: WordTokenizer = WordTokenizer()) throws {
        let split = DataSplit(all, seed: splitSeed)
        let vocab = try vocabulary ?? Vocabulary.words(of: split.train.map(\.text), minCount: minCount, tokenizer: tokenizer)
        self.vocabulary = vocab
        self.classes = classes
        self.splitSeed = splitSeed
        sentences = split
        train = try EncodedSentences(split.train, vocabulary: vocab, tokenizer: tokenizer)
        validation = try EncodedSentences(split.validation, vocabulary: vocab, tokenizer: tokenizer)
        test = try EncodedSentences(split.test, vocabulary: vocab, tokenizer: tokenizer)
    }

    /// Reads a `sentence<TAB>label` file or a folder of `*_labelled.txt` files (see `ClassificationTSV.load`).
    public init(path: String, classes: Int = 2, splitSeed: UInt64 = 1, minCount: Int = 2, vocabulary: Vocabulary? = nil) throws {
        try self.init(try ClassificationTSV.load(path: path, classes: classes), classes: classes, splitSeed: splitSeed,
                      minCount: minCount, vocabulary: vocabulary)
    }
}
