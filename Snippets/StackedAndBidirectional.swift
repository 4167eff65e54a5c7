// A two-layer bidirectional LSTM rebuilt from single-direction cells: each layer runs one cell forward
// and one over the reversed sequence, concatenates the two, and the next layer reads that.
import Recurrent

/// The largest absolute difference between two tensors of the same shape.
func largestDifference(_ a: Tensor<Double>, _ b: Tensor<Double>) -> Double {
    precondition(a.shape == b.shape, "shapes \(a.shape) and \(b.shape)")
    return zip(a.scalars, b.scalars).map { abs($0 - $1) }.max() ?? 0
}

let (T, B, I, H) = (6, 2, 3, 4)
var rng = RandomGenerator(seed: 5)
let x = Tensor<Double>.normal([T, B, I], generator: &rng)                   // (T, B, I)

let network = LSTM<Double>(inputSize: I, hiddenSize: H, numLayers: 2, bidirectional: true, seed: 1)
let (output, state) = network(x)
print("output shape:", output.shape, "(T, B, D·H); final h shape:", state.h.shape, "(L·D, B, H)")

// A cell holding the weights of one layer and direction: the suffix is _l{layer}, plus _reverse.
func cell(_ weights: [String: Tensor<Double>], _ suffix: String, inputSize: Int, hiddenSize: Int) -> LSTMCell<Double> {
    let cell = LSTMCell<Double>(inputSize: inputSize, hiddenSize: hiddenSize)
    var named: [String: Tensor<Double>] = [:]
    for name in ["weight_ih", "weight_hh", "bias_ih", "bias_hh"] { named[name] = weights[name + suffix] }
    try! cell.loadParameters(named)
    return cell
}
/// One bidirectional layer: a forward cell over the sequence, a reverse cell over it backwards, outputs side by side.
func bidirectionalLayer(_ input: Tensor<Double>, layer: Int, weights: [String: Tensor<Double>], hiddenSize: Int) -> Tensor<Double> {
    let width = input.shape[2]
    let backwards = Array((0..<input.shape[0]).reversed())
    let (forward, _) = cell(weights, "_l\(layer)", inputSize: width, hiddenSize: hiddenSize).unroll(input)     // (T, B, H)
    let (reversed, _) = cell(weights, "_l\(layer)_reverse", inputSize: width, hiddenSize: hiddenSize)
        .unroll(input.indexSelect(axis: 0, indices: backwards))
    let reverse = reversed.indexSelect(axis: 0, indices: backwards)       // back in time order: step t read x_t … x_{T−1}
    return Tensor.concat([forward, reverse], axis: 2)                     // (T, B, 2H)
}
let weights = network.stateDict()
let layer0 = bidirectionalLayer(x, layer: 0, weights: weights, hiddenSize: H)
let layer1 = bidirectionalLayer(layer0, layer: 1, weights: weights, hiddenSize: H)                         // layer 1 reads both directions of layer 0
print("two stacked bidirectional layers by hand against LSTM, largest difference:", largestDifference(layer1, output))

// The final state: index layer · 2 + direction. The reverse direction ends at t = 0.
let lastForward = layer1.slice(axis: 0, (T - 1)..<T).slice(axis: 2, 0..<H).reshaped([B, H])
let firstReverse = layer1.slice(axis: 0, 0..<1).slice(axis: 2, H..<(2 * H)).reshaped([B, H])
let finalLayer1 = state.h.slice(axis: 0, 2..<4)                           // (2, B, H): forward, reverse
print("final state of layer 1 against its outputs, largest difference:",
      largestDifference(Tensor.stack([lastForward, firstReverse]), finalLayer1))
