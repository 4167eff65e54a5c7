import RecurrentTensor

/// Base class of every layer and model: holds named parameters and child modules, and the train/eval mode.
///
/// Parameter names are PyTorch's: a child's parameters are prefixed with its name and a dot
/// (`encoder.weight_ih_l0`), so a PyTorch `state_dict()` maps onto `namedParameters()` one to one.
/// Subclasses register their parameters and children in `init`; registration order is iteration order.
///
/// Initial values: every module with random initial values has two constructors with the same labelled
/// sizes. `generator: &g` draws from a generator the caller shares across a model's modules, in a fixed
/// order, so a seeded model is reproducible. Leaving it out (`seed: UInt64 = 0`) gives the default
/// initialisation (PyTorch's, e.g. U(−1/√H, 1/√H) for recurrent weights) from a generator of its own: the
/// same seed gives the same values, so give independent modules different seeds, or overwrite the values
/// with `loadParameters`.
open class Module<Scalar: TensorScalar> {
    /// The parameters registered on this module itself (not its children), in registration order.
    public private(set) var ownParameters: [(name: String, tensor: Tensor<Scalar>)] = []
    /// The child modules, by name, in registration order.
    public private(set) var children: [(name: String, module: Module<Scalar>)] = []
    /// Train mode (dropout active) or eval mode.
    public private(set) var isTraining = true

    /// An empty module; subclasses register parameters and children in their own `init`.
    public init() {}

    /// Registers a trainable tensor under `name` and marks it `requiresGrad`.
    @discardableResult
    public func registerParameter(_ name: String, _ tensor: Tensor<Scalar>) -> Tensor<Scalar> {
        precondition(!ownParameters.contains { $0.name == name }, "registerParameter: '\(name)' registered twice")
        tensor.requiresGrad = true
        ownParameters.append((name, tensor))
        return tensor
    }

    /// Registers a child module under `name`; its parameters appear as `name.…`.
    @discardableResult
    public func registerModule<M: Module<Scalar>>(_ name: String, _ module: M) -> M {
        precondition(!children.contains { $0.name == name }, "registerModule: '\(name)' registered twice")
        children.append((name, module))
        return module
    }

    /// Every parameter with its dotted name, depth first in registration order.
    public func namedParameters() -> [(name: String, tensor: Tensor<Scalar>)] {
        var result = ownParameters
        for (childName, child) in children {
            result += child.namedParameters().map { ("\(childName).\($0.name)", $0.tensor) }
        }
        return result
    }

    /// Every parameter, depth first in registration order (the tensors of `namedParameters()`).
    public func parameters() -> [Tensor<Scalar>] { namedParameters().map(\.tensor) }

    /// Total number of trainable scalars.
    public var parameterCount: Int { parameters().reduce(0) { $0 + $1.count } }

    /// Sets train (`true`) or eval mode on this module and every descendant.
    public func train(_ on: Bool = true) {
        isTraining = on
        for (_, child) in children { child.train(on) }
    }

    /// Eval mode on this module and every descendant: dropout off. Same as `train(false)`.
    public func eval() { train(false) }

    /// Zeroes every parameter's gradient (in place, so flat gradient buffers stay valid).
    public func zeroGrad() {
        for p in parameters() { p.zeroGrad() }
    }

    /// Copies values from `state` (PyTorch `load_state_dict`). With `strict`, every parameter must be
    /// present and no extra names may appear. Shapes must match exactly.
    public func loadParameters(_ state: [String: Tensor<Scalar>], strict: Bool = true) throws {
        let named = namedParameters()
        let known = Set(named.map(\.name))
        if strict {
            let missing = named.map(\.name).filter { state[$0] == nil }
            let unexpected = state.keys.filter { !known.contains($0) }.sorted()
            if !missing.isEmpty || !unexpected.isEmpty {
                throw ModuleError.parameterNamesDiffer(missing: missing, unexpected: unexpected)
            }
        }
        for (name, p) in named {
            guard let value = state[name] else { continue }
            guard value.shape == p.shape else {
                throw ModuleError.shapeMismatch(name: name, expected: p.shape, found: value.shape)
            }
            p.copy(from: value)
        }
    }

    /// Copies of the parameters by name (PyTorch `state_dict`).
    public func stateDict() -> [String: Tensor<Scalar>] {
        Dictionary(uniqueKeysWithValues: namedParameters().map { ($0.name, $0.tensor.clone()) })
    }
}

/// A module mapping one tensor to one tensor; what `Sequential` chains.
open class UnaryModule<Scalar: TensorScalar>: Module<Scalar> {
    /// The module's computation; subclasses override it.
    open func forward(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        preconditionFailure("\(type(of: self)) must override forward(_:)")
    }

    /// Calls `forward(_:)`.
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> { forward(x) }
}

/// Errors from loading parameters that came from outside (files, other frameworks).
public enum ModuleError: Error, CustomStringConvertible, Equatable {
    /// `loadParameters` with `strict`: names the module has that the state lacks, and names the state has that the module lacks.
    case parameterNamesDiffer(missing: [String], unexpected: [String])
    /// A tensor in the state whose shape differs from the parameter of that name.
    case shapeMismatch(name: String, expected: [Int], found: [Int])

    public var description: String {
        switch self {
        case let .parameterNamesDiffer(missing, unexpected):
            var parts: [String] = []
            if !missing.isEmpty { parts.append("missing parameters: \(missing.joined(separator: ", "))") }
            if !unexpected.isEmpty { parts.append("unexpected parameters: \(unexpected.joined(separator: ", "))") }
            return "parameter names differ from the model's: " + parts.joined(separator: "; ")
        case let .shapeMismatch(name, expected, found):
            return "parameter '\(name)': the model expects shape \(expected), the file has \(found)"
        }
    }
}
