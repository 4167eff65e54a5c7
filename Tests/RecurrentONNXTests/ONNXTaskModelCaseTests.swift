import Foundation
import RecurrentData
import RecurrentModels
import RecurrentNN
import RecurrentONNX
import RecurrentTensor
import XCTest

/// Every task model exported, in the configurations that change its graph (cells, directions, layers, poolings,
/// strategies, attention kinds), with Recurrent's outputs written as cases for Scripts/check_onnx.py.
/// Models are small and random (seeded); inputs have ragged lengths where the model takes lengths.
final class ONNXTaskModelCaseTests: XCTestCase {
    var writer: ONNXCaseWriter!
    var generator = RandomGenerator(seed: 2121)

    override func setUpWithError() throws { writer = try ONNXCaseWriter() }
    override func tearDown() { writer.finish() }

    /// B sequences of ids in 1..<V with `lengths`, padded with 0: the ids (T, B) row-major.
    func paddedIds(lengths: [Int], vocabulary V: Int) -> (sequences: [[Int]], ids: [Int], steps: Int) {
        let T = lengths.max()!, B = lengths.count
        let sequences = lengths.map { n in (0..<n).map { _ in 1 + generator.nextInt(below: V - 1) } }
        var ids = [Int](repeating: 0, count: T * B)
        for (b, s) in sequences.enumerated() { for (t, id) in s.enumerated() { ids[t * B + b] = id } }
        return (sequences, ids, T)
    }

    func testLanguageModels() throws {
        for cell in [CellKind.lstm, .gru, .rnn] {
            let model = LanguageModel(LanguageModelConfig(vocabularySize: 11, embeddingSize: 5, hiddenSize: 7, layers: 2, cell: cell), seed: 3)
            model.eval()
            let (T, B, L, H) = (4, 2, 2, 7)
            let ids = (0..<(T * B)).map { _ in generator.nextInt(below: 11) }
            let h0 = Tensor<Float>.normal([L, B, H], std: 0.5, generator: &generator), c0 = Tensor<Float>.normal([L, B, H], std: 0.5, generator: &generator)
            let state: RecurrentState<Float> = cell == .lstm ? .lstm(LSTMState(h: h0, c: c0)) : .hidden(h0)
            let (logits, final) = withoutGrad { model(ids, steps: T, batch: B, state: state) }
            var inputs = ["ids": NumpyValue(ints: ids, shape: [T, B]), "h0": NumpyValue(h0)]
            var outputs = ["logits": NumpyValue(logits), "h": NumpyValue(final.h)]
            if cell == .lstm {
                inputs["c0"] = NumpyValue(c0)
                outputs["c"] = NumpyValue(final.lstmState!.c)
            }
            try writer.write("task_charlm_\(cell)", model: model.onnxModel(), inputs: inputs, outputs: outputs)
        }
    }

    func testClassifiers() throws {
        let configurations: [(CellKind, Bool, Int, Pooling)] = [
            (.lstm, true, 1, .max), (.lstm, true, 2, .final), (.gru, true, 1, .mean), (.rnn, false, 2, .attention),
            (.gru, false, 1, .final), (.lstm, false, 1, .attention),
        ]
        for (cell, bidirectional, layers, pooling) in configurations {
            let config = SequenceClassifierConfig(vocabularySize: 13, embeddingSize: 5, hiddenSize: 6, layers: layers, cell: cell,
                                                  bidirectional: bidirectional, dropout: 0.3, classes: 3, pooling: pooling)
            let model = SequenceClassifier(config, seed: 5)
            model.eval()
            let (sequences, ids, T) = paddedIds(lengths: [3, 6, 1, 4], vocabulary: 13)
            let batch = ClassificationBatch(sequences: sequences, paddingId: 0)
            let logits = withoutGrad { model(batch) }
            try writer.write("task_classify_\(cell)_\(bidirectional ? "bidir" : "uni")_\(layers)layers_\(pooling)", model: model.onnxModel(),
                             inputs: ["ids": NumpyValue(ints: ids, shape: [T, 4]), "lengths": NumpyValue(ints: batch.lengths, shape: [4])],
                             outputs: ["logits": NumpyValue(logits)])
        }
    }

    func testSeriesClassifier() throws {
        let F = 3
        let config = SequenceClassifierConfig.series(features: F, scaler: FeatureScaler(mean: [0, 1, 2], std: [1, 2, 3]), classNames: ["a", "b", "c"],
                                                     hiddenSize: 5, layers: 1, cell: .gru, bidirectional: true, pooling: .mean)
        let model = SequenceClassifier(config, seed: 9)
        model.eval()
        let lengths = [2, 5, 3]
        let sequences = lengths.map { n in (0..<(n * F)).map { _ in generator.nextNormal(Float.self) } }
        let batch = SeriesBatch(sequences: sequences, features: F)
        let logits = withoutGrad { model(batch) }
        try writer.write("task_classify_series_gru_bidir_mean", model: model.onnxModel(),
                         inputs: ["features": .float(batch.values, shape: [batch.steps, batch.batch, F]),
                                  "lengths": NumpyValue(ints: batch.lengths, shape: [batch.batch])],
                         outputs: ["logits": NumpyValue(logits)])
    }

