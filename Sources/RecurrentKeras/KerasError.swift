/// Why a Keras file could not be imported. Every failure of the file, its container, its config or its
/// weights is one of these (HDF5's own error stack is silenced and never printed).
public enum KerasError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The bytes do not start with HDF5's signature.
    case notHDF5(source: String)
    /// HDF5 refused the file or one of its objects: truncated or damaged.
    case damagedHDF5(source: String, reason: String)
    /// A dataset the layer needs is missing (`path` inside the HDF5 file).
    case missingDataset(path: String)
    /// A group the model needs is missing.
    case missingGroup(path: String)
    /// A dataset is not of a floating-point type (or not a simple array).
    case notFloatingPoint(path: String)
    /// A dataset's shape is not what the config (or the layer's other weights) implies.
    case wrongShape(path: String, expected: [Int], found: [Int])
    /// A dataset or archive entry is larger than the importer accepts.
    case tooLarge(what: String, size: Int, limit: Int)
    /// A `.keras` file is not a readable zip archive.
    case badZip(reason: String)
    /// A `.keras` archive lacks an entry (`config.json`, `model.weights.h5`).
    case missingEntry(name: String)
    /// The model config is not valid JSON or lacks a field the importer needs.
    case badConfig(reason: String)
    /// The config holds a model class other than `Sequential`, or a `Functional` model that is not one chain of layers.
    case unsupportedModel(className: String)
    /// The config holds a layer class the importer does not convert.
    case unsupportedLayer(name: String, className: String)
    /// A layer option the library's layers do not implement.
    case unsupportedOption(layer: String, option: String, value: String)
    /// Two layers do not fit together (widths, or a recurrent layer after one that dropped the time axis).
    case incompatibleLayers(reason: String)
    /// The model was imported from weights alone, so the order and options of its layers are unknown.
    case incompleteModel
    /// A file could not be read or staged.
    case unreadable(path: String, reason: String)
    /// The input given to an imported model does not fit it.
    case badInput(reason: String)

    public var description: String {
        switch self {
        case let .notHDF5(source):
            return "\(source): not an HDF5 file (expected the signature \\x89HDF\\r\\n\\x1a\\n at byte 0; is it a Keras 3 .weights.h5?)"
        case let .damagedHDF5(source, reason):
            return "\(source): HDF5 cannot read the file (truncated or damaged): \(reason)"
        case let .missingDataset(path):
            return "Keras weights: dataset '\(path)' is missing"
        case let .missingGroup(path):
            return "Keras weights: group '\(path)' is missing"
        case let .notFloatingPoint(path):
            return "Keras weights: dataset '\(path)' is not a floating-point array"
        case let .wrongShape(path, expected, found):
            return "Keras weights: dataset '\(path)' has shape \(found), expected \(expected)"
        case let .tooLarge(what, size, limit):
            return "Keras: \(what) is too large (\(size), at most \(limit) accepted)"
        case let .badZip(reason):
            return "Keras: not a readable .keras (zip) archive: \(reason)"
        case let .missingEntry(name):
            return "Keras: the .keras archive has no '\(name)'"
        case let .badConfig(reason):
            return "Keras config: \(reason)"
        case let .unsupportedModel(className):
            return "Keras config: model class '\(className)' is not supported (Sequential models and Functional chains are imported)"
        case let .unsupportedLayer(name, className):
            return "Keras config: layer '\(name)' is a \(className), which is not supported "
                + "(supported: LSTM, GRU, SimpleRNN, Bidirectional, Embedding, Dense, Dropout, InputLayer)"
        case let .unsupportedOption(layer, option, value):
            return "Keras config: layer '\(layer)' has \(option)=\(value), which is not supported"
        case let .incompatibleLayers(reason):
            return "Keras config: \(reason)"
        case .incompleteModel:
            return "Keras: imported from weights alone, the order and options of the layers are unknown; import again with the model's config (--keras-config)"
        case let .unreadable(path, reason):
            return "\(path): \(reason)"
        case let .badInput(reason):
            return "Keras model input: \(reason)"
        }
    }
}
