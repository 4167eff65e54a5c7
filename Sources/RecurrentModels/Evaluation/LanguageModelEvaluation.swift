import RecurrentData
import RecurrentNN
import RecurrentTensor

extension LanguageModel {
    /// Mean nats per predicted character (eval mode, no graph) over `ids`, read as up to `streams`
    /// contiguous parallel streams in chunks of `seqLen`, the state carried across chunks.
    /// NaN when `ids` holds fewer than `seqLen + 1` characters.
    public func meanLoss(on ids: [Int], seqLen: Int, streams: Int) -> Double {
        let streams = min(streams, max(1, (ids.count - 1) / seqLen))
        let batches = LanguageModelBatch.sequential(from: ids, steps: seqLen, batch: streams)
        guard !batches.isEmpty else { return .nan }
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
            return total / Double(batches.count)
        }
    }
}