    func testTaggers() throws {
        for (cell, layers, intents) in [(CellKind.lstm, 1, 4), (.gru, 2, 0), (.rnn, 1, 3)] {
            let config = SequenceTaggerConfig(vocabularySize: 15, tagCount: 5, intentCount: intents, embeddingSize: 6, hiddenSize: 4, layers: layers,
                                              dropout: 0.3, cell: cell)
            let model = SequenceTagger(config, seed: 7)
            model.eval()
            let lengths = [4, 1, 6]
            let (_, ids, T) = paddedIds(lengths: lengths, vocabulary: 15)
            let (tags, intentLogits) = withoutGrad { model(ids, steps: T, batch: 3, lengths: lengths) }
            var outputs = ["tag_logits": NumpyValue(tags)]
            if let intentLogits { outputs["intent_logits"] = NumpyValue(intentLogits) }
            try writer.write("task_tag_\(cell)_\(layers)layers\(intents > 0 ? "_intents" : "")", model: model.onnxModel(),
                             inputs: ["ids": NumpyValue(ints: ids, shape: [T, 3]), "lengths": NumpyValue(ints: lengths, shape: [3])],
                             outputs: outputs)
        }
    }

    func testForecasters() throws {
        for (cell, layers, strategy, horizon) in [(CellKind.lstm, 1, ForecastStrategy.direct, 1), (.gru, 2, .direct, 3),
                                                  (.lstm, 2, .encoderDecoder, 4), (.rnn, 1, .encoderDecoder, 2)] {
            let config = ForecasterConfig(cell: cell, hiddenSize: 6, layers: layers, window: 7, covariates: ["x"],
                                          covariateScalers: [ZScore(mean: 1, std: 2)], horizon: horizon, strategy: strategy)
            let model = Forecaster(config, seed: 11)
            model.eval()
            let window = Tensor<Float>.normal([7, 3, 2], generator: &generator)
            let forecast = withoutGrad { model.lastStep(window) }
            try writer.write("task_forecast_\(cell)_\(layers)layers_\(strategy.rawValue)_h\(horizon)", model: model.onnxModel(),
                             inputs: ["window": NumpyValue(window)], outputs: ["forecast": NumpyValue(forecast)])
        }
    }

    func testTranslationEncoderAndDecoderStep() throws {
        let configurations: [(CellKind, Bool, Int, Seq2SeqAttention, Bool)] = [
            (.lstm, true, 1, .bahdanau, false), (.gru, false, 2, .none, false), (.lstm, false, 2, .luongDot, true),
            (.gru, true, 1, .luongGeneral, false), (.rnn, true, 2, .luongConcat, true), (.lstm, true, 2, .luongConcat, false),
        ]
        for (cell, bidirectional, layers, attention, inputFeeding) in configurations {
            let config = Seq2SeqConfig(sourceVocabularySize: 12, targetVocabularySize: 10, embeddingSize: 5, hiddenSize: 6, layers: layers, cell: cell,
                                       bidirectional: bidirectional, attention: attention, attentionSize: 4, dropout: 0.2, inputFeeding: inputFeeding)
            let model = Seq2Seq<Float>(config, seed: 13)
            model.eval()
            let lengths = [3, 5, 2]
            let (_, ids, S) = paddedIds(lengths: lengths, vocabulary: 12)
            let name = "task_translate_\(cell)_\(bidirectional ? "bidir" : "uni")_\(layers)layers_\(attention.rawValue)\(inputFeeding ? "_feeding" : "")"

            let (keys, initial) = withoutGrad { model.encoder(ids, steps: S, batch: 3, lengths: lengths) }
            func stacked(_ tensors: [Tensor<Float>]) -> Tensor<Float> { withoutGrad { Tensor.stack(tensors, axis: 0) } }
            var encoderOutputs = ["keys": NumpyValue(keys), "h": NumpyValue(stacked(initial.h))]
            if cell == .lstm { encoderOutputs["c"] = NumpyValue(stacked(initial.layers.map { $0.lstmState!.c })) }
            try writer.write(name + "_encoder", model: model.onnxEncoder(),
                             inputs: ["source_ids": NumpyValue(ints: ids, shape: [S, 3]), "source_lengths": NumpyValue(ints: lengths, shape: [3])],
                             outputs: encoderOutputs)

            // A step from a state other than the encoder's, so that every input matters.
            var state = initial
            state.layers = state.layers.map { layer in
                layer.map { t in withoutGrad { t + Tensor<Float>.normal(t.shape, std: 0.3, generator: &generator) } }
            }
            if inputFeeding { state.attentional = .normal([3, 6], std: 0.5, generator: &generator) }
            let tokens = [2, 7, 4]
            let memory = model.decoder.attention?.memory(keys: keys, lengths: lengths)
            let (logits, next, weights) = withoutGrad { model.decoder.step(tokens, state: state, memory: memory) }
            var inputs = ["tokens": NumpyValue(ints: tokens, shape: [3]), "h": NumpyValue(stacked(state.h))]
            var outputs = ["logits": NumpyValue(logits), "next_h": NumpyValue(stacked(next.h))]
            if cell == .lstm {
                inputs["c"] = NumpyValue(stacked(state.layers.map { $0.lstmState!.c }))
                outputs["next_c"] = NumpyValue(stacked(next.layers.map { $0.lstmState!.c }))
            }
            if attention != .none {
                inputs["keys"] = NumpyValue(keys)
                inputs["source_lengths"] = NumpyValue(ints: lengths, shape: [3])
                outputs["weights"] = NumpyValue(weights!)
            }
            if inputFeeding {
                inputs["attentional"] = NumpyValue(state.attentional!)
                outputs["next_attentional"] = NumpyValue(next.attentional!)
            }
            try writer.write(name + "_decoder_step", model: model.onnxDecoderStep(), inputs: inputs, outputs: outputs)
        }
    }
}
