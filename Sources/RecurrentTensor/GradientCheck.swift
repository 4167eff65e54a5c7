/// Result of `gradientCheck`: the worst disagreement between backward and finite differences.
public struct GradientCheckResult: CustomStringConvertible {
    /// max |analytic − numeric| / max(1, |numeric|) over every checked element.
    public var maxError: Double
    /// Where it occurred: input index and flat element index.
    public var worst: (input: Int, element: Int)
    public var description: String { "max error \(maxError) at input \(worst.input), element \(worst.element)" }
}

/// Checks the backward of `function` by central finite differences in Double.
///
/// The scalar checked is L = Σ w ⊙ f(inputs) with fixed random weights w, so every output element
/// contributes with a distinct weight. Inputs must have `requiresGrad` set; each is perturbed in
/// place by ±`epsilon` one element at a time.
public func gradientCheck(
    _ inputs: [Tensor<Double>], epsilon: Double = 1e-6, seed: UInt64 = 7,
    _ function: ([Tensor<Double>]) -> Tensor<Double>
) -> GradientCheckResult {
    var rng = RandomGenerator(seed: seed)
    for x in inputs { x.zeroGrad() }
    let probe = function(inputs)
    let weights = Tensor<Double>.uniform(probe.shape, low: -1, high: 1, generator: &rng)
    func loss() -> Double {
        withoutGrad { (function(inputs) * weights).sum().item }
    }
    (probe * weights).sum().backward()

    var result = GradientCheckResult(maxError: 0, worst: (0, 0))
    for (n, x) in inputs.enumerated() where x.requiresGrad {
        let analytic = x.grad?.scalars ?? [Double](repeating: 0, count: x.count)
        for i in 0..<x.count {
            let saved = x.data[i]
            x.data[i] = saved + epsilon
            let plus = loss()
            x.data[i] = saved - epsilon
            let minus = loss()
            x.data[i] = saved
            let numeric = (plus - minus) / (2 * epsilon)
            let err = Swift.abs(analytic[i] - numeric) / Swift.max(1, Swift.abs(numeric))
            if err > result.maxError { result = GradientCheckResult(maxError: err, worst: (n, i)) }
        }
    }
    return result
}
