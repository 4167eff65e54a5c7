// A two-layer bidirectional LSTM over a padded batch: forward, a loss, backward, clipping and one Adam step.
import Recurrent

let lstm = LSTM<Float>(inputSize: 32, hiddenSize: 64, numLayers: 2, bidirectional: true)
var rng = RandomGenerator(seed: 1)
let x = Tensor<Float>.normal([50, 8, 32], generator: &rng)               // (T, B, I)
let (output, state) = lstm(x, lengths: [50, 42, 37, 50, 12, 50, 3, 50])    // no sorting or packing
print("output:", output.shape, "h:", state.h.shape, "c:", state.c.shape)  // (T, B, 2·64); (L·D, B, 64) each

let loss = mseLoss(output, Tensor.zeros(output.shape))
loss.backward()                                                           // one fused node per layer and direction
let norm = clipGradNorm(lstm.parameters(), maxNorm: 1)                    // the norm before clipping
Adam(parameters: lstm.parameters(), learningRate: 1e-3).step()
print("loss:", loss.scalars[0])
print("gradient norm before clipping:", norm)
print("loss after one step:", mseLoss(lstm(x, lengths: [50, 42, 37, 50, 12, 50, 3, 50]).output, Tensor.zeros(output.shape)).scalars[0])
