import RecurrentNN
import RecurrentTensor

/// The recurrent network of the task models, by cell kind.
enum TaskNetwork {
    /// A stacked network of `layers` × `hidden` units over `input` features. A Jordan network feeds back
    /// an H-wide output (tanh units, tanh output), so every cell has states and outputs H wide per direction.
    /// The generator is drawn in the same order as before Jordan was offered, so existing seeds give the
    /// same models.
    static func make(cell: CellKind, input: Int, hidden: Int, layers: Int, dropout: Float, bidirectional: Bool,
                     generator: inout RandomGenerator) -> any RecurrentNetwork<Float> {
        switch cell {
        case .gru: GRU(inputSize: input, hiddenSize: hidden, numLayers: layers, dropout: dropout, bidirectional: bidirectional, generator: &generator)
        case .rnn: RNN(inputSize: input, hiddenSize: hidden, numLayers: layers, dropout: dropout, bidirectional: bidirectional, generator: &generator)
        case .jordan:
            Jordan(inputSize: input, hiddenSize: hidden, outputSize: hidden, numLayers: layers, dropout: dropout, bidirectional: bidirectional,
                   generator: &generator)
        case .lstm: LSTM(inputSize: input, hiddenSize: hidden, numLayers: layers, dropout: dropout, bidirectional: bidirectional, generator: &generator)
        }
    }
}
