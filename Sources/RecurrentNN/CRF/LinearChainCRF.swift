import RecurrentTensor

/// How `LinearChainCRF.negativeLogLikelihood` reduces the per-sequence losses (pytorch-crf's `reduction`).
public enum CRFReduction: String, Codable, CaseIterable, Sendable {
    /// One loss per sequence, shape (B).
    case none
    /// Sum over the batch (pytorch-crf's default).
    case sum
    /// Mean over the sequences of the batch.
    case mean
    /// Sum divided by the number of scored tokens (Σ lengths).
    case tokenMean
}

/// A linear-chain conditional random field over tag sequences, pytorch-crf's `CRF` (Lample et al. 2016).
///
/// Parameters, with pytorch-crf's names and initialisation U(−0.1, 0.1) in this order:
/// `start_transitions` (K), `end_transitions` (K), `transitions` (K, K) where `transitions[i, j]` scores
/// tag j following tag i. A `state_dict()` of `torchcrf.CRF` loads with `loadParameters`.
///
/// Emissions are **time-major** (T, B, K), as `SequenceTagger`'s logits and pytorch-crf's default
/// `batch_first=False`; per-sequence `lengths` replace pytorch-crf's mask (a prefix mask: step t of
/// sequence b counts when t < lengths[b]). Tags past a sequence's length are ignored, so padding may
/// hold anything (an ignore index, for example).
///
/// With `constraints`, disallowed transitions get `TransitionConstraints.penalty` added to their score,
/// in the likelihood and in decoding alike.
public final class LinearChainCRF<Scalar: TensorScalar>: Module<Scalar> {
    /// (K) score of starting a sequence with each tag.
    public let startTransitions: Tensor<Scalar>
    /// (K) score of ending a sequence with each tag.
    public let endTransitions: Tensor<Scalar>
    /// (K, K) score of tag j (column) following tag i (row).
    public let transitions: Tensor<Scalar>
    /// Transitions that are never allowed, or nil for none.
    public let constraints: TransitionConstraints?
    /// Tags K.
    public var tagCount: Int { startTransitions.count }

    /// - Parameters:
    ///   - tagCount: tags K (at least 1).
    ///   - constraints: disallowed transitions (their `tagCount` must be K), or nil.
    ///   - generator: source of the U(−0.1, 0.1) initial values, shared with the modules built after this one.
    public init(tagCount: Int, constraints: TransitionConstraints? = nil, generator: inout RandomGenerator) {
        precondition(tagCount > 0, "LinearChainCRF: tagCount must be positive, got \(tagCount)")
        precondition(constraints.map { $0.tagCount == tagCount } ?? true,
                     "LinearChainCRF: constraints for \(constraints?.tagCount ?? 0) tags, CRF has \(tagCount)")
        startTransitions = .uniform([tagCount], low: -0.1, high: 0.1, generator: &generator)
        endTransitions = .uniform([tagCount], low: -0.1, high: 0.1, generator: &generator)
        transitions = .uniform([tagCount, tagCount], low: -0.1, high: 0.1, generator: &generator)
        self.constraints = constraints
        super.init()
        registerParameter("start_transitions", startTransitions)
        registerParameter("end_transitions", endTransitions)
        registerParameter("transitions", transitions)
    }

    /// pytorch-crf's initialisation, U(−0.1, 0.1), from a generator seeded with `seed`.
    public convenience init(tagCount: Int, constraints: TransitionConstraints? = nil, seed: UInt64 = 0) {
        var generator = RandomGenerator(seed: seed)
        self.init(tagCount: tagCount, constraints: constraints, generator: &generator)
    }

