// One step of an LSTM and of a GRU computed gate by gate from the cells' own weights, against the cells.
import Recurrent

/// The largest absolute difference between two tensors of the same shape.
func largestDifference(_ a: Tensor<Double>, _ b: Tensor<Double>) -> Double {
    precondition(a.shape == b.shape, "shapes \(a.shape) and \(b.shape)")
    return zip(a.scalars, b.scalars).map { abs($0 - $1) }.max() ?? 0
}

let (B, I, H) = (3, 4, 5)
var rng = RandomGenerator(seed: 11)
let x = Tensor<Double>.normal([B, I], generator: &rng)                   // x_t (B, I)
let h = Tensor<Double>.normal([B, H], generator: &rng)                   // h_{t−1} (B, H)
let c = Tensor<Double>.normal([B, H], generator: &rng)                   // c_{t−1} (B, H)

// LSTM: the four gate pre-activations side by side, PyTorch's order i, f, g, o.
let lstm = LSTMCell<Double>(inputSize: I, hiddenSize: H, seed: 1)
let z = x.matmul(lstm.weightIH, transposeOther: true) + lstm.biasIH!
      + h.matmul(lstm.weightHH, transposeOther: true) + lstm.biasHH!    // (B, 4H)
let blocks = z.chunk(4, axis: 1)                                         // four (B, H)
let i = blocks[0].sigmoid(), f = blocks[1].sigmoid(), g = blocks[2].tanh(), o = blocks[3].sigmoid()
let cNext = f * c + i * g                                                // forget some, write some
let hNext = o * cNext.tanh()                                             // expose some
let lstmStep = lstm(x, state: LSTMState(h: h, c: c))
print("LSTM h′ by hand against LSTMCell, largest difference:", largestDifference(hNext, lstmStep.h))
print("LSTM c′ by hand against LSTMCell, largest difference:", largestDifference(cNext, lstmStep.c))

// GRU, PyTorch's variant (resetAfter: true): the reset gate scales the recurrent projection W_hn h + b_hn.
let gru = GRUCell<Double>(inputSize: I, hiddenSize: H, seed: 2)
let gi = (x.matmul(gru.weightIH, transposeOther: true) + gru.biasIH!).chunk(3, axis: 1)   // r, z, n blocks (B, H)
let gh = (h.matmul(gru.weightHH, transposeOther: true) + gru.biasHH!).chunk(3, axis: 1)
let r = (gi[0] + gh[0]).sigmoid(), u = (gi[1] + gh[1]).sigmoid()          // reset and update gates
let n = (gi[2] + r * gh[2]).tanh()                                       // candidate state
let gruNext = (1 - u) * n + u * h                                        // keep u of the old state
print("GRU h′ by hand against GRUCell, largest difference:", largestDifference(gruNext, gru(x, state: h)))

// The original paper's GRU (resetAfter: false): the reset gate scales h before W_hn.
let paperGRU = GRUCell<Double>(inputSize: I, hiddenSize: H, resetAfter: false, seed: 3)
let pi = (x.matmul(paperGRU.weightIH, transposeOther: true) + paperGRU.biasIH!).chunk(3, axis: 1)
let ph = (h.matmul(paperGRU.weightHH, transposeOther: true) + paperGRU.biasHH!).chunk(3, axis: 1)
let pr = (pi[0] + ph[0]).sigmoid(), pu = (pi[1] + ph[1]).sigmoid()
let wHN = paperGRU.weightHH.slice(axis: 0, (2 * H)..<(3 * H))            // (H, H): rows of the n block
let bHN = paperGRU.biasHH!.slice(axis: 0, (2 * H)..<(3 * H))             // (H)
let pn = (pi[2] + (pr * h).matmul(wHN, transposeOther: true) + bHN).tanh()
let paperNext = (1 - pu) * pn + pu * h
print("paper GRU h′ by hand against GRUCell(resetAfter: false), largest difference:",
      largestDifference(paperNext, paperGRU(x, state: h)))
