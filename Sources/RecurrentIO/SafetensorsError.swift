/// Why a safetensors file or buffer was rejected (or could not be written). Every message says what
/// was expected and what was found.
///
/// Reading validates the whole header before any tensor memory is allocated, following the checks
/// of Hugging Face's reference implementation: the header length against the file size, the JSON,
/// every entry's dtype, shape and byte range, and that the byte ranges tile the data buffer exactly
/// (no overlap, no gap, nothing after the last tensor).
public enum SafetensorsError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The input is shorter than the 8-byte header length prefix.
    case fileTooSmall(byteCount: Int)
    /// The declared header length exceeds `Safetensors.maxHeaderByteCount`.
    case headerTooLarge(declared: UInt64, limit: Int)
    /// The declared header length runs past the end of the input.
    case headerExceedsFile(declared: UInt64, available: Int)
    /// The header bytes are not valid UTF-8.
    case headerNotUTF8(byteOffset: Int)
    /// The header is not valid JSON (`byteOffset` counts from the start of the header).
    case invalidJSON(byteOffset: Int, reason: String)
    /// The header is valid JSON but not an object.
    case headerNotObject(found: String)
    /// A key appears twice in one JSON object.
    case duplicateKey(String)
    /// `__metadata__` is not an object whose values are all strings.
    case invalidMetadata(reason: String)
    /// A tensor's entry is not an object.
    case invalidEntry(tensor: String, found: String)
    /// A tensor's entry lacks `dtype`, `shape` or `data_offsets`.
    case missingField(tensor: String, field: String)
    /// A tensor's field has the wrong JSON type or form.
    case invalidField(tensor: String, field: String, expected: String, found: String)
    /// The dtype is unknown or not one this library can convert.
    case unsupportedDtype(tensor: String, dtype: String)
    /// A shape entry is not a non-negative integer.
    case invalidShape(tensor: String, index: Int, found: String)
    /// The product of the shape, or that times the element size, overflows `Int`.
    case shapeOverflow(tensor: String, shape: [Int], dtype: String)
    /// `data_offsets` has begin > end.
    case dataOffsetsReversed(tensor: String, begin: Int, end: Int)
    /// `data_offsets` reaches past the end of the data buffer.
    case dataOffsetsOutOfBounds(tensor: String, begin: Int, end: Int, bufferByteCount: Int)
    /// The byte range's length disagrees with shape × element size.
    case sizeMismatch(tensor: String, begin: Int, end: Int, shape: [Int], dtype: String, expectedByteCount: Int)
    /// Two tensors' byte ranges overlap.
    case overlappingData(tensor: String, other: String)
    /// Bytes between two tensors (or before the first) belong to no tensor.
    case gapInData(tensor: String, begin: Int, expectedBegin: Int)
    /// Bytes after the last tensor belong to no tensor.
    case unindexedTrailingBytes(indexedEnd: Int, bufferByteCount: Int)
    /// Writing: a tensor is named `__metadata__`, which the format reserves.
    case reservedTensorName(String)
    /// The file could not be opened or read.
    case unreadableFile(path: String, reason: String)

    public var description: String {
        switch self {
        case .fileTooSmall(let n):
            return "safetensors: expected at least 8 bytes (the header length), found \(n)"
        case .headerTooLarge(let declared, let limit):
            return "safetensors: header length \(declared) exceeds the limit of \(limit) bytes"
        case .headerExceedsFile(let declared, let available):
            return "safetensors: header length \(declared) exceeds the \(available) bytes after the length prefix (file truncated?)"
        case .headerNotUTF8(let offset):
            return "safetensors: header is not valid UTF-8 (at header byte \(offset))"
        case .invalidJSON(let offset, let reason):
            return "safetensors: header is not valid JSON at header byte \(offset): \(reason)"
        case .headerNotObject(let found):
            return "safetensors: header should be a JSON object, found \(found)"
        case .duplicateKey(let key):
            return "safetensors: key \(JSONWriter.quoted(key)) appears more than once in the header"
        case .invalidMetadata(let reason):
            return "safetensors: __metadata__ should be an object of strings: \(reason)"
        case .invalidEntry(let tensor, let found):
            return "tensor '\(tensor)': entry should be an object with dtype, shape and data_offsets, found \(found)"
        case .missingField(let tensor, let field):
            return "tensor '\(tensor)': missing field '\(field)'"
        case .invalidField(let tensor, let field, let expected, let found):
            return "tensor '\(tensor)': \(field) should be \(expected), found \(found)"
        case .unsupportedDtype(let tensor, let dtype):
            let supported = SafetensorsDType.allCases.map(\.rawValue).joined(separator: ", ")
            return "tensor '\(tensor)': dtype \(JSONWriter.quoted(dtype)) is not supported; expected one of \(supported)"
        case .invalidShape(let tensor, let index, let found):
            return "tensor '\(tensor)': shape[\(index)] should be a non-negative integer, found \(found)"
        case .shapeOverflow(let tensor, let shape, let dtype):
            return "tensor '\(tensor)': shape \(shape) of \(dtype) has a byte size that overflows a \(Int.bitWidth)-bit integer"
        case .dataOffsetsReversed(let tensor, let begin, let end):
            return "tensor '\(tensor)': data_offsets [\(begin), \(end)] should have begin <= end"
        case .dataOffsetsOutOfBounds(let tensor, let begin, let end, let size):
            return "tensor '\(tensor)': data_offsets [\(begin), \(end)] exceed the data buffer of \(size) bytes (file truncated?)"
        case .sizeMismatch(let tensor, let begin, let end, let shape, let dtype, let expected):
            return "tensor '\(tensor)': data_offsets [\(begin), \(end)] give \(end - begin) bytes but shape \(shape) of \(dtype) needs \(expected)"
        case .overlappingData(let tensor, let other):
            return "tensor '\(tensor)': its data overlaps that of tensor '\(other)'"
        case .gapInData(let tensor, let begin, let expected):
            return "tensor '\(tensor)': data should begin at byte \(expected) of the buffer (right after the previous tensor), found \(begin); the bytes in between belong to no tensor"
        case .unindexedTrailingBytes(let end, let size):
            return "safetensors: tensors cover the data buffer up to byte \(end), but it has \(size) bytes; the rest belongs to no tensor"
        case .reservedTensorName(let name):
            return "safetensors: '\(name)' is reserved for the metadata and cannot name a tensor"
        case .unreadableFile(let path, let reason):
            return "safetensors: cannot read '\(path)': \(reason)"
        }
    }
}
