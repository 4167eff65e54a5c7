// Backpropagation through time over a whole sequence, and truncated to chunks whose state is carried
// forward but detached: the forward values are the same, the gradient stops at the chunk boundary.
import Recurrent

/// The Euclidean norm of a tensor's elements.
func norm(_ t: Tensor<Double>) -> Double { t.scalars.reduce(0) { $0 + $1 * $1 }.squareRoot() }

let (T, B, I, H, chunk) = (12, 2, 3, 5, 4)
var rng = RandomGenerator(seed: 3)
let lstm = LSTM<Double>(inputSize: I, hiddenSize: H, seed: 1)
let x = Tensor<Double>.normal([T, B, I], generator: &rng, requiresGrad: true)   // (T, B, I)

// Full BPTT: the loss at the last step reaches back through every step to x_0.
let (full, _) = lstm(x)                                                       // (T, B, H)
full.slice(axis: 0, (T - 1)..<T).sum().backward()
print("full BPTT: gradient norm at step 0:", norm(x.grad!.slice(axis: 0, 0..<1)))

// Truncated BPTT: chunks of `chunk` steps; each starts from the previous chunk's final state, detached.
x.grad = nil
lstm.zeroGrad()
var state: LSTMState<Double>? = nil
var outputs: [Tensor<Double>] = []
for range in truncatedChunks(totalSteps: T, chunk: chunk) {                  // 0..<4, 4..<8, 8..<12
    let (output, next) = lstm(x.slice(axis: 0, range), state: state)
    outputs.append(output)
    state = next.detached()                                                   // same values, no history
}
let chunked = Tensor.concat(outputs, axis: 0)                                 // (T, B, H)
let difference = zip(chunked.scalars, full.scalars).map { abs($0 - $1) }.max()!
print("chunked forward against full forward, largest difference:", difference)

outputs.last!.slice(axis: 0, (chunk - 1)..<chunk).sum().backward()           // the same loss: h at step T − 1
print("truncated BPTT: gradient norm at step 0:", norm(x.grad!.slice(axis: 0, 0..<1)))
print("truncated BPTT: gradient norm at step \(T - chunk):", norm(x.grad!.slice(axis: 0, (T - chunk)..<(T - chunk + 1))))
