import Recurrent

// The benchmark configurations of issue "benchmarks": the layer shapes PyTorch users quote, and
// batch-1 character-level sampling. Letters: T steps, B batch, I input, H hidden, L layers, D directions.

/// One benchmark configuration.
public struct BenchConfig: Sendable {
    enum Workload { case layer, sample, score }
    public let name: String
    let kind: RecurrentCellKind
    let workload: Workload
    let inputSize: Int, hiddenSize: Int, layers: Int, bidirectional: Bool
    let batch: Int, steps: Int
    /// Sampling only: vocabulary (V) of the character language model.
    let vocabulary: Int

    var directions: Int { bidirectional ? 2 : 1 }

    /// Multiply–adds of the useful forward work of the recurrent layers (the two weight products per
    /// step, every layer and direction), ×2 for FLOPs. Elementwise gate math is not counted.
    var forwardFlops: Double {
        let G = kind.gateCount, H = hiddenSize, D = directions
        var total = 0.0
        for l in 0..<layers {
            let inWidth = l == 0 ? inputSize : D * H
            total += Double(D) * 2 * Double(batch * steps) * Double(G * H) * Double(inWidth + H)
        }
        if workload != .layer { total += 2 * Double(batch * steps) * Double(H * vocabulary) }   // the output Linear
        return total
    }

    /// Training does the forward and, backward, two products per forward product (∂input and ∂weight): 3×.
    var trainFlops: Double { 3 * forwardFlops }
    var tokens: Double { Double(batch * steps) }
}

/// Every configuration, in the order of the table (`recurrent bench --config NAME`).
public let allConfigs: [BenchConfig] = [
    BenchConfig(name: "lstm-256-b32-t50", kind: .lstm, workload: .layer, inputSize: 256, hiddenSize: 256, layers: 1,
                bidirectional: false, batch: 32, steps: 50, vocabulary: 0),
    BenchConfig(name: "gru-256-b32-t50", kind: .gru, workload: .layer, inputSize: 256, hiddenSize: 256, layers: 1,
                bidirectional: false, batch: 32, steps: 50, vocabulary: 0),
    BenchConfig(name: "rnn-256-b32-t50", kind: .rnnTanh, workload: .layer, inputSize: 256, hiddenSize: 256, layers: 1,
                bidirectional: false, batch: 32, steps: 50, vocabulary: 0),
    BenchConfig(name: "lstm2-512-b64-t100", kind: .lstm, workload: .layer, inputSize: 512, hiddenSize: 512, layers: 2,
                bidirectional: false, batch: 64, steps: 100, vocabulary: 0),
    BenchConfig(name: "bilstm-256-b32-t50", kind: .lstm, workload: .layer, inputSize: 256, hiddenSize: 256, layers: 1,
                bidirectional: true, batch: 32, steps: 50, vocabulary: 0),
    // Char LM: embedding 65→512, 2-layer recurrence 512, linear to 65, softmax sampling; batch 1, one token per call.
    // `steps` is the number of tokens sampled per timed repetition.
    BenchConfig(name: "sample-lstm2-512", kind: .lstm, workload: .sample, inputSize: 512, hiddenSize: 512, layers: 2,
                bidirectional: false, batch: 1, steps: 200, vocabulary: 65),
    BenchConfig(name: "sample-gru2-512", kind: .gru, workload: .sample, inputSize: 512, hiddenSize: 512, layers: 2,
                bidirectional: false, batch: 1, steps: 200, vocabulary: 65),
    BenchConfig(name: "sample-rnn2-512", kind: .rnnTanh, workload: .sample, inputSize: 512, hiddenSize: 512, layers: 2,
                bidirectional: false, batch: 1, steps: 200, vocabulary: 65),
]

/// Configurations run only when named (too long for every run of the table): batch-1 scoring of 200,000
/// characters through the public API, the case of issue 19 where the two-core split cost 1.6× the
/// CPU-seconds of one thread (`Benchmarks/split_cost.py` runs it with one thread and two).
public let extraConfigs: [BenchConfig] = [
    // Char LM (LanguageModel: embedding 65→512, 2-layer LSTM 512, linear to 65) over 200,000 characters at batch 1,
    // 100 characters per call with the state carried, cross-entropy of each chunk; `steps` is the number of characters.
    BenchConfig(name: "score-lstm2-512-b1", kind: .lstm, workload: .score, inputSize: 512, hiddenSize: 512, layers: 2,
                bidirectional: false, batch: 1, steps: 200_000, vocabulary: 65),
]

/// Every configuration that may be named: `allConfigs`, then `extraConfigs`.
public let knownConfigs = allConfigs + extraConfigs
