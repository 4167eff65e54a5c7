import Foundation
import RecurrentNN
import RecurrentTensor

/// What flows backwards through a model's recurrences for one batch: the norm of ∂L/∂h_t for every
/// step t of every layer and direction, the norm of every parameter's gradient, and the largest
/// singular values of every recurrent weight matrix.
///
/// The classic picture (Bengio, Simard & Frasconi 1994; Pascanu, Mikolov & Bengio 2013): with the
/// loss taken at the last step T, ∂L/∂h_t is a product of T − t Jacobians diag(f′)·W_hh, so a tanh
/// RNN's norm shrinks (or grows) geometrically with the distance T − t; an LSTM's cell path keeps it.
public struct GradientFlowReport: Sendable {
    /// ‖∂L/∂h_t‖ of one layer and direction (for Jordan networks, of the fed-back output y_t).
    public struct StateGradients: Sendable, Equatable {
        /// "<module>.l<layer>" with "_reverse" for the backward direction, e.g. "rnn.l0_reverse".
        public var name: String
        /// Indexed by t in 0..<T; the norm over the batch (Frobenius norm of the (B, H) gradient).
        public var norms: [Double]
    }
    /// The norm of one parameter's gradient.
    public struct ParameterGradient: Sendable, Equatable {
        /// The parameter's dotted name.
        public var name: String
        /// The parameter's shape.
        public var shape: [Int]
        /// ‖∂L/∂θ‖, the Euclidean norm of its gradient.
        public var norm: Double
    }
    /// The largest singular values of one recurrent matrix (a whole W_hh, one gate's block of it, or
    /// for Jordan networks the y→y product W_ho·W_yh).
    public struct SingularValues: Sendable, Equatable {
        /// Which matrix: the parameter name, with the gate for a block.
        public var name: String
        /// The largest singular values, largest first.
        public var values: [Double]
    }

    /// Sequence length T.
    public var steps: Int
    /// The loss the gradients are of.
    public var loss: Double
    /// ‖∂L/∂h_t‖ of every layer and direction.
    public var states: [StateGradients]
    /// Every parameter's gradient norm.
    public var parameters: [ParameterGradient]
    /// The largest singular values of every recurrent matrix.
    public var singularValues: [SingularValues]

    /// ‖∂L/∂h_{T−1−d}‖ / ‖∂L/∂h_{T−1}‖ of `state` at distance d (nil when out of range or the last norm is 0).
    public func decay(_ state: StateGradients, distance d: Int) -> Double? {
        guard d >= 0, d < state.norms.count, let last = state.norms.last, last > 0 else { return nil }
        return state.norms[state.norms.count - 1 - d] / last
    }

    /// The global norm of all parameter gradients, what global-norm clipping compares with its threshold.
    public var totalGradientNorm: Double { parameters.reduce(0) { $0 + $1.norm * $1.norm }.squareRoot() }

    /// `t,distance,<state names…>`: one row per step; distance = T − 1 − t. A layer over shorter sequences (a tagger's
    /// character BiLSTM, whose steps are characters) is aligned at its last step, its cells empty before its first.
    public var stateGradientsCSV: String {
        var out = (["t", "distance"] + states.map(\.name)).joined(separator: ",") + "\n"
        for t in 0..<steps {
            let cells = states.map { state in
                let k = t - (steps - state.norms.count)
                return k >= 0 ? formatted(state.norms[k]) : ""
            }
            out += (["\(t)", "\(steps - 1 - t)"] + cells).joined(separator: ",") + "\n"
        }
        return out
    }

    /// `name,shape,grad_norm`: one row per parameter, shape as `4x16`.
    public var parameterGradientsCSV: String {
        "name,shape,grad_norm\n" + parameters.map { "\($0.name),\($0.shape.map(String.init).joined(separator: "x")),\(formatted($0.norm))\n" }.joined()
    }

    /// `matrix,index,singular_value`: index 1 is the largest.
    public var singularValuesCSV: String {
        "matrix,index,singular_value\n" + singularValues.flatMap { s in
            s.values.enumerated().map { "\(s.name),\($0.offset + 1),\(formatted($0.element))\n" }
        }.joined()
    }

    func formatted(_ v: Double) -> String { String(format: "%.6g", v) }
}

