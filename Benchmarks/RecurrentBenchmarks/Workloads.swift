import Recurrent

// The timed bodies. Train: forward over a fixed random normal input (no gradient), loss = mean of the
// squared outputs, backward to every parameter, one Adam step. Infer: the same forward without
// gradients. Sample: batch-1 character sampling, one token per call, state carried.

func makeLayer(_ c: BenchConfig, generator g: inout RandomGenerator) -> RecurrentLayer<Float> {
    switch c.kind {
    case .lstm:
        LSTM<Float>(inputSize: c.inputSize, hiddenSize: c.hiddenSize, numLayers: c.layers, bidirectional: c.bidirectional, generator: &g)
    case .gru, .gruResetBefore:
        GRU<Float>(inputSize: c.inputSize, hiddenSize: c.hiddenSize, numLayers: c.layers, bidirectional: c.bidirectional,
                   resetAfter: c.kind == .gru, generator: &g)
    case .rnnTanh, .rnnRelu:
        RNN<Float>(inputSize: c.inputSize, hiddenSize: c.hiddenSize, numLayers: c.layers, nonlinearity: c.kind == .rnnTanh ? .tanh : .relu,
                   bidirectional: c.bidirectional, generator: &g)
    }
}

/// A layer workload: the setup outside the timing, and the two timed bodies.
final class LayerWorkload {
    let layer: RecurrentLayer<Float>
    let x: Tensor<Float>                          // (T, B, I), needs no gradient
    let adam: Adam<Float>                         // the library's, as a user trains with it
    var lastLoss: Float = 0

    init(_ c: BenchConfig) {
        var g = RandomGenerator(seed: 42)
        layer = makeLayer(c, generator: &g)
        x = .normal([c.steps, c.batch, c.inputSize], generator: &g)
        adam = Adam(parameters: layer.parameters())
    }

    func trainStep() {
        for p in adam.parameters { p.grad = nil }   // PyTorch's zero_grad(set_to_none=True), its default
        let (out, _) = layer(x)
        let loss = (out * out).mean()
        loss.backward()
        adam.step()
        lastLoss = loss.item
    }

    func inferStep() {
        withoutGrad {
            let (out, _) = layer(x)
            lastLoss = out.data[0]
        }
    }
}

/// Char-LM sampling at batch 1 through the library's public modules, as a user would write it.
final class SampleWorkload {
    let embedding: Embedding<Float>
    let rnn: RecurrentLayer<Float>
    let head: Linear<Float>
    let steps: Int, vocabulary: Int, hidden: Int
    var generator = RandomGenerator(seed: 3)
    var token = 0
    var checksum = 0

    init(_ c: BenchConfig) {
        var g = RandomGenerator(seed: 42)
        embedding = Embedding(vocabularySize: c.vocabulary, dimension: c.inputSize, generator: &g)
        rnn = makeLayer(BenchConfig(name: c.name, kind: c.kind, workload: .layer, inputSize: c.inputSize, hiddenSize: c.hiddenSize,
                                    layers: c.layers, bidirectional: false, batch: 1, steps: 1, vocabulary: 0), generator: &g)
        head = Linear(inputSize: c.hiddenSize, outputSize: c.vocabulary, generator: &g)
        rnn.eval()
        steps = c.steps
        vocabulary = c.vocabulary
        hidden = c.hiddenSize
    }

    /// Samples `steps` tokens, one call per token, carrying the state.
    func sampleSequence() {
        withoutGrad {
            var state: RecurrentState<Float>? = nil
            for _ in 0..<steps {
                let e = embedding([token], shape: [1, 1])                  // (1, 1, I)
                let (out, next) = rnn(e, state: state)                     // (1, 1, H)
                state = next
                let probs = head(out.reshaped([1, hidden])).softmax(axis: -1)   // (1, V)
                token = sampleCategorical(probs.data, count: vocabulary, generator: &generator)
                checksum &+= token
            }
        }
    }
}

/// Char-LM scoring at batch 1 through the public API (`LanguageModel`): the text in chunks of 100 characters,
/// one call per chunk with the state carried, and the cross-entropy of each chunk, without gradients.
final class ScoreWorkload {
    let model: LanguageModel
    let text: [Int]                               // (N) character ids
    let chunk = 100
    var nats = 0.0

    init(_ c: BenchConfig) {
        model = LanguageModel(LanguageModelConfig(vocabularySize: c.vocabulary, embeddingSize: c.inputSize, hiddenSize: c.hiddenSize,
                                                  layers: c.layers, cell: c.kind == .lstm ? .lstm : c.kind == .gru ? .gru : .rnn),
                              seed: 42)
        model.eval()
        var g = RandomGenerator(seed: 7)
        text = (0..<(c.steps + 1)).map { _ in Int(g.nextDouble() * Double(c.vocabulary)) % c.vocabulary }
    }

    /// Scores the whole text once.
    func scoreText() {
        withoutGrad {
            var state: RecurrentState<Float>? = nil
            var start = 0
            nats = 0
            while start + 1 < text.count {
                let n = Swift.min(chunk, text.count - 1 - start)
                let (logits, next) = model(Array(text[start..<(start + n)]), steps: n, batch: 1, state: state)   // (n, 1, V)
                state = next
                let loss = crossEntropy(logits.reshaped([n, model.config.vocabularySize]), targets: Array(text[(start + 1)...(start + n)]))
                nats += Double(loss.item) * Double(n)
                start += n
            }
        }
    }
}

/// The inference of a `LayerWorkload` with the layer quantized (`RecurrentLayer.quantized`), same weights and input.
final class QuantizedLayerWorkload {
    let network: QuantizedRecurrentNetwork
    let x: Tensor<Float>
    var last: Float = 0

    init(_ w: LayerWorkload, precision: Precision) {
        network = try! w.layer.quantized(precision)     // LSTM, GRU and RNN layers of the table: always supported
        x = w.x
    }

    func inferStep() {
        let (out, _) = try! network.run(x)              // x needs no gradient
        last = out.data[0]
    }
}

/// `SampleWorkload` with the recurrent layers and the head quantized (the embedding and softmax stay fp32).
final class QuantizedSampleWorkload {
    let base: SampleWorkload
    let rnn: QuantizedRecurrentNetwork
    let head: QuantizedLinear
    var generator = RandomGenerator(seed: 3)
    var token = 0

    init(_ w: SampleWorkload, precision: Precision) {
        base = w
        rnn = try! w.rnn.quantized(precision)
        head = try! w.head.quantized(precision)
    }

    func sampleSequence() {
        withoutGrad {
            var state: RecurrentState<Float>? = nil
            for _ in 0..<base.steps {
                let e = base.embedding([token], shape: [1, 1])             // (1, 1, I), no gradient here
                let (out, next) = try! rnn.run(e, state: state)            // (1, 1, H)
                state = next
                let probs = try! head(out.reshaped([1, base.hidden])).softmax(axis: -1)   // (1, V)
                token = sampleCategorical(probs.data, count: base.vocabulary, generator: &generator)
                base.checksum &+= token
            }
        }
    }
}

/// Draws an index from the probabilities `p` (summing to 1).
func sampleCategorical(_ p: UnsafePointer<Float>, count: Int, generator: inout RandomGenerator) -> Int {
    let u = Float(generator.nextDouble())
    var acc: Float = 0
    for i in 0..<count {
        acc += p[i]
        if u < acc { return i }
    }
    return count - 1
}
