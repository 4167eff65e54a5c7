import Foundation
import RecurrentTensor
import SwiftProtobuf

/// The element types of the exported graphs' inputs and outputs.
public enum ONNXElementType: Sendable {
    /// float32 (values, weights), int32 (`sequence_lens`), int64 (ids, lengths, shapes), bool (masks).
    case float, int32, int64, bool

    var proto: Onnx_TensorProto.DataType {
        switch self {
        case .float: .float
        case .int32: .int32
        case .int64: .int64
        case .bool: .bool
        }
    }
}

/// One dimension of a graph input or output: a fixed size, or a named one the runtime fills in
/// (`"batch"`, `"steps"`): dimensions with the same name must agree.
public enum ONNXDimension: Sendable, Equatable, ExpressibleByIntegerLiteral, ExpressibleByStringLiteral {
    /// A size fixed by the model (vocabulary, hidden units).
    case fixed(Int)
    /// A size the runtime takes from the data, named (`"batch"`).
    case symbolic(String)

    public init(integerLiteral value: Int) { self = .fixed(value) }
    public init(stringLiteral value: String) { self = .symbolic(value) }
}

/// A tensor of the graph being built: a graph input, an initializer or a node's output, by its unique name.
public struct ONNXValue: Hashable, Sendable {
    /// The value's name in the graph.
    public let name: String
}

/// An attribute of a node.
public enum ONNXAttribute: Sendable {
    /// An integer attribute: name, value.
    case int(String, Int)
    /// A list of integers: name, values.
    case ints(String, [Int])
    /// A float: name, value.
    case float(String, Float)
    /// A UTF-8 string: name, value.
    case string(String, String)
    /// A list of strings: name, values.
    case strings(String, [String])
    /// A float32 tensor (ConstantOfShape's value).
    case floatTensor(String, [Float], shape: [Int])
    /// A subgraph (Scan's body).
    case graph(String, Onnx_GraphProto)

    var proto: Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        switch self {
        case let .int(name, v): (a.name, a.type, a.i) = (name, .int, Int64(v))
        case let .ints(name, v): (a.name, a.type, a.ints) = (name, .ints, v.map(Int64.init))
        case let .float(name, v): (a.name, a.type, a.f) = (name, .float, v)
        case let .string(name, v): (a.name, a.type, a.s) = (name, .string, Data(v.utf8))
        case let .strings(name, v): (a.name, a.type, a.strings) = (name, .strings, v.map { Data($0.utf8) })
        case let .floatTensor(name, v, shape):
            var t = Onnx_TensorProto()
            t.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
            t.dims = shape.map(Int64.init)
            t.floatData = v
            (a.name, a.type, a.t) = (name, .tensor, t)
        case let .graph(name, g): (a.name, a.type, a.g) = (name, .graph, g)
        }
        return a
    }
}

/// Builds an ONNX graph node by node: the graph's inputs, its weights (initializers), the operators, and
/// the outputs; `model()` wraps it in a `ModelProto` with the opset this library writes.
///
/// The layer methods (`linear`, `embedding`, `recurrent`, `apply`, … in the other files of this module)
/// add the nodes of one module each, so any model built from the layers can be exported:
///
///     let builder = ONNXGraphBuilder(name: "tagger")
///     let ids = builder.input("ids", .int64, ["steps", "batch"])
///     let x = try builder.apply(embedding, ids)                         // (T, B, E)
///     let r = try builder.recurrent(lstm, x, lengths: nil, h0: nil, c0: nil)
///     builder.output(try builder.apply(head, r.output), name: "logits", .float, ["steps", "batch", 9])
///     try builder.model().serializedData().write(to: url)
///
/// Values are named by the builder (`name` hints are made unique); weights are stored as float32.
public final class ONNXGraphBuilder {
    /// The default operator set (ai.onnx) of the exported models; every operator used exists in 14...17 as used.
    public static let opsetVersion = 17
    /// The IR version that goes with opset 17.
    public static let irVersion: Int64 = 8

    /// The graph so far.
    public private(set) var graph = Onnx_GraphProto()
    private var usedNames: Set<String> = []
    private var int64Constants: [[Int64]: ONNXValue] = [:]
    /// The graph a subgraph (a Scan body) belongs to: names are unique across both, and constants go to it
    /// (a subgraph reads its enclosing graph's initializers).
    private let parent: ONNXGraphBuilder?

    /// - Parameter name: the graph's name.
    public init(name: String) {
        graph.name = name
        parent = nil
    }

    /// A builder of a subgraph of `parent` (a Scan body).
    init(subgraphOf parent: ONNXGraphBuilder, name: String) {
        self.parent = parent
        graph.name = parent.uniqueName(name)
    }

    /// A name not used yet in this graph (or the graph it belongs to): `hint`, or `hint_2`, `hint_3`, ….
    func uniqueName(_ hint: String) -> String {
        if let parent { return parent.uniqueName(hint) }
        var name = hint, k = 1
        while usedNames.contains(name) {
            k += 1
            name = "\(hint)_\(k)"
        }
        usedNames.insert(name)
        return name
    }

    static func valueInfo(_ name: String, _ type: ONNXElementType, _ shape: [ONNXDimension]) -> Onnx_ValueInfoProto {
        var tensor = Onnx_TypeProto.Tensor()
        tensor.elemType = Int32(type.proto.rawValue)
        tensor.shape.dim = shape.map { d in
            var dim = Onnx_TensorShapeProto.Dimension()
            switch d {
            case let .fixed(n): dim.dimValue = Int64(n)
            case let .symbolic(s): dim.dimParam = s
            }
            return dim
        }
        var info = Onnx_ValueInfoProto()
        info.name = name
        info.type.tensorType = tensor
        return info
    }

