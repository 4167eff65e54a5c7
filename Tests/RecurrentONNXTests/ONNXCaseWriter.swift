import Foundation
import RecurrentONNX
import RecurrentTensor

/// An array for a .npy file: float32 or int64, row-major.
enum NumpyValue {
    case float([Float], shape: [Int])
    case int64([Int64], shape: [Int])

    init(_ tensor: Tensor<Float>) { self = .float(tensor.scalars, shape: tensor.shape) }
    init(ints: [Int], shape: [Int]) { self = .int64(ints.map(Int64.init), shape: shape) }

    /// NumPy's format 1.0: magic, header length, a Python dict literal padded to 64 bytes, the raw little-endian values.
    var npyData: Data {
        let (descr, shape, body): (String, [Int], Data) = switch self {
        case let .float(v, s): ("<f4", s, v.withUnsafeBufferPointer { Data(buffer: $0) })
        case let .int64(v, s): ("<i8", s, v.withUnsafeBufferPointer { Data(buffer: $0) })
        }
        let dims = shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? "," : "")
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': (\(dims)), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        let length = UInt16(header.utf8.count)
        data.append(contentsOf: [UInt8(length & 0xff), UInt8(length >> 8)])
        data.append(Data(header.utf8))
        data.append(body)
        return data
    }
}

/// Writes the cases `Scripts/check_onnx.py` runs through ONNX Runtime: CASES/<name>/model.onnx, input.<x>.npy for every
/// graph input and output.<y>.npy with Recurrent's value of every graph output. CASES is the folder named by
/// RECURRENT_ONNX_CASES (`make test` sets it); without it the cases go to a temporary folder that is removed again, so the
/// export and the writing still run.
final class ONNXCaseWriter {
    let root: URL
    let keeps: Bool
    private(set) var written: [String] = []

    init() throws {
        if let folder = ProcessInfo.processInfo.environment["RECURRENT_ONNX_CASES"], !folder.isEmpty {
            root = URL(fileURLWithPath: folder)
            keeps = true
        } else {
            root = FileManager.default.temporaryDirectory.appendingPathComponent("recurrent-onnx-cases-\(UUID().uuidString)")
            keeps = false
        }
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    func write(_ name: String, model: Onnx_ModelProto, inputs: [String: NumpyValue], outputs: [String: NumpyValue]) throws {
        let folder = root.appendingPathComponent(name)
        try? FileManager.default.removeItem(at: folder)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try model.write(to: folder.appendingPathComponent("model.onnx"))
        for (key, value) in inputs { try value.npyData.write(to: folder.appendingPathComponent("input.\(key).npy")) }
        for (key, value) in outputs { try value.npyData.write(to: folder.appendingPathComponent("output.\(key).npy")) }
        written.append(name)
    }

    func finish() {
        if !keeps { try? FileManager.default.removeItem(at: root) }
    }
}
