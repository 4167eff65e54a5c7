/// Accuracy and F1 of class predictions against labels.
public struct ClassificationMetrics: Codable, Equatable, Sendable {
    /// Number of items scored.
    public var count: Int
    /// Mean cross-entropy in nats (NaN when not computed).
    public var loss: Double
    /// Fraction of items whose predicted class is the label.
    public var accuracy: Double
    /// F1 of class 1 (the positive class of a binary task): 2PR / (P + R), 0 when undefined.
    public var f1: Double
    /// Unweighted mean of every class's F1.
    public var macroF1: Double
    /// confusion[label][prediction].
    public var confusion: [[Int]]

    /// - Parameters:
    ///   - predictions, labels: class ids in 0..<classes, one per item.
    public init(predictions: [Int], labels: [Int], classes: Int, loss: Double = .nan) {
        precondition(predictions.count == labels.count, "ClassificationMetrics: \(predictions.count) predictions for \(labels.count) labels")
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: classes), count: classes)
        for (p, y) in zip(predictions, labels) { confusion[y][p] += 1 }
        let correct = (0..<classes).reduce(0) { $0 + confusion[$1][$1] }
        func f1(_ c: Int) -> Double {
            let truePositives = Double(confusion[c][c])
            let predicted = Double((0..<classes).reduce(0) { $0 + confusion[$1][c] }), actual = Double(confusion[c].reduce(0, +))
            return predicted + actual == 0 ? 0 : 2 * truePositives / (predicted + actual)   // = 2PR / (P + R)
        }
        count = labels.count
        self.loss = loss
        accuracy = labels.isEmpty ? .nan : Double(correct) / Double(labels.count)
        self.f1 = classes > 1 ? f1(1) : .nan
        macroF1 = (0..<classes).map(f1).reduce(0, +) / Double(classes)
        self.confusion = confusion
    }

    /// One class's figures, from the confusion matrix.
    public struct ClassFigures: Equatable, Sendable {
        /// Of the items predicted as the class, the fraction that are (0 when none is predicted).
        public var precision: Double
        /// Of the items of the class, the fraction predicted as it (0 when there are none).
        public var recall: Double
        /// 2PR / (P + R), 0 when both are 0.
        public var f1: Double
        /// Items whose label is the class.
        public var support: Int
    }

    /// Precision, recall, F1 and support of each class, in id order.
    public var perClass: [ClassFigures] {
        confusion.indices.map { c in
            let truePositives = Double(confusion[c][c])
            let predicted = Double(confusion.reduce(0) { $0 + $1[c] }), support = confusion[c].reduce(0, +)
            let precision = predicted > 0 ? truePositives / predicted : 0, recall = support > 0 ? truePositives / Double(support) : 0
            return ClassFigures(precision: precision, recall: recall, f1: precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0,
                                support: support)
        }
    }

    /// "accuracy 81.33 %, F1 0.8123, macro F1 0.8130 (300 sentences)".
    public var summary: String {
        String(format: "accuracy %.2f %%, F1 %.4f, macro F1 %.4f, loss %.4f (%d sentences)", accuracy * 100, f1, macroF1, loss, count)
    }
}
