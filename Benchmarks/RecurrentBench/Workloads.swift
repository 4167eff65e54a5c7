import Recurrent

// The timed bodies. Train: forward over a fixed random normal input (no gradient), loss = mean of the
// squared outputs, backward to every parameter, one Adam step. Infer: the same forward without
// gradients. Sample: batch-1 character sampling, one token per call, state carried.

/// Minimal Adam (PyTorch's defaults: lr 1e-3, β 0.9/0.999, ε 1e-8, bias-corrected), private to the
/// benchmark: the library's optimizers (branch `optim`) had not landed when this was written.
/// Replace with `Adam` from RecurrentNN/Optimizers once it is merged.
final class BenchAdam {
    let parameters: [Tensor<Float>]
    let m: [UnsafeMutablePointer<Float>], v: [UnsafeMutablePointer<Float>]
    var step = 0
    let lr: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8

    init(_ parameters: [Tensor<Float>]) {
        self.parameters = parameters
        m = parameters.map { p in let b = UnsafeMutablePointer<Float>.allocate(capacity: p.count); b.initialize(repeating: 0, count: p.count); return b }
        v = parameters.map { p in let b = UnsafeMutablePointer<Float>.allocate(capacity: p.count); b.initialize(repeating: 0, count: p.count); return b }
    }

    deinit { for b in m + v { b.deallocate() } }

    /// PyTorch's `zero_grad(set_to_none=True)`.
    func zeroGrad() { for p in parameters { p.grad = nil } }

    /// Element-wise, so it is split over the two cores of `PairParallel` (each part the same half of
    /// every parameter; same arithmetic per element whether the parts run concurrently or not).
    func update() {
        step += 1
        let c1 = 1 - Float.pow(beta1, Float(step)), c2 = 1 - Float.pow(beta2, Float(step))
        let stepSize = lr / c1, c2root = c2.squareRoot()
        let (b1, b2, eps) = (beta1, beta2, eps)
        // Pointers taken once, outside the region (no class-property reads on the helper thread).
        let slices = parameters.enumerated().compactMap { k, p in
            p.grad.map { (w: p.data, g: UnsafePointer($0.data), m: m[k], v: v[k], count: p.count) }
        }
        func part(_ part: Int) {
            for s in slices {
                let half = Swift.min(s.count, (s.count / 2 + 15) & ~15)
                let (w, g, mk, vk) = (s.w, s.g, s.m, s.v)
                for i in (part == 0 ? 0..<half : half..<s.count) {
                    mk[i] = b1 * mk[i] + (1 - b1) * g[i]
                    vk[i] = b2 * vk[i] + (1 - b2) * g[i] * g[i]
                    w[i] -= stepSize * mk[i] / (vk[i].squareRoot() / c2root + eps)
                }
            }
        }
        let total = slices.reduce(0) { $0 + $1.count }
        if total < 1 << 16 || !PairParallel.run(part) { part(0); part(1) }
    }
}

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
    let adam: BenchAdam
    var lastLoss: Float = 0

    init(_ c: BenchConfig) {
        var g = RandomGenerator(seed: 42)
        layer = makeLayer(c, generator: &g)
        x = .normal([c.steps, c.batch, c.inputSize], generator: &g)
        adam = BenchAdam(layer.parameters())
    }

    func trainStep() {
        adam.zeroGrad()
        let (out, _) = layer(x)
        let loss = (out * out).mean()
        loss.backward()
        adam.update()
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
        embedding = Embedding(c.vocabulary, c.inputSize, generator: &g)
        rnn = makeLayer(BenchConfig(name: c.name, kind: c.kind, workload: .layer, inputSize: c.inputSize, hiddenSize: c.hiddenSize,
                                    layers: c.layers, bidirectional: false, batch: 1, steps: 1, vocabulary: 0), generator: &g)
        head = Linear(c.hiddenSize, c.vocabulary, generator: &g)
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
                let (out, next) = rnn(e, initialState: state)              // (1, 1, H)
                state = next
                let probs = head(out.reshaped([1, hidden])).softmax(axis: -1)   // (1, V)
                token = sampleCategorical(probs.data, count: vocabulary, generator: &generator)
                checksum &+= token
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