/// Measures gradient flow through a model built from this library's modules.
public enum GradientFlow {
    /// Runs `loss` (a forward pass ending in a scalar loss, which should be taken at the last step
    /// only, so ∂L/∂h_t measures how far back a signal travels), backpropagates it, and reads what every
    /// `RecurrentLayer` and `Jordan` module inside `model` recorded.
    ///
    /// The parameters' gradients are zeroed first and left holding this batch's gradients.
    /// - Parameters:
    ///   - model: the module tree searched for recurrent layers (by `children`).
    ///   - singularValueCount: how many singular values of each recurrent matrix to estimate.
    ///   - loss: the forward pass; it must go through `model`'s recurrent layers.
    public static func measure<Scalar: TensorScalar>(model: Module<Scalar>, singularValueCount: Int = 3,
                                                     loss: () -> Tensor<Scalar>) -> GradientFlowReport {
        let layers = recurrentModules(in: model)
        let saved = layers.map(\.module.recordsNorms)
        for entry in layers { entry.module.recordsNorms = true }
        defer { for (entry, flag) in zip(layers, saved) { entry.module.recordsNorms = flag } }

        model.zeroGrad()
        let value = loss()
        precondition(value.count == 1, "GradientFlow.measure: the loss must be a scalar, got shape \(value.shape)")
        value.backward()

        var states: [GradientFlowReport.StateGradients] = []
        var steps = 0
        for entry in layers {
            for (index, norms) in entry.module.recordedNorms.enumerated() where !norms.isEmpty {
                let D = entry.module.directionCount
                states.append(.init(name: "\(entry.path).l\(index / D)" + (index % D == 1 ? "_reverse" : ""), norms: norms))
                steps = max(steps, norms.count)
            }
        }
        let parameters = model.namedParameters().map { named in
            GradientFlowReport.ParameterGradient(name: named.name, shape: named.tensor.shape, norm: frobeniusNorm(named.tensor.grad))
        }
        var singular: [GradientFlowReport.SingularValues] = []
        for entry in layers {
            for (name, matrix) in entry.module.recurrentMatrices() {
                let k = min(singularValueCount, matrix.shape[0], matrix.shape[1])
                singular.append(.init(name: entry.path + "." + name, values: largestSingularValues(of: matrix, count: k)))
            }
        }
        return GradientFlowReport(steps: steps, loss: Double(value.item), states: states, parameters: parameters, singularValues: singular)
    }

    /// Every recurrent module under `root` (itself included) with its dotted path ("" for the root).
    static func recurrentModules<Scalar>(in root: Module<Scalar>) -> [(path: String, module: any RecordsStateGradients<Scalar>)] {
        var found: [(String, any RecordsStateGradients<Scalar>)] = []
        func visit(_ module: Module<Scalar>, _ path: String) {
            if let r = module as? any RecordsStateGradients<Scalar> { found.append((path, r)) }
            for (name, child) in module.children { visit(child, path.isEmpty ? name : path + "." + name) }
        }
        visit(root, "")
        return found
    }

    static func frobeniusNorm<Scalar>(_ t: Tensor<Scalar>?) -> Double {
        guard let t else { return 0 }
        var s = 0.0
        for i in 0..<t.count { let x = Double(t.data[i]); s += x * x }
        return s.squareRoot()
    }
}

/// A recurrent module that can record ‖∂L/∂state_t‖ during backward (`RecurrentLayer`, `Jordan`).
protocol RecordsStateGradients<Scalar>: AnyObject {
    associatedtype Scalar: TensorScalar
    var recordsNorms: Bool { get set }
    /// [layer · D + direction][t]
    var recordedNorms: [[Double]] { get }
    var directionCount: Int { get }
    /// The matrices whose products carry the state from step to step, by name.
    func recurrentMatrices() -> [(String, Tensor<Scalar>)]
}

extension RecurrentLayer: RecordsStateGradients {
    var recordsNorms: Bool {
        get { recordsHiddenGradientNorms }
        set { recordsHiddenGradientNorms = newValue }
    }
    var recordedNorms: [[Double]] { hiddenGradientNorms.map { $0.map(Double.init) } }
    var directionCount: Int { directions }

    /// Each weight_hh, whole and per gate block (LSTM i, f, g, o; GRU r, z, n).
    func recurrentMatrices() -> [(String, Tensor<Scalar>)] {
        let gates: [String] = switch kind {
        case .lstm: ["i", "f", "g", "o"]
        case .gru, .gruResetBefore: ["r", "z", "n"]
        default: []
        }
        return namedParameters().filter { $0.name.hasPrefix("weight_hh") }.flatMap { named -> [(String, Tensor<Scalar>)] in
            let w = named.tensor, H = hiddenSize
            let blocks = gates.enumerated().map { (g, gate) in (named.name + "[\(gate)]", withoutGrad { w.slice(axis: 0, (g * H)..<((g + 1) * H)) }) }
            return [(named.name, w)] + blocks
        }
    }
}

extension Jordan: RecordsStateGradients {
    var recordsNorms: Bool {
        get { recordsHiddenGradientNorms }
        set { recordsHiddenGradientNorms = newValue }
    }
    var recordedNorms: [[Double]] { hiddenGradientNorms.map { $0.map(Double.init) } }
    var directionCount: Int { directions }

    /// Each weight_yh and weight_ho, and their product W_ho·W_yh (O, O), the linear part of the y_{t−1} → y_t map.
    func recurrentMatrices() -> [(String, Tensor<Scalar>)] {
        let named = Dictionary(uniqueKeysWithValues: namedParameters().map { ($0.name, $0.tensor) })
        var out: [(String, Tensor<Scalar>)] = []
        for k in 0..<numLayers {
            for d in 0..<directions {
                let suffix = "_l\(k)" + (d == 1 ? "_reverse" : "")
                guard let yh = named["weight_yh" + suffix], let ho = named["weight_ho" + suffix] else { continue }
                out += [("weight_yh" + suffix, yh), ("weight_ho" + suffix, ho),
                        ("weight_ho\(suffix)·weight_yh\(suffix)", withoutGrad { ho.matmul(yh) })]
            }
        }
        return out
    }
}
