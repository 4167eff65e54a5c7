/// The arithmetic of an inference model's products (the recurrent layers' x·W_ihᵀ and h·W_hhᵀ and the output
/// Linear): what `LanguageModel.quantized(_:)` builds and `--precision` chooses. Gates, embeddings, softmax
/// and states stay fp32 whatever the precision; the choice is the user's and never made silently.
public enum Precision: String, Sendable, CaseIterable, Codable {
    /// Single precision, the trained weights unchanged.
    case fp32
    /// Weights rounded to bfloat16 (nearest even), widened to fp32 in the kernel; fp32 accumulation.
    case bf16
    /// Weights s8 with one fp32 scale per output row (symmetric); activations quantized per row and per call
    /// to 7-bit unsigned values with a zero point (PyTorch's dynamic quantization with FBGEMM's reduce_range);
    /// int32 accumulation, one fp32 rescale per output.
    case int8
}

/// Why a model cannot be quantized, or a quantized model cannot do what was asked.
public enum QuantizationError: Error, Equatable, CustomStringConvertible {
    /// The model has a part the quantized forward does not implement; the text names it.
    case unsupported(String)
    /// Quantized models are for inference only: they have no parameters, record no gradients and cannot be
    /// trained; train the fp32 model and quantize it again.
    case inferenceOnly

    /// One line that says what cannot be done and why.
    public var description: String {
        switch self {
        case .unsupported(let what): "cannot quantize: \(what)"
        case .inferenceOnly: "quantized models are for inference only (no gradients): train the fp32 model and quantize it again"
        }
    }
}
