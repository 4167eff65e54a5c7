// Elman and Jordan networks written out with tensor operations and checked against the library's layers:
// an Elman network feeds its hidden state back, a Jordan network its output.
import Recurrent

/// The largest absolute difference between two tensors of the same shape.
func largestDifference(_ a: Tensor<Double>, _ b: Tensor<Double>) -> Double {
    precondition(a.shape == b.shape, "shapes \(a.shape) and \(b.shape)")
    return zip(a.scalars, b.scalars).map { abs($0 - $1) }.max() ?? 0
}

let (T, B, I, H, O) = (5, 2, 3, 4, 2)
var rng = RandomGenerator(seed: 7)
let x = Tensor<Double>.normal([T, B, I], generator: &rng)            // (T, B, I)
/// x_t, (B, I): step t of a (T, B, I) sequence.
func step(_ x: Tensor<Double>, _ t: Int) -> Tensor<Double> { x.slice(axis: 0, t..<(t + 1)).reshaped([x.shape[1], x.shape[2]]) }

// Elman: h_t = tanh(x_t W_ihᵀ + b_ih + h_{t−1} W_hhᵀ + b_hh), h_0 = 0; the output at step t is h_t.
let elman = RNN<Double>(inputSize: I, hiddenSize: H, nonlinearity: .tanh, seed: 1)
let e = elman.stateDict()                                            // PyTorch's names: weight_ih_l0, …
var h = Tensor<Double>.zeros([B, H])
var elmanSteps: [Tensor<Double>] = []
for t in 0..<T {
    h = (step(x, t).matmul(e["weight_ih_l0"]!, transposeOther: true) + e["bias_ih_l0"]!
         + h.matmul(e["weight_hh_l0"]!, transposeOther: true) + e["bias_hh_l0"]!).tanh()
    elmanSteps.append(h)
}
let (elmanOutput, elmanState) = elman(x)                             // (T, B, H) and h_T (1, B, H)
print("Elman output shape:", elmanOutput.shape, "state shape:", elmanState.shape)
print("Elman by hand against RNN, largest difference:", largestDifference(Tensor.stack(elmanSteps), elmanOutput))

// Jordan: h_t = tanh(x_t W_ihᵀ + y_{t−1} W_yhᵀ + b_ih), y_t = tanh(h_t W_hoᵀ + b_ho), y_0 = 0;
// the state carried from step to step is the output y (O wide), not the hidden layer.
let jordan = Jordan<Double>(inputSize: I, hiddenSize: H, outputSize: O, seed: 2)
let j = jordan.stateDict()
var y = Tensor<Double>.zeros([B, O])
var jordanSteps: [Tensor<Double>] = []
for t in 0..<T {
    let hidden = (step(x, t).matmul(j["weight_ih_l0"]!, transposeOther: true)
                  + y.matmul(j["weight_yh_l0"]!, transposeOther: true) + j["bias_ih_l0"]!).tanh()
    y = (hidden.matmul(j["weight_ho_l0"]!, transposeOther: true) + j["bias_ho_l0"]!).tanh()
    jordanSteps.append(y)
}
let (jordanOutput, jordanState) = jordan(x)                          // (T, B, O) and y_T (1, B, O)
print("Jordan output shape:", jordanOutput.shape, "state shape:", jordanState.shape)
print("Jordan by hand against Jordan, largest difference:", largestDifference(Tensor.stack(jordanSteps), jordanOutput))

// The same network one step at a time: a cell sharing the layer's weights, unrolled over the sequence.
let (cellOutput, _) = jordan.cell(layer: 0).unroll(x)
print("JordanCell unrolled against Jordan, largest difference:", largestDifference(cellOutput, jordanOutput))
