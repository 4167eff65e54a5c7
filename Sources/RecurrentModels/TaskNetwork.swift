import RecurrentNN
import RecurrentTensor

/// The recurrent network of the character language model, the classifier and the tagger, by cell name.
enum TaskNetwork {
    /// The cells those models accept (`--cell`).
    static let cells = ["lstm", "gru", "rnn", "jordan"]

    /// A stacked network of `layers` × `hidden` units over `input` features. A Jordan network feeds back
    /// an H-wide output (tanh units, tanh output), so every cell has states and outputs H wide per direction.
    /// The generator is drawn in the same order as before Jordan was offered, so existing seeds give the
    /// same models.
    static func make(cell: String, input: Int, hidden: Int, layers: Int, dropout: Float, bidirectional: Bool,
                     generator: inout RandomGenerator) -> any RecurrentNetwork<Float> {
        switch cell {
        case "gru": GRU(inputSize: input, hiddenSize: hidden, numLayers: layers, dropout: dropout, bidirectional: bidirectional, generator: &generator)
        case "rnn": RNN(inputSize: input, hiddenSize: hidden, numLayers: layers, dropout: dropout, bidirectional: bidirectional, generator: &generator)
        case "jordan":
            Jordan(inputSize: input, hiddenSize: hidden, outputSize: hidden, numLayers: layers, dropout: dropout, bidirectional: bidirectional,
                   generator: &generator)
        default: LSTM(inputSize: input, hiddenSize: hidden, numLayers: layers, dropout: dropout, bidirectional: bidirectional, generator: &generator)
        }
    }
}
