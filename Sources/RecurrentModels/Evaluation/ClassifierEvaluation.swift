import RecurrentData
import RecurrentTensor

extension SequenceClassifier {
    /// Loss, accuracy and F1 of the model (eval mode, no graph) on `sentences`.
    public func evaluate(on sentences: EncodedSentences, batch: Int = 256) -> ClassificationMetrics {
        var predictions: [Int] = [], lossSum = 0.0
        withoutGrad {
            let wasTraining = isTraining
            eval()
            defer { train(wasTraining) }
            for b in sentences.batches(size: batch, paddingId: 0) {
                let (loss, logits) = self.loss(b)
                lossSum += Double(loss.item) * Double(b.batch)
                predictions += logits.argmax(axis: 1)
            }
        }
        return ClassificationMetrics(predictions: predictions, labels: sentences.labels, classes: config.classes,
                                     loss: sentences.count > 0 ? lossSum / Double(sentences.count) : .nan)
    }
}
