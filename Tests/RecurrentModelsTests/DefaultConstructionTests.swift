import RecurrentModels
import RecurrentNN
import RecurrentTensor
import XCTest

/// The encoder and the decoder build without a generator: `seed:` alone gives what `Seq2Seq(config, seed:)`
/// builds from the same seed (one generator drawn by the encoder, then by the decoder).
final class DefaultConstructionTests: XCTestCase {
    func testEncoderAndDecoderWithoutAGenerator() {
        for cell in CellKind.allCases {
            var generator = RandomGenerator(seed: 4)
            let shared = Encoder<Float>(cell: cell, vocabularySize: 9, embeddingSize: 3, hiddenSize: 4, layers: 2, bidirectional: true,
                                        dropout: 0.1, seed: 4, generator: &generator)
            let own = Encoder<Float>(cell: cell, vocabularySize: 9, embeddingSize: 3, hiddenSize: 4, layers: 2, bidirectional: true,
                                     dropout: 0.1, seed: 4)
            XCTAssertEqual(own.namedParameters().map(\.name), shared.namedParameters().map(\.name), "\(cell)")
            XCTAssertEqual(own.parameters().map(\.scalars), shared.parameters().map(\.scalars), "\(cell)")

            generator = RandomGenerator(seed: 5)
            let decoder = Decoder<Float>(cell: cell, vocabularySize: 7, embeddingSize: 3, hiddenSize: 4, layers: 1, attention: .bahdanau,
                                         attentionSize: 5, dropout: 0, seed: 5, generator: &generator)
            let plain = Decoder<Float>(cell: cell, vocabularySize: 7, embeddingSize: 3, hiddenSize: 4, attention: .bahdanau,
                                       attentionSize: 5, seed: 5)
            XCTAssertEqual(plain.parameters().map(\.scalars), decoder.parameters().map(\.scalars), "\(cell)")
            XCTAssertEqual(plain.vocabularySize, 7)
        }
    }
}
