import RecurrentTensor

/// How a decoder query is scored against the encoder's outputs (the keys, which are also the values).
public enum AttentionKind: String, Sendable, CaseIterable, Codable {
    /// Bahdanau et al. 2015 (additive): score = vᵀ tanh(W_q q + b_q + W_k k + b_k), with the decoder's
    /// previous state as the query.
    case bahdanau
    /// Luong et al. 2015, dot: score = qᵀ k (query and key sizes must agree).
    case luongDot = "luong-dot"
    /// Luong et al. 2015, general: score = qᵀ W_a k.
    case luongGeneral = "luong-general"
    /// Luong et al. 2015, concat: score = vᵀ tanh(W_a [q; k]).
    case luongConcat = "luong-concat"

    /// Whether the query is the decoder state before the step (Bahdanau) or after it (Luong).
    public var queriesPreviousState: Bool { self == .bahdanau }
}

/// Keys prepared for attention over one batch of source sequences: the keys themselves, their
/// projection (for the kinds that project keys, computed once per source instead of once per step),
/// and the padding mask.
public struct AttentionMemory<Scalar: TensorScalar> {
    /// (B, S, K) the encoder outputs.
    public let keys: Tensor<Scalar>
    /// (B, S, A) W_k k + b_k for Bahdanau, W_k k for Luong concat, W_a k (B, S, Q) for Luong general; nil for dot.
    public let projectedKeys: Tensor<Scalar>?
    /// (B·S) row-major, true at padded source positions (never attended to).
    public let padding: [Bool]
    /// B, the number of source sequences.
    public var batch: Int { keys.shape[0] }
    /// S, the padded source length.
    public var sourceLength: Int { keys.shape[1] }

    /// The same memory for the rows `rows` of the batch (repeats allowed): beams share their sentence's memory.
    public func selecting(rows: [Int]) -> AttentionMemory {
        let s = sourceLength
        var mask: [Bool] = []
        mask.reserveCapacity(rows.count * s)
        for r in rows { mask += padding[(r * s)..<((r + 1) * s)] }
        return AttentionMemory(keys: keys.indexSelect(axis: 0, indices: rows),
                               projectedKeys: projectedKeys?.indexSelect(axis: 0, indices: rows), padding: mask)
    }
}

/// Attention over a padded batch of encoder outputs: scores every source position against a query,
/// masks padded positions with −∞ before the softmax (so they get weight exactly 0), and returns the
/// weighted sum of the keys (the context) with the weights.
///
/// Parameter names by kind (PyTorch `Linear` layout, weight (out, in)):
/// - bahdanau: `query_layer.weight` (A, Q), `query_layer.bias` (A), `key_layer.weight` (A, K), `key_layer.bias` (A), `energy_layer.weight` (1, A)
/// - luong-dot: none
/// - luong-general: `key_layer.weight` (Q, K)
/// - luong-concat: `weight` (A, Q + K), `energy_layer.weight` (1, A)
///
/// Every op is a composed autograd op (matmul, bmm, tanh, maskedFill, softmax), so gradients come
/// from their backward passes.
public final class Attention<Scalar: TensorScalar>: Module<Scalar> {
    /// The scoring function.
    public let kind: AttentionKind
    /// Q, the query (decoder state) width; K, the key (encoder output) width; A, the hidden width of the additive scores.
    public let querySize: Int, keySize: Int, attentionSize: Int
    /// W_q and b_q of Bahdanau's scores (`query_layer`); nil for the Luong kinds.
    public let queryLayer: Linear<Scalar>?
    /// W_k and b_k of Bahdanau's scores, or Luong general's W_a (`key_layer`); nil for dot and concat.
    public let keyLayer: Linear<Scalar>?
    /// v of the additive scores (`energy_layer`, no bias); nil for dot and general.
    public let energyLayer: Linear<Scalar>?
    /// Luong concat's W_a (A, Q + K).
    public let concatWeight: Tensor<Scalar>?

    /// - Parameters:
    ///   - kind: the scoring function.
    ///   - querySize: Q, the decoder state's width.
    ///   - keySize: K, the encoder output's width (must equal Q for `luongDot`).
    ///   - attentionSize: A, the hidden width of the additive kinds (ignored by dot and general).
    ///   - generator: source of the initial values, shared with the modules built after this one.
    public init(kind: AttentionKind, querySize: Int, keySize: Int, attentionSize: Int, generator: inout RandomGenerator) {
        precondition(querySize > 0 && keySize > 0 && attentionSize > 0, "Attention: sizes must be positive")
        precondition(kind != .luongDot || querySize == keySize, "Attention(luong-dot): query size \(querySize) differs from key size \(keySize)")
        self.kind = kind
        self.querySize = querySize
        self.keySize = keySize
        self.attentionSize = attentionSize
        switch kind {
        case .bahdanau:
            queryLayer = Linear(inputSize: querySize, outputSize: attentionSize, generator: &generator)
            keyLayer = Linear(inputSize: keySize, outputSize: attentionSize, generator: &generator)
            energyLayer = Linear(inputSize: attentionSize, outputSize: 1, bias: false, generator: &generator)
            concatWeight = nil
        case .luongDot:
            (queryLayer, keyLayer, energyLayer, concatWeight) = (nil, nil, nil, nil)
        case .luongGeneral:
            queryLayer = nil
            keyLayer = Linear(inputSize: keySize, outputSize: querySize, bias: false, generator: &generator)
            (energyLayer, concatWeight) = (nil, nil)
        case .luongConcat:
            let bound = 1 / Scalar(querySize + keySize).squareRoot()
            concatWeight = .uniform([attentionSize, querySize + keySize], low: -bound, high: bound, generator: &generator)
            (queryLayer, keyLayer) = (nil, nil)
            energyLayer = Linear(inputSize: attentionSize, outputSize: 1, bias: false, generator: &generator)
        }
        super.init()
        if let queryLayer { registerModule("query_layer", queryLayer) }
        if let keyLayer { registerModule("key_layer", keyLayer) }
        if let concatWeight { registerParameter("weight", concatWeight) }
        if let energyLayer { registerModule("energy_layer", energyLayer) }
    }