    /// Declares a graph input named exactly `name`.
    public func input(_ name: String, _ type: ONNXElementType, _ shape: [ONNXDimension]) -> ONNXValue {
        if parent != nil {   // a subgraph's inputs are named by the builder
            let value = ONNXValue(name: uniqueName(name))
            graph.input.append(Self.valueInfo(value.name, type, shape))
            return value
        }
        precondition(!usedNames.contains(name), "ONNXGraphBuilder: the input name '\(name)' is taken")
        usedNames.insert(name)
        graph.input.append(Self.valueInfo(name, type, shape))
        return ONNXValue(name: name)
    }

    /// Declares a node's output `value` an output of this subgraph, as it is named.
    func subgraphOutput(_ value: ONNXValue, _ type: ONNXElementType, _ shape: [ONNXDimension]) {
        graph.output.append(Self.valueInfo(value.name, type, shape))
    }

    /// Declares `value` a graph output named exactly `name` (through an Identity node).
    public func output(_ value: ONNXValue, name: String, _ type: ONNXElementType, _ shape: [ONNXDimension]) {
        precondition(!usedNames.contains(name), "ONNXGraphBuilder: the output name '\(name)' is taken")
        usedNames.insert(name)
        var node = Onnx_NodeProto()
        node.opType = "Identity"
        node.name = uniqueName("output_\(name)")
        node.input = [value.name]
        node.output = [name]
        graph.node.append(node)
        graph.output.append(Self.valueInfo(name, type, shape))
    }

    /// A float32 initializer holding `values` in row-major order.
    public func constant(_ values: [Float], shape: [Int], name hint: String) -> ONNXValue {
        if let parent { return parent.constant(values, shape: shape, name: hint) }
        precondition(values.count == shape.reduce(1, *), "ONNXGraphBuilder.constant: \(values.count) values for shape \(shape)")
        var t = Onnx_TensorProto()
        t.name = uniqueName(hint)
        t.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        t.dims = shape.map(Int64.init)
        t.rawData = values.withUnsafeBufferPointer { Data(buffer: $0) }   // little-endian on every platform Swift runs on here
        graph.initializer.append(t)
        return ONNXValue(name: t.name)
    }

    /// A tensor's values as a float32 initializer.
    public func constant(_ tensor: Tensor<Float>, name hint: String) -> ONNXValue {
        constant(tensor.scalars, shape: tensor.shape, name: hint)
    }

    /// An int64 initializer (shapes, axes, indices); equal constants are shared.
    public func constant(int64 values: [Int64], shape: [Int]? = nil) -> ONNXValue {
        if let parent { return parent.constant(int64: values, shape: shape) }
        let shape = shape ?? [values.count]
        if shape == [values.count], let known = int64Constants[values] { return known }
        var t = Onnx_TensorProto()
        t.name = uniqueName("const_i64")
        t.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
        t.dims = shape.map(Int64.init)
        t.int64Data = values
        graph.initializer.append(t)
        let value = ONNXValue(name: t.name)
        if shape == [values.count] { int64Constants[values] = value }
        return value
    }

    /// Appends one node; nil inputs are ONNX's omitted optional inputs ("").
    /// - Returns: its `outputs` values, named after `name` (or the operator).
    @discardableResult
    public func node(_ op: String, _ inputs: [ONNXValue?], outputs: Int = 1, name hint: String? = nil,
                     attributes: [ONNXAttribute] = []) -> [ONNXValue] {
        var node = Onnx_NodeProto()
        node.opType = op
        let base = uniqueName(hint ?? op.lowercased())
        node.name = base
        var inputs = inputs
        while let last = inputs.last, last == nil { inputs.removeLast() }     // trailing optional inputs are left out
        node.input = inputs.map { $0?.name ?? "" }
        let results = (0..<outputs).map { k in ONNXValue(name: uniqueName(outputs == 1 ? "\(base)_out" : "\(base)_out\(k)")) }
        node.output = results.map(\.name)
        node.attribute = attributes.map(\.proto)
        graph.node.append(node)
        return results
    }

    /// `node` for the operators with one output.
    public func op(_ op: String, _ inputs: ONNXValue?..., name hint: String? = nil, attributes: [ONNXAttribute] = []) -> ONNXValue {
        node(op, inputs, outputs: 1, name: hint, attributes: attributes)[0]
    }

    /// The graph as a model: IR version 8, opset 17, producer "Recurrent", and `metadata` as `metadata_props`
    /// (ONNX Runtime: `session.get_modelmeta().custom_metadata_map`).
    public func model(docString: String = "", metadata: [String: String] = [:]) -> Onnx_ModelProto {
        var model = Onnx_ModelProto()
        model.irVersion = Self.irVersion
        model.producerName = "Recurrent"
        model.producerVersion = "1"
        var opset = Onnx_OperatorSetIdProto()
        opset.domain = ""
        opset.version = Int64(Self.opsetVersion)
        model.opsetImport = [opset]
        model.docString = docString
        model.metadataProps = metadata.keys.sorted().map { key in
            var entry = Onnx_StringStringEntryProto()
            entry.key = key
            entry.value = metadata[key]!
            return entry
        }
        model.graph = graph
        return model
    }
}

extension Onnx_ModelProto {
    /// Writes the model's protobuf encoding to `url` (atomically).
    public func write(to url: URL) throws {
        try serializedData().write(to: url, options: .atomic)
    }
}
