import RecurrentData
import RecurrentNN
import RecurrentTensor

extension LanguageModel {
    /// Mean nats per predicted character (eval mode, no graph) over `ids`, read as up to `streams`
    /// contiguous parallel streams in chunks of `seqLen`, the state carried across chunks.
    /// NaN when `ids` holds fewer than `seqLen + 1` characters.
    public func meanLoss(on ids: [Int], seqLen: Int, streams: Int) -> Double {
        let part = partialLoss(on: ids, seqLen: seqLen, streams: streams, part: { 0..<$0 })
        return part.batches > 0 ? part.sum / Double(part.batches) : .nan
    }

    /// What `meanLoss` adds up, over the streams `part(streamCount)` only: Σ over chunks of (the chunk's
    /// mean loss × the fraction of the streams in `part`), and the number of chunks. The parts of all
    /// processes add up to `meanLoss`'s sum.
    public func partialLoss(on ids: [Int], seqLen: Int, streams: Int, part: (Int) -> Range<Int>) -> (sum: Double, batches: Int) {
        let streams = min(streams, max(1, (ids.count - 1) / seqLen))
        let mine = part(streams)
        let batches = LanguageModelBatch.sequential(from: ids, steps: seqLen, batch: streams, streams: mine)
        let fraction = Double(mine.count) / Double(streams)
        let chunks = (ids.count - 1) / streams >= seqLen ? ((ids.count - 1) / streams - seqLen) / seqLen + 1 : 0
        guard !batches.isEmpty else { return (0, chunks) }
        return withoutGrad {
            let wasTraining = isTraining
            eval()
            defer { train(wasTraining) }
            var state: RecurrentState<Float>? = nil
            var total = 0.0
            for b in batches {
                let (loss, next) = self.loss(b, state: state)
                total += Double(loss.item)
                state = next
            }
            return (fraction == 1 ? total : total * fraction, batches.count)
        }
    }
}
