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
        withoutGrad {
            let wasTraining = isTraining
            eval()
            defer { train(wasTraining) }
            return LanguageModelLoops.partialLoss(on: ids, seqLen: seqLen, streams: streams, part: part) { batch, state in
                let (loss, next) = self.loss(batch, state: state)
                return (loss.item, next)
            }
        }
    }
}
