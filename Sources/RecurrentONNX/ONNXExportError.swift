/// Why a model or layer cannot be exported to ONNX.
public enum ONNXExportError: Error, CustomStringConvertible, Equatable {
    /// The configuration has no counterpart among ONNX's operators in the form this exporter writes.
    case unsupported(String)

    public var description: String {
        switch self {
        case let .unsupported(reason): "cannot export to ONNX: \(reason)"
        }
    }
}
