/// Training on part of the validation split, for data sets whose training split comes from another domain than
/// their validation and test splits (WNUT-17: tweets for training; Reddit, YouTube and StackExchange comments for
/// dev and test), where in-domain sentences teach more than any setting of the model.
extension TaggingDataset {
    /// The data set with `fraction` of its validation sentences moved to the end of the training split, the rest
    /// staying for validation.
    ///
    /// The moved sentences are spread evenly over the validation split (sentence i moves when
    /// ⌊(i+1)·fraction⌋ > ⌊i·fraction⌋), so both parts keep the split's mixture of sources even where its file
    /// groups them. Deterministic: the same fraction always moves the same sentences.
    /// - Parameter fraction: in [0, 1); 0 returns the data set unchanged.
    public func movingValidationIntoTraining(fraction: Double) -> TaggingDataset {
        precondition(fraction >= 0 && fraction < 1, "movingValidationIntoTraining: fraction \(fraction) outside [0, 1)")
        var moved: [TaggedSentence] = [], kept: [TaggedSentence] = []
        for (i, sentence) in validation.enumerated() {
            if (Double(i + 1) * fraction).rounded(.down) > (Double(i) * fraction).rounded(.down) {
                moved.append(sentence)
            } else {
                kept.append(sentence)
            }
        }
        var result = self
        result.train += moved
        result.validation = kept
        return result
    }
}
