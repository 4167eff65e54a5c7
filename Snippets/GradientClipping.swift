// Vanishing and exploding gradients in a ReLU RNN whose recurrent matrix is a·I, read from the
// layer's record of ‖∂L/∂h_t‖; then clipping by value and by norm.
import Foundation
import Recurrent

/// ‖∂L/∂h_t‖ for t = 0 … T−1 when L is the sum of the last hidden state of a ReLU RNN with W_hh = a·I.
/// Positive weights, biases and inputs keep every unit active, so ∂h_{t+1}/∂h_t = a·I exactly.
func hiddenGradientNorms(a: Double, steps T: Int) -> (rnn: RNN<Double>, norms: [Double]) {
    let H = 4
    let rnn = RNN<Double>(inputSize: 1, hiddenSize: H, nonlinearity: .relu, seed: 1)
    var identity = [Double](repeating: 0, count: H * H)
    for k in 0..<H { identity[k * H + k] = a }
    try! rnn.loadParameters([
        "weight_ih_l0": Tensor.full([H, 1], 0.5), "weight_hh_l0": Tensor(identity, shape: [H, H]),
        "bias_ih_l0": Tensor.full([H], 0.1), "bias_hh_l0": Tensor.zeros([H]),
    ])
    rnn.recordsHiddenGradientNorms = true
    let x = Tensor<Double>.full([T, 1, 1], 1)                              // (T, B = 1, I = 1)
    let (output, _) = rnn(x)
    output.slice(axis: 0, (T - 1)..<T).sum().backward()
    return (rnn, rnn.hiddenGradientNorms[0])                               // [layer · D + direction][t]
}

let T = 20
for a in [0.8, 1.25] {
    let norms = hiddenGradientNorms(a: a, steps: T).norms
    print("a = \(a): ‖∂L/∂h_0‖ / ‖∂L/∂h_\(T - 1)‖:", norms[0] / norms[T - 1])
    print("a = \(a): a^\(T - 1):", pow(a, Double(T - 1)))
}

// Clipping acts on the gradients after backward() and before the optimizer's step().
let (rnn, _) = hiddenGradientNorms(a: 1.25, steps: T)
let parameters = rnn.parameters()
let raw = parameters.flatMap { $0.grad!.scalars }

clipGradValue(parameters, clipValue: 1)                                   // each element into [−1, 1]
let byValue = parameters.flatMap { $0.grad!.scalars }

// Start again from the raw gradients and clip their global norm instead.
var offset = 0
for p in parameters {
    let n = p.count
    p.grad!.withMutableData { buffer in for i in 0..<n { buffer[i] = raw[offset + i] } }
    offset += n
}
let totalNorm = clipGradNorm(parameters, maxNorm: 1)                      // returns the norm before clipping
let byNorm = parameters.flatMap { $0.grad!.scalars }

func norm(_ v: [Double]) -> Double { v.reduce(0) { $0 + $1 * $1 }.squareRoot() }
func cosine(_ u: [Double], _ v: [Double]) -> Double { zip(u, v).reduce(0) { $0 + $1.0 * $1.1 } / (norm(u) * norm(v)) }
print("gradient norm before clipping:", totalNorm)
for (name, clipped) in [("by value", byValue), ("by norm", byNorm)] {
    print("\(name): largest element:", clipped.map(abs).max()!)
    print("\(name): norm:", norm(clipped))
    print("\(name): cosine with the raw gradient:", cosine(clipped, raw))
}