    /// The default initialisation (PyTorch's for each `Linear`) from a generator seeded with `seed`.
    public convenience init(kind: AttentionKind, querySize: Int, keySize: Int, attentionSize: Int, seed: UInt64 = 0) {
        var generator = RandomGenerator(seed: seed)
        self.init(kind: kind, querySize: querySize, keySize: keySize, attentionSize: attentionSize, generator: &generator)
    }

    /// Projects the keys once per source batch.
    /// - Parameters:
    ///   - keys: (B, S, K) encoder outputs, zero or anything at padded positions.
    ///   - lengths: (B) valid source positions of each row, in 1...S.
    public func memory(keys: Tensor<Scalar>, lengths: [Int]) -> AttentionMemory<Scalar> {
        precondition(keys.rank == 3 && keys.shape[2] == keySize, "Attention: keys must be (B, S, \(keySize)), got \(keys.shape)")
        let (b, s) = (keys.shape[0], keys.shape[1])
        precondition(lengths.count == b && lengths.allSatisfy { $0 >= 1 && $0 <= s }, "Attention: lengths \(lengths) for keys \(keys.shape)")
        var padding = [Bool](repeating: false, count: b * s)
        for r in 0..<b { for j in lengths[r]..<s { padding[r * s + j] = true } }
        let projected: Tensor<Scalar>?
        switch kind {
        case .bahdanau: projected = keyLayer!(keys)                                           // (B, S, A)
        case .luongDot: projected = nil
        case .luongGeneral: projected = keyLayer!(keys)                                       // (B, S, Q)
        case .luongConcat:
            let wk = concatWeight!.slice(axis: 1, querySize..<(querySize + keySize))          // (A, K)
            projected = keys.matmul(wk, transposeOther: true)                                 // (B, S, A)
        }
        return AttentionMemory(keys: keys, projectedKeys: projected, padding: padding)
    }

    /// Unnormalised scores of `query` against every source position, padded ones set to −∞.
    /// - Parameters:
    ///   - query: (B, Q)
    ///   - memory: from `memory(keys:lengths:)`, same B.
    /// - Returns: (B, S)
    public func scores(_ query: Tensor<Scalar>, _ memory: AttentionMemory<Scalar>) -> Tensor<Scalar> {
        let (b, s) = (memory.batch, memory.sourceLength)
        checkShapes("Attention query", query.shape, [b, querySize], query.shape == [b, querySize])
        let raw: Tensor<Scalar>
        switch kind {
        case .bahdanau, .luongConcat:
            let q: Tensor<Scalar>                                                            // (B, A)
            if kind == .bahdanau {
                q = queryLayer!(query)
            } else {
                q = query.matmul(concatWeight!.slice(axis: 1, 0..<querySize), transposeOther: true)
            }
            let energy = (memory.projectedKeys! + q.reshaped([b, 1, attentionSize])).tanh()  // (B, S, A)
            raw = energyLayer!(energy).reshaped([b, s])                                      // (B, S)
        case .luongDot:
            raw = memory.keys.bmm(query.reshaped([b, keySize, 1])).reshaped([b, s])           // (B, S)
        case .luongGeneral:
            raw = memory.projectedKeys!.bmm(query.reshaped([b, querySize, 1])).reshaped([b, s]) // (B, S)
        }
        return raw.maskedFill(mask: memory.padding, maskShape: [b, s], value: -Scalar.infinity)
    }

    /// One attention read.
    /// - Parameters:
    ///   - query: (B, Q)
    ///   - memory: from `memory(keys:lengths:)`, same B.
    /// - Returns: context (B, K) and weights (B, S), each row summing to 1 with 0 at padded positions.
    public func callAsFunction(_ query: Tensor<Scalar>, memory: AttentionMemory<Scalar>) -> (context: Tensor<Scalar>, weights: Tensor<Scalar>) {
        let (b, s) = (memory.batch, memory.sourceLength)
        let weights = scores(query, memory).softmax(axis: -1)                                // (B, S)
        let context = weights.reshaped([b, 1, s]).bmm(memory.keys).reshaped([b, keySize])     // (B, K)
        return (context, weights)
    }
}
