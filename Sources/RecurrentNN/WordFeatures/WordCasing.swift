import RecurrentTensor

/// A word's casing as a small category (Reimers & Gurevych 2017, with `mixedCase` added), whose
/// embedding is concatenated to the word embedding so that lowercased word vectors keep the case signal.
public enum WordCasing: Int, CaseIterable, Codable, Sendable {
    /// Padding (id 0), so a casing embedding can share the words' padding convention.
    case padding = 0
    /// Only digits: "1996".
    case numeric
    /// More than half digits: "10.5", "1-0".
    case mainlyNumeric
    /// Every cased letter lowercase (and at least one): "paris", "e-mail".
    case allLower
    /// Every cased letter uppercase (and at least one): "EU", "U.S.".
    case allUpper
    /// First character uppercase, the rest not all-upper: "Paris".
    case initialUpper
    /// Some digit, not mainly digits, and none of the cases above: "#1", "iPhone5" ("A4" is `allUpper`, "win32" `allLower`).
    case containsDigit
    /// Upper and lower letters, the first not uppercase: "iPhone".
    case mixedCase
    /// Anything else: punctuation, scripts without case ("-", "東京").
    case other

    /// The casing of `word`, tested in the order of the cases above (after `padding`).
    public init(of word: String) {
        let characters = Array(word)
        let digits = characters.count { $0.isNumber && $0.isASCII }
        let upper = characters.count { $0.isUppercase }, lower = characters.count { $0.isLowercase }
        if !characters.isEmpty, digits == characters.count { self = .numeric }
        else if 2 * digits > characters.count { self = .mainlyNumeric }
        else if lower > 0, upper == 0 { self = .allLower }
        else if upper > 0, lower == 0 { self = .allUpper }
        else if characters.first?.isUppercase == true { self = .initialUpper }
        else if digits > 0 { self = .containsDigit }
        else if upper > 0, lower > 0 { self = .mixedCase }
        else { self = .other }
    }
}

/// A learned vector per `WordCasing` category: `embedding.weight` (9, D), row 0 (padding) zero.
public final class CasingEmbedding<Scalar: TensorScalar>: Module<Scalar> {
    /// The table (9, D).
    public let embedding: Embedding<Scalar>
    /// Features D per word.
    public var outputSize: Int { embedding.dimension }

    /// - Parameters:
    ///   - dimension: features D per word (small: Reimers & Gurevych use the one-hot size, a few suffice).
    ///   - generator: source of the N(0, 1) initial values.
    public init(dimension: Int, generator: inout RandomGenerator) {
        embedding = Embedding(vocabularySize: WordCasing.allCases.count, dimension: dimension, paddingIndex: WordCasing.padding.rawValue, generator: &generator)
        super.init()
        registerModule("embedding", embedding)
    }

    /// The same, from a generator seeded with `seed`.
    public convenience init(dimension: Int, seed: UInt64 = 0) {
        var generator = RandomGenerator(seed: seed)
        self.init(dimension: dimension, generator: &generator)
    }

    /// - Parameters:
    ///   - casings: casing categories in row-major order of `shape`.
    ///   - shape: e.g. (T, B) like the word ids.
    /// - Returns: (shape…, D)
    public func callAsFunction(_ casings: [WordCasing], shape: [Int]) -> Tensor<Scalar> {
        embedding(casings.map(\.rawValue), shape: shape)
    }
}