    /// Negative log-likelihood of the gold tags, −log p(tags | emissions), as one autograd node
    /// (pytorch-crf's `forward` returns the log-likelihood; this is its negative).
    /// - Parameters:
    ///   - emissions: (T, B, K) unnormalised tag scores.
    ///   - tags: (T, B) gold tag ids, row-major; each in 0..<K within its sequence's length, anything past it.
    ///   - lengths: (B) steps of each sequence, in 1...T.
    ///   - reduction: how the B losses are combined; `.sum` by default, as pytorch-crf.
    /// - Returns: a scalar, or (B) with `.none`.
    public func negativeLogLikelihood(_ emissions: Tensor<Scalar>, tags: [Int], lengths: [Int], reduction: CRFReduction = .sum) -> Tensor<Scalar> {
        let (T, B) = checkShapes("negativeLogLikelihood", emissions, lengths: lengths)
        precondition(tags.count == T * B, "LinearChainCRF.negativeLogLikelihood: \(tags.count) tags for emissions \(emissions.shape), expected T·B = \(T * B)")
        let K = tagCount
        for b in 0..<B {
            for t in 0..<lengths[b] {
                precondition(tags[t * B + b] >= 0 && tags[t * B + b] < K,
                             "LinearChainCRF.negativeLogLikelihood: tag \(tags[t * B + b]) at step \(t) of sequence \(b) outside 0..<\(K)")
            }
        }
        let scores = CRFScores(start: startTransitions, end: endTransitions, transitions: transitions, constraints: constraints)
        let saved = scores.forward(emissions.data, tags: tags, steps: T, batch: B, lengths: lengths)
        let losses = zip(saved.logPartition, saved.goldScore).map { $0 - $1 }       // (B)
        let tokens = Scalar(lengths.reduce(0, +))
        let output: Tensor<Scalar> = switch reduction {
        case .none: Tensor(losses, shape: [B])
        case .sum: Tensor(scalar: losses.reduce(0, +))
        case .mean: Tensor(scalar: losses.reduce(0, +) / Scalar(B))
        case .tokenMean: Tensor(scalar: losses.reduce(0, +) / tokens)
        }
        let inputs = [emissions, startTransitions, endTransitions, transitions]
        return Tensor.record("crfNegativeLogLikelihood", inputs: inputs, output: output) { [emissions = emissions.detached()] g in
            let weights: [Scalar] = switch reduction {
            case .none: g.scalars
            case .sum: Array(repeating: g.item, count: B)
            case .mean: Array(repeating: g.item / Scalar(B), count: B)
            case .tokenMean: Array(repeating: g.item / tokens, count: B)
            }
            let grads = inputs.map { $0.requiresGrad ? Tensor<Scalar>(zeros: $0.shape) : nil }
            scores.backward(emissions.data, tags: tags, steps: T, batch: B, lengths: lengths, saved: saved, weights: weights,
                            dEmissions: grads[0]?.data, dStart: grads[1]?.data, dEnd: grads[2]?.data, dTransitions: grads[3]?.data)
            return grads
        }
    }

    /// The highest-scoring tag path of each sequence (Viterbi), under the constraints if any.
    /// - Parameters:
    ///   - emissions: (T, B, K) unnormalised tag scores.
    ///   - lengths: (B) steps of each sequence, in 1...T.
    /// - Returns: B paths of tag ids, path b of length `lengths[b]`.
    public func decode(_ emissions: Tensor<Scalar>, lengths: [Int]) -> [[Int]] {
        let (T, B) = checkShapes("decode", emissions, lengths: lengths)
        let scores = CRFScores(start: startTransitions, end: endTransitions, transitions: transitions, constraints: constraints)
        return scores.viterbi(emissions.data, steps: T, batch: B, lengths: lengths)
    }

    /// (T, B) of emissions shaped (T, B, K) with B lengths in 1...T; traps otherwise (a programmer error:
    /// the lengths come from a batch built from the same data).
    private func checkShapes(_ op: String, _ emissions: Tensor<Scalar>, lengths: [Int]) -> (Int, Int) {
        precondition(emissions.rank == 3 && emissions.shape[2] == tagCount,
                     "LinearChainCRF.\(op): emissions \(emissions.shape), expected (T, B, \(tagCount))")
        let (T, B) = (emissions.shape[0], emissions.shape[1])
        precondition(B > 0 && lengths.count == B, "LinearChainCRF.\(op): \(lengths.count) lengths for batch \(B), expected B ≥ 1 of them")
        precondition(lengths.allSatisfy { $0 >= 1 && $0 <= T }, "LinearChainCRF.\(op): lengths \(lengths) must be in 1...\(T)")
        return (T, B)
    }
}
