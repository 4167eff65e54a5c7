// An encoder–decoder with attention learns to reverse short sequences: batches with <s> and </s>,
// teacher forcing, greedy decoding and beam search.
import Recurrent

// Target ids follow Seq2SeqVocabularies: 0 <pad>, 1 <unk>, 2 <s>, 3 </s>, words from 4.
let config = Seq2SeqConfig(sourceVocabularySize: 10, targetVocabularySize: 10, embeddingSize: 16, hiddenSize: 32,
                           cell: .gru, bidirectional: true, attention: .bahdanau, dropout: 0)
let model = Seq2Seq<Float>(config, seed: 1)
var rng = RandomGenerator(seed: 2)

/// `count` random sequences of 3 to 5 words, and each one reversed.
func reversalPairs(_ count: Int, _ rng: inout RandomGenerator) -> (sources: [[Int]], targets: [[Int]]) {
    var sources: [[Int]] = []
    for _ in 0..<count {
        let length = 3 + rng.nextInt(below: 3)
        sources.append((0..<length).map { _ in 4 + rng.nextInt(below: 6) })
    }
    return (sources, sources.map { Array($0.reversed()) })
}

// The decoder reads <s> y₁ … yₙ and is trained to emit y₁ … yₙ </s>: time-major (T, B), padded with 0.
let example = Seq2SeqBatch(sources: [[4, 5, 6]], targets: [[6, 5, 4]], bos: model.bos, eos: model.eos)
print("decoder input:", example.targetInput, "decoder target:", example.targetOutput)

// Teacher forcing: every decoder step reads the true previous word (teacherForcing: 1).
let optimizer = Adam(parameters: model.parameters(), learningRate: 1e-2)
let held = reversalPairs(32, &rng)
let heldOut = Seq2SeqBatch(sources: held.sources, targets: held.targets, bos: model.bos, eos: model.eos)
let lossBefore = model.loss(heldOut).scalars[0]
for _ in 0..<300 {
    let pairs = reversalPairs(32, &rng)
    let batch = Seq2SeqBatch(sources: pairs.sources, targets: pairs.targets, bos: model.bos, eos: model.eos)
    model.zeroGrad()
    let loss = model.loss(batch, teacherForcing: 1, generator: &rng)
    loss.backward()
    clipGradNorm(model.parameters(), maxNorm: 1)
    optimizer.step()
}
print("held-out loss before training:", lossBefore)
print("held-out loss after training:", model.loss(heldOut).scalars[0])

// Greedy decoding: from <s>, feed back the most likely word until </s>.
let greedy = model.decode(heldOut.source, steps: heldOut.sourceSteps, batch: heldOut.batch, lengths: heldOut.sourceLengths,
                          maxLength: 8, generator: &rng)
let correct = zip(greedy, held.targets).filter { $0.ids == $1 + [model.eos] }.count
print("greedy: sequences reversed exactly out of \(held.targets.count):", correct)

// Beam search keeps the beamWidth best prefixes at every step, ranked by total log-probability.
let beams = model.beamSearch([7, 4, 9, 5], beamWidth: 4, maxLength: 8, nBest: 3)
for hypothesis in beams {
    print("beam \(hypothesis.ids): log-probability:", hypothesis.logProbability)
}
// Attention: for each output word, weights over the source positions that sum to 1.
let rowSums = beams[0].attention.map { $0.reduce(0, +) }
print("attention rows of the best hypothesis:", beams[0].attention.count)
print("largest deviation of an attention row sum from 1:", rowSums.map { abs($0 - 1) }.max()!)
