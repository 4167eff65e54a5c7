// The four ways a recurrent network maps sequences: many-to-one, aligned many-to-many, one-to-many and
// unaligned many-to-many, each with an LSTM and a linear head.
import Recurrent

let (T, B, I, H, C) = (7, 3, 4, 8, 5)
var rng = RandomGenerator(seed: 9)
let x = Tensor<Float>.normal([T, B, I], generator: &rng)                 // (T, B, I), padded
let lengths = [7, 4, 2]                                                  // valid steps of each sequence
let lstm = LSTM<Float>(inputSize: I, hiddenSize: H, seed: 1)
let head = Linear<Float>(inputSize: H, outputSize: C, seed: 2)
let (output, state) = lstm(x, lengths: lengths)                          // (T, B, H), h and c (1, B, H)

// Many-to-one (a sentence → its class): one answer from the final state, which for each sequence is
// the state at its own last valid step.
let classLogits = head(state.h.reshaped([B, H]))                         // (B, C)
print("many-to-one:", x.shape, "→", classLogits.shape)
var finalIsLastValid = true
for b in 0..<B {
    let last = output.slice(axis: 0, (lengths[b] - 1)..<lengths[b]).slice(axis: 1, b..<(b + 1)).scalars
    finalIsLastValid = finalIsLastValid && last == state.h.slice(axis: 1, b..<(b + 1)).scalars
}
print("final state equals the output at each sequence's last valid step:", finalIsLastValid)

// Aligned many-to-many (a word → its tag): one answer per input step, from that step's output.
let tagLogits = head(output.reshaped([T * B, H])).reshaped([T, B, C])   // (T, B, C); steps past a length are padding
print("aligned many-to-many:", x.shape, "→", tagLogits.shape)

// One-to-many (a vector → a sequence): the input sets the initial state; each step reads the previous output.
let seed = Tensor<Float>.normal([B, H], generator: &rng)                 // e.g. an image's features
let generator = LSTMCell<Float>(inputSize: C, hiddenSize: H, seed: 3)
var s = LSTMState(h: seed, c: Tensor.zeros([B, H]))
var previous = Tensor<Float>.zeros([B, C])
var generated: [Tensor<Float>] = []
for _ in 0..<4 {
    s = generator(previous, state: s)
    previous = head(s.h)                                                 // (B, C), fed back at the next step
    generated.append(previous)
}
print("one-to-many:", seed.shape, "→", Tensor.stack(generated).shape)

// Unaligned many-to-many (a sentence → a translation of another length): an encoder reads all T steps,
// its final state starts a decoder that runs for as many steps as the output needs (Seq2Seq does this).
let decoder = LSTMCell<Float>(inputSize: C, hiddenSize: H, seed: 4)
var d = LSTMState(h: state.h.reshaped([B, H]), c: state.c.reshaped([B, H]))
var token = Tensor<Float>.zeros([B, C])
var translated: [Tensor<Float>] = []
for _ in 0..<3 {
    d = decoder(token, state: d)
    token = head(d.h)
    translated.append(token)
}
print("unaligned many-to-many:", x.shape, "→", Tensor.stack(translated).shape)
