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

extension SequenceClassifier {
    /// Loss, accuracy, F1 and confusion of the model (eval mode, no graph) on labelled real-vector sequences.
    public func evaluate(on series: EncodedSeries, batch: Int = 256) -> ClassificationMetrics {
        var predictions: [Int] = [], lossSum = 0.0
        withoutGrad {
            let wasTraining = isTraining
            eval()
            defer { train(wasTraining) }
            for b in series.batches(size: batch) {
                let (loss, logits) = self.loss(b)
                lossSum += Double(loss.item) * Double(b.batch)
                predictions += logits.argmax(axis: 1)
            }
        }
        return ClassificationMetrics(predictions: predictions, labels: series.labels, classes: config.classes,
                                     loss: series.count > 0 ? lossSum / Double(series.count) : .nan)
    }
}
