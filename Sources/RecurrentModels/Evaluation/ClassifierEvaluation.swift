import RecurrentData
import RecurrentTensor

extension SequenceClassifier {
    /// Loss, accuracy and F1 of the model (eval mode, no graph) on `sentences`.
    public func evaluate(on sentences: EncodedSentences, batch: Int = 256) -> ClassificationMetrics {
        let part = partialEvaluation(on: sentences, batch: batch) { 0..<$0 }
        return ClassificationMetrics(predictions: part.predictions, labels: sentences.labels, classes: config.classes,
                                     loss: sentences.count > 0 ? part.lossSum / Double(sentences.count) : .nan)
    }

    /// `evaluate(on:)`'s parts for the batches `part(batchCount)` of `batch` sentences: the predictions of
    /// the sentences they hold (`sentences`, a contiguous range) and Σ loss over them.
    public func partialEvaluation(on sentences: EncodedSentences, batch: Int = 256, part: (Int) -> Range<Int>)
        -> (predictions: [Int], sentences: Range<Int>, lossSum: Double) {
        let batches = part((sentences.count + batch - 1) / batch)
        let range = min(batches.lowerBound * batch, sentences.count)..<min(batches.upperBound * batch, sentences.count)
        var predictions: [Int] = [], lossSum = 0.0
        withoutGrad {
            let wasTraining = isTraining
            eval()
            defer { train(wasTraining) }
            for b in sentences.batches(size: batch, order: Array(range), paddingId: 0) {
                let (loss, logits) = self.loss(b)
                lossSum += Double(loss.item) * Double(b.batch)
                predictions += logits.argmax(axis: 1)
            }
        }
        return (predictions, range, lossSum)
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
