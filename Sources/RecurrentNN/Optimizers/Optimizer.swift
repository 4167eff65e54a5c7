import RecurrentTensor

/// A first-order optimizer over a fixed list of parameters, PyTorch's update rules.
///
/// Parameters whose `grad` is nil are skipped, as in PyTorch. The per-parameter state (moments,
/// momentum buffers, step count) is exposed by name so a checkpoint can hold it and a resumed run
/// continues bit-identically.
public protocol Optimizer<Scalar>: AnyObject {
    /// The element type of the parameters.
    associatedtype Scalar: TensorScalar
    /// The tensors this optimizer updates, in a fixed order (state names refer to their indices).
    var parameters: [Tensor<Scalar>] { get }
    /// The step size; a schedule may change it between steps.
    var learningRate: Scalar { get set }
    /// Applies one update using each parameter's current `grad`.
    func step()
    /// State tensors by name: "<buffer>.<parameter index>", plus "step".
    func stateTensors() -> [String: Tensor<Scalar>]
    /// Restores what `stateTensors()` returned; throws when names or shapes do not fit these parameters.
    func loadState(_ state: [String: Tensor<Scalar>]) throws
}

extension Optimizer {
    /// Zeroes every parameter's gradient in place.
    public func zeroGrad() { for p in parameters { p.zeroGrad() } }
}

/// When the optimizers' updates run on two cores.
struct OptimizerSplit: Sendable {
    /// Below this many elements in all, an update runs on one core (waking the helper thread costs more
    /// than it saves).
    var minimumElements = 1 << 16
    /// Whether the split backs off on an oversubscribed machine (PairParallel.swift).
    var backsOff = true

    /// The rule of the updates run in this task (or thread); tests bind another with `$current.withValue`.
    @TaskLocal static var current = OptimizerSplit()
}

/// Runs `update(k, range)` over all the elements of every parameter k (`counts[k]` of them): on two cores
/// (`PairParallel`: part 0 takes the first half of every parameter, part 1 the rest) when there are at
/// least `OptimizerSplit.current.minimumElements` in all, else on this thread. The rules are element-wise, so each
/// element gets the same arithmetic either way and split and unsplit steps agree bit for bit.
/// `update` runs on the helper thread too: it must read no class properties (take pointers and
/// hyper-parameters into locals first).
func updateElementwise(counts: [Int], _ update: (Int, Range<Int>) -> Void) {
    func part(_ part: Int) {
        for (k, count) in counts.enumerated() {
            let half = Swift.min(count, (count / 2 + 15) & ~15)             // a 64-byte boundary for Float
            update(k, part == 0 ? 0..<half : half..<count)
        }
    }
    let split = OptimizerSplit.current
    if counts.reduce(0, +) < split.minimumElements || !PairParallel.run(backingOff: split.backsOff, part) {
        for (k, count) in counts.enumerated() { update(k, 0..<count) }
    }
}

/// An optimizer state that does not fit the parameters it is loaded into.
public enum OptimizerStateError: Error, CustomStringConvertible, Equatable {
    /// A state tensor of this name is absent.
    case missing(String)
    /// The step count is not a non-negative whole number.
    case invalidStep(Double)
    /// A state tensor's shape differs from its parameter's.
    case shapeMismatch(name: String, expected: [Int], found: [Int])

    public var description: String {
        switch self {
        case let .missing(name): "optimizer state: '\(name)' is missing"
        case let .invalidStep(value): "optimizer state: 'step' must be a whole number from 0 to 2^53, found \(value)"
        case let .shapeMismatch(name, expected, found): "optimizer state '\(name)': expected shape \(expected), found \(found)"
        }
    }
}

/// Named per-parameter buffers (zero-initialised, one per parameter) and their (de)serialisation.
final class OptimizerBuffers<Scalar: TensorScalar> {
    let names: [String]
    private(set) var buffers: [String: [Tensor<Scalar>]]
    var step = 0

    init(_ names: [String], like parameters: [Tensor<Scalar>], initialValue: Scalar = 0) {
        self.names = names
        buffers = Dictionary(uniqueKeysWithValues: names.map { name in
            (name, parameters.map { Tensor<Scalar>.full($0.shape, initialValue) })
        })
    }

    subscript(_ name: String, _ index: Int) -> UnsafeMutablePointer<Scalar> { buffers[name]![index].data }

    func export() -> [String: Tensor<Scalar>] {
        var out: [String: Tensor<Scalar>] = ["step": Tensor(scalar: Scalar(step))]
        for (name, list) in buffers { for (i, t) in list.enumerated() { out["\(name).\(i)"] = t.clone() } }
        return out
    }

    func load(_ state: [String: Tensor<Scalar>]) throws {
        guard let s = state["step"], s.count == 1 else { throw OptimizerStateError.missing("step") }
        let stepValue = Double(s.data[0])
        guard stepValue.isFinite, stepValue >= 0, stepValue <= 9_007_199_254_740_992, stepValue.rounded() == stepValue else {
            throw OptimizerStateError.invalidStep(stepValue)
        }
        for name in names {
            for (i, t) in buffers[name]!.enumerated() {
                let key = "\(name).\(i)"
                guard let value = state[key] else { throw OptimizerStateError.missing(key) }
                guard value.shape == t.shape else { throw OptimizerStateError.shapeMismatch(name: key, expected: t.shape, found: value.shape) }
            }
        }
        for (name, list) in buffers { for (i, t) in list.enumerated() { t.copy(from: state["\(name).\(i)"]!) } }
        step = Int(stepValue)
    }
}
