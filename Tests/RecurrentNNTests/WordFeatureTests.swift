import XCTest
@testable import RecurrentNN
import RecurrentTensor

final class WordFeatureTests: XCTestCase {
    let words: [[Int]] = [[3, 1, 4, 1, 5], [2], [6, 5], [7, 7, 1, 2]]

    func testCharacterBatchIsTimeMajorAndPadded() {
        let batch = CharacterBatch([[3, 1], [2], [4, 5, 6]])
        XCTAssertEqual(batch.steps, 3)
        XCTAssertEqual(batch.lengths, [2, 1, 3])
        XCTAssertEqual(batch.ids, [3, 2, 4, 1, 0, 5, 0, 0, 6])
    }

    func testCNNMatchesADirectConvolution() {
        var rng = RandomGenerator(seed: 2)
        let cnn = CharacterCNNEncoder<Double>(alphabetSize: 8, embeddingSize: 3, filters: 4, generator: &rng)
        let out = cnn(CharacterBatch(words))
        XCTAssertEqual(out.shape, [4, 4])
        let (E, F) = (3, 4)
        for (n, word) in words.enumerated() {
            // Conv1d(E, F, 3, padding=1) over the word alone, then the maximum over its positions.
            func x(_ c: Int, _ e: Int) -> Double { c < 0 || c >= word.count ? 0 : cnn.embedding.weight[word[c], e] }
            for f in 0..<F {
                var best = -Double.infinity
                for c in 0..<word.count {
                    var s = cnn.bias[f]
                    for e in 0..<E { for k in 0..<3 { s += cnn.weight[f, e, k] * x(c + k - 1, e) } }
                    best = max(best, s)
                }
                XCTAssertEqual(out[n, f], best, accuracy: 1e-12, "word \(n) filter \(f)")
            }
        }
    }

    func testGradientsByFiniteDifferences() {
        var rng = RandomGenerator(seed: 3)
        let cnn = CharacterCNNEncoder<Double>(alphabetSize: 8, embeddingSize: 3, filters: 4, dropout: 0.5, generator: &rng)
        cnn.eval()   // a fresh dropout mask per call would not be a function
        let batch = CharacterBatch(words)
        // The padding row is held at zero, as training keeps it (it gets no gradient, yet the padded positions read it).
        let r = gradientCheck(cnn.parameters()) { _ in
            withoutGrad { cnn.embedding.weight.data.update(repeating: 0, count: 3) }
            return cnn(batch)
        }
        XCTAssertLessThan(r.maxError, 1e-7, "CNN \(r)")

        let lstm = CharacterLSTMEncoder<Double>(alphabetSize: 8, embeddingSize: 3, hiddenSize: 2, generator: &rng)
        let s = gradientCheck(lstm.parameters()) { _ in lstm(batch) }
        XCTAssertLessThan(s.maxError, 1e-7, "BiLSTM \(s)")

        let casing = CasingEmbedding<Double>(dimension: 2, generator: &rng)
        let c = gradientCheck(casing.parameters()) { _ in casing([.allUpper, .other, .numeric, .allUpper], shape: [2, 2]) }
        XCTAssertLessThan(c.maxError, 1e-7, "casing \(c)")
        print("word feature gradient checks: character CNN \(r.maxError), character BiLSTM \(s.maxError), casing embedding \(c.maxError)")
    }

    func testPaddingDoesNotChangeAWordsFeatures() {
        var rng = RandomGenerator(seed: 4)
        let cnn = CharacterCNNEncoder<Double>(alphabetSize: 8, embeddingSize: 3, filters: 5, generator: &rng)
        let lstm = CharacterLSTMEncoder<Double>(alphabetSize: 8, embeddingSize: 3, hiddenSize: 3, generator: &rng)
        // Large embedding values make a padded position win any maximum it took part in.
        for p in [cnn.embedding.weight, lstm.embedding.weight] { p.withMutableData { d in for i in d.indices.dropFirst(3) { d[i] *= 10 } } }
        for encoder in [{ cnn($0) }, { lstm($0) }] as [(CharacterBatch) -> Tensor<Double>] {
            let together = encoder(CharacterBatch(words))
            XCTAssertEqual(together.shape[0], words.count)
            for (n, word) in words.enumerated() {
                let alone = encoder(CharacterBatch([word]))
                let width = alone.shape[1]
                for f in 0..<width { XCTAssertEqual(together[n, f], alone[0, f], accuracy: 1e-12, "word \(n) feature \(f)") }
            }
        }
        XCTAssertEqual(CharacterLSTMEncoder<Float>(alphabetSize: 5, embeddingSize: 2, hiddenSize: 3).outputSize, 6)
    }

    func testCasingCategories() {
        let cases: [(String, WordCasing)] = [
            ("1996", .numeric), ("10.5", .mainlyNumeric), ("1-0", .mainlyNumeric), ("paris", .allLower), ("e-mail", .allLower),
            ("win32", .allLower), ("EU", .allUpper), ("U.S.", .allUpper), ("A4", .allUpper), ("Paris", .initialUpper),
            ("McDonald", .initialUpper), ("#1", .containsDigit), ("iPhone5", .containsDigit), ("iPhone", .mixedCase),
            ("-", .other), ("東京", .other), ("", .other), ("Émile", .initialUpper), ("straße", .allLower),
        ]
        for (word, casing) in cases { XCTAssertEqual(WordCasing(of: word), casing, word) }
        XCTAssertEqual(WordCasing.allCases.count, 9)
        let embedding = CasingEmbedding<Float>(dimension: 4, seed: 1)
        XCTAssertEqual(embedding([.padding, .allLower], shape: [2]).shape, [2, 4])
        XCTAssertEqual(Array(embedding([.padding], shape: [1]).scalars), [0, 0, 0, 0])
    }

    func testFrozenEmbeddingReceivesNoGradientAndStaysPut() {
        let embedding = Embedding<Float>(vocabularySize: 5, dimension: 3, seed: 1)
        let head = Linear<Float>(inputSize: 3, outputSize: 2, seed: 2)
        XCTAssertTrue(embedding.isTrainable)
        embedding.isTrainable = false
        let before = embedding.weight.scalars
        let optimizer = Adam(parameters: embedding.parameters() + head.parameters(), learningRate: 0.1)
        for _ in 0..<3 {
            optimizer.zeroGrad()
            head(embedding([1, 2, 4], shape: [3])).square().sum().backward()
            optimizer.step()
        }
        XCTAssertEqual(embedding.weight.scalars, before)
        XCTAssertNotNil(head.weight.grad)
        embedding.isTrainable = true
        head(embedding([1], shape: [1])).sum().backward()
        XCTAssertNotEqual(embedding.weight.grad?.scalars ?? [], [Float](repeating: 0, count: 15), "trainable again: gradients flow")
    }
}
