import XCTest
@testable import RecurrentNN
import RecurrentTensor

final class CRFTests: XCTestCase {
    /// IOB2 tags with the tagger's `<pad>` at id 0.
    let bioTags = ["<pad>", "O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
    let bioesTags = ["<pad>", "O", "B-PER", "I-PER", "E-PER", "S-PER", "B-LOC", "I-LOC", "E-LOC", "S-LOC"]

    func testParameterNamesAndInitialisationFollowPytorchCRF() {
        let crf = LinearChainCRF<Float>(tagCount: 5, seed: 3)
        XCTAssertEqual(crf.namedParameters().map(\.name), ["start_transitions", "end_transitions", "transitions"])
        XCTAssertEqual(crf.namedParameters().map(\.tensor.shape), [[5], [5], [5, 5]])
        for p in crf.parameters() { XCTAssertTrue(p.scalars.allSatisfy { $0 >= -0.1 && $0 < 0.1 }) }
        XCTAssertGreaterThan(crf.transitions.scalars.max()! - crf.transitions.scalars.min()!, 0.1, "spread over the range, not constant")
    }

    func testGradientsByFiniteDifferences() {
        var rng = RandomGenerator(seed: 5)
        let (T, B) = (5, 4)
        var worst = 0.0
        for (constraints, K) in [(nil, 4), (TransitionConstraints(scheme: .bio, tags: bioTags), 6),
                                 (TransitionConstraints(scheme: .bioes, tags: bioesTags), 10)] as [(TransitionConstraints?, Int)] {
            let crf = LinearChainCRF<Double>(tagCount: K, constraints: constraints, generator: &rng)
            let emissions = Tensor<Double>.normal([T, B, K], std: 2, generator: &rng, requiresGrad: true)
            let lengths = [5, 1, 3, 4]
            // Gold paths drawn at random among the allowed ones (a disallowed one scores about −10000, where finite
            // differences lose their digits; testForbiddenGoldPathAndHugeEmissionsStayFinite covers those).
            let tags = allowedPaths(constraints, tagCount: K, steps: T, lengths: lengths, &rng)
            for reduction in CRFReduction.allCases {
                let r = gradientCheck([emissions, crf.startTransitions, crf.endTransitions, crf.transitions]) { _ in
                    crf.negativeLogLikelihood(emissions, tags: tags, lengths: lengths, reduction: reduction)
                }
                XCTAssertLessThan(r.maxError, 1e-7, "\(reduction), constraints: \(constraints != nil), \(r)")
                worst = max(worst, r.maxError)
            }
        }
        print("CRF gradient check (emissions and the three transition parameters, every reduction, with and without constraints): max error \(worst)")
    }

    /// (T, B) random tags, each sequence a path the constraints allow; −1 past each length.
    private func allowedPaths(_ c: TransitionConstraints?, tagCount K: Int, steps T: Int, lengths: [Int], _ rng: inout RandomGenerator) -> [Int] {
        let B = lengths.count
        var tags = [Int](repeating: -1, count: T * B)
        for b in 0..<B {
            var previous: Int? = nil
            for t in 0..<lengths[b] {
                let choices = (0..<K).filter { j in
                    guard let c else { return true }
                    let follows = previous.map { c.allows(from: $0, to: j) } ?? c.allowedStart[j]
                    return follows && (t < lengths[b] - 1 || c.allowedEnd[j])
                }
                let y = choices[rng.nextInt(below: choices.count)]
                tags[t * B + b] = y
                previous = y
            }
        }
        return tags
    }

    func testMatchesPytorchCRF() throws {
        let fixture = try loadFixture("crf", "crf")
        let cases = fixture["cases"] as! [[String: Any]]
        XCTAssertEqual(cases.count, 5)
        var worstDouble = 0.0, worstFloat = 0.0
        for c in cases {
            let shape = ints(c["shape"]), lengths = ints(c["lengths"])
            let (T, B, K) = (shape[0], shape[1], shape[2])
            var tags = ints(c["tags"])
            for b in 0..<B { for t in lengths[b]..<T { tags[t * B + b] = -100 } }   // padding is never read
            let state = ["start_transitions", "end_transitions", "transitions"]
            XCTAssertEqual((c["decode"] as! [[Int]]).map(\.count), lengths)

            let crf = LinearChainCRF<Double>(tagCount: K)
            try crf.loadParameters(Dictionary(uniqueKeysWithValues: state.map { ($0, Tensor(doubles(c[$0]), shape: $0 == "transitions" ? [K, K] : [K])) }))
            XCTAssertEqual(crf.decode(Tensor(doubles(c["emissions"]), shape: shape), lengths: lengths), c["decode"] as! [[Int]], "decode \(shape)")
            let floatCRF = LinearChainCRF<Float>(tagCount: K)
            try floatCRF.loadParameters(Dictionary(uniqueKeysWithValues: state.map { ($0, Tensor(doubles(c[$0]).map(Float.init), shape: $0 == "transitions" ? [K, K] : [K])) }))
            XCTAssertEqual(floatCRF.decode(Tensor(doubles(c["emissions"]).map(Float.init), shape: shape), lengths: lengths), c["decode"] as! [[Int]], "Float decode \(shape)")

            for (name, expected) in c["reductions"] as! [String: [String: Any]] {
                let reduction: CRFReduction = name == "token_mean" ? .tokenMean : CRFReduction(rawValue: name)!
                // Double: value and every gradient.
                crf.zeroGrad()
                let x = Tensor<Double>(doubles(c["emissions"]), shape: shape, requiresGrad: true)
                let nll = crf.negativeLogLikelihood(x, tags: tags, lengths: lengths, reduction: reduction)
                // pytorch-crf returns the log-likelihood; the gradients in the fixture are of Σ w ⊙ llh.
                (nll * Tensor(doubles(expected["weight"]).map { -$0 }, shape: nll.shape)).sum().backward()
                let pairs: [([Double], [Double], String)] = [
                    (nll.scalars.map { -$0 }, doubles(expected["log_likelihood"]), "log-likelihood"),
                    (x.grad!.scalars, doubles(expected["grad_emissions"]), "∂emissions"),
                    (crf.startTransitions.grad!.scalars, doubles(expected["grad_start_transitions"]), "∂start"),
                    (crf.endTransitions.grad!.scalars, doubles(expected["grad_end_transitions"]), "∂end"),
                    (crf.transitions.grad!.scalars, doubles(expected["grad_transitions"]), "∂transitions"),
                ]
                for (mine, theirs, what) in pairs {
                    XCTAssertEqual(mine.count, theirs.count, "\(what) \(shape) \(name)")
                    for (a, b) in zip(mine, theirs) {
                        worstDouble = max(worstDouble, abs(a - b))
                        XCTAssertEqual(a, b, accuracy: 1e-10, "\(what) \(shape) \(name)")
                    }
                }
                // Float: the values, to 1e-5 relative.
                let xf = Tensor<Float>(doubles(c["emissions"]).map(Float.init), shape: shape)
                let nllf = floatCRF.negativeLogLikelihood(xf, tags: tags, lengths: lengths, reduction: reduction)
                for (a, b) in zip(nllf.scalars, doubles(expected["log_likelihood"])) {
                    let err = abs(Double(-a) - b) / max(1, abs(b))
                    worstFloat = max(worstFloat, err)
                    XCTAssertLessThan(err, 1e-5, "Float log-likelihood \(shape) \(name)")
                }
            }
        }
        print("CRF vs pytorch-crf: max abs error (Double, values and gradients) \(worstDouble); max relative error (Float, values) \(worstFloat)")
    }

    /// Every path of a tiny case, scored directly.
    private func allPaths(_ L: Int, _ K: Int) -> [[Int]] {
        (0..<L).reduce([[]]) { paths, _ in paths.flatMap { p in (0..<K).map { p + [$0] } } }
    }

    private func pathScore(_ crf: LinearChainCRF<Double>, _ e: Tensor<Double>, b: Int, _ path: [Int]) -> Double {
        let (B, K) = (e.shape[1], e.shape[2])
        let scores = CRFScores(start: crf.startTransitions, end: crf.endTransitions, transitions: crf.transitions, constraints: crf.constraints)
        var s = scores.start[path[0]] + scores.end[path.last!]
        for (t, y) in path.enumerated() {
            s += e.data[(t * B + b) * K + y]
            if t > 0 { s += scores.transitions[path[t - 1] * K + y] }
        }
        return s
    }

    func testViterbiAndPartitionMatchBruteForce() {
        var rng = RandomGenerator(seed: 11)
        for constraints in [nil, TransitionConstraints(scheme: .bio, tags: ["O", "B-A", "I-A", "B-B"])] {
            let K = 4
            let crf = LinearChainCRF<Double>(tagCount: K, constraints: constraints, seed: 2)
            for p in crf.parameters() { p.copy(from: .normal(p.shape, generator: &rng)) }
            let (T, B) = (4, 3), lengths = [4, 1, 3]
            let e = Tensor<Double>.normal([T, B, K], std: 2, generator: &rng)
            let decoded = crf.decode(e, lengths: lengths)
            let losses = crf.negativeLogLikelihood(e, tags: [Int](repeating: 1, count: T * B), lengths: lengths, reduction: .none)
            for b in 0..<B {
                let paths = allPaths(lengths[b], K)
                let scores = paths.map { pathScore(crf, e, b: b, $0) }
                let best = scores.indices.max { scores[$0] < scores[$1] }!
                XCTAssertEqual(decoded[b], paths[best], "sequence \(b), constrained: \(constraints != nil)")
                let m = scores.max()!
                let logZ = m + log(scores.map { exp($0 - m) }.reduce(0, +))
                let gold = pathScore(crf, e, b: b, [Int](repeating: 1, count: lengths[b]))
                XCTAssertEqual(losses.scalars[b], logZ - gold, accuracy: 1e-10, "NLL of sequence \(b)")
            }
        }
    }

    func testConstraintTables() {
        let bio = TransitionConstraints(scheme: .bio, tags: bioTags)
        let id = Dictionary(uniqueKeysWithValues: bioTags.enumerated().map { ($1, $0) })
        XCTAssertEqual(bio.allowedStart, [false, true, true, false, true, false])
        XCTAssertEqual(bio.allowedEnd, [false, true, true, true, true, true])
        XCTAssertTrue(bio.allows(from: id["B-PER"]!, to: id["I-PER"]!))
        XCTAssertTrue(bio.allows(from: id["I-PER"]!, to: id["I-PER"]!))
        XCTAssertTrue(bio.allows(from: id["I-PER"]!, to: id["B-LOC"]!))
        XCTAssertTrue(bio.allows(from: id["O"]!, to: id["B-LOC"]!))
        XCTAssertFalse(bio.allows(from: id["O"]!, to: id["I-PER"]!))
        XCTAssertFalse(bio.allows(from: id["B-LOC"]!, to: id["I-PER"]!))
        XCTAssertFalse(bio.allows(from: id["I-LOC"]!, to: id["I-PER"]!))
        XCTAssertFalse(bio.allows(from: id["O"]!, to: id["<pad>"]!))
        XCTAssertFalse(bio.allows(from: id["<pad>"]!, to: id["O"]!))

        let noPad = TransitionConstraints(tagCount: 3, forbidden: [0])
        XCTAssertEqual(noPad.allowedStart, [false, true, true])
        XCTAssertEqual(noPad.allowedEnd, [false, true, true])
        XCTAssertEqual(noPad.allowed, [false, false, false, false, true, true, false, true, true])

        let bioes = TransitionConstraints(scheme: .bioes, tags: bioesTags)
        let jd = Dictionary(uniqueKeysWithValues: bioesTags.enumerated().map { ($1, $0) })
        XCTAssertEqual(bioes.allowedStart, bioesTags.map { ["O", "B-PER", "S-PER", "B-LOC", "S-LOC"].contains($0) })
        XCTAssertEqual(bioes.allowedEnd, bioesTags.map { ["O", "E-PER", "S-PER", "E-LOC", "S-LOC"].contains($0) })
        for (from, to, allowed) in [("B-PER", "I-PER", true), ("B-PER", "E-PER", true), ("I-PER", "E-PER", true), ("E-PER", "B-LOC", true),
                                    ("S-PER", "S-LOC", true), ("O", "S-PER", true), ("B-PER", "O", false), ("I-PER", "B-PER", false),
                                    ("B-PER", "E-LOC", false), ("O", "I-PER", false), ("E-PER", "E-PER", false), ("S-PER", "I-PER", false)] {
            XCTAssertEqual(bioes.allows(from: jd[from]!, to: jd[to]!), allowed, "\(from) → \(to)")
        }
    }

    func testConstrainedDecodingNeverOutputsAForbiddenTransition() {
        var rng = RandomGenerator(seed: 13)
        for (scheme, tags) in [(TagScheme.bio, bioTags), (.bioes, bioesTags)] {
            let c = TransitionConstraints(scheme: scheme, tags: tags)
            let crf = LinearChainCRF<Float>(tagCount: tags.count, constraints: c, seed: 1)
            let (T, B) = (9, 40)
            let lengths = (0..<B).map { 1 + $0 % T }
            // Emissions far larger than the transitions: unconstrained, the argmax path would break the scheme everywhere.
            let e = Tensor<Float>.normal([T, B, tags.count], std: 10, generator: &rng)
            let paths = crf.decode(e, lengths: lengths)
            var unconstrainedViolations = 0
            let free = LinearChainCRF<Float>(tagCount: tags.count, seed: 1)
            for path in free.decode(e, lengths: lengths) {
                unconstrainedViolations += path.indices.dropFirst().count { !c.allows(from: path[$0 - 1], to: path[$0]) }
            }
            XCTAssertGreaterThan(unconstrainedViolations, 10, "the test must exercise the constraints")
            for (b, path) in paths.enumerated() {
                XCTAssertEqual(path.count, lengths[b])
                XCTAssertTrue(c.allowedStart[path[0]], "\(scheme) starts with \(tags[path[0]])")
                XCTAssertTrue(c.allowedEnd[path.last!], "\(scheme) ends with \(tags[path.last!])")
                for t in 1..<path.count {
                    XCTAssertTrue(c.allows(from: path[t - 1], to: path[t]), "\(scheme): \(tags[path[t - 1]]) → \(tags[path[t]])")
                }
            }
        }
    }

    func testForbiddenGoldPathAndHugeEmissionsStayFinite() {
        let c = TransitionConstraints(scheme: .bio, tags: bioTags)
        let crf = LinearChainCRF<Float>(tagCount: 6, constraints: c, seed: 4)
        let e = Tensor<Float>([Float](repeating: 0, count: 12).enumerated().map { $0.offset % 2 == 0 ? 3e4 : -3e4 }, shape: [2, 1, 6], requiresGrad: true)
        let loss = crf.negativeLogLikelihood(e, tags: [1, 3], lengths: [2])   // O → I-PER: disallowed
        loss.backward()
        XCTAssertTrue(loss.item.isFinite && loss.item > 1000, "\(loss.item)")
        for p in [e] + crf.parameters() { XCTAssertTrue(p.grad!.scalars.allSatisfy(\.isFinite)) }
    }

    func testPaddingPastLengthChangesNothing() {
        var rng = RandomGenerator(seed: 17)
        let crf = LinearChainCRF<Double>(tagCount: 3, seed: 5)
        let short = Tensor<Double>.normal([2, 1, 3], generator: &rng)
        let long = Tensor<Double>.concat([short, .normal([3, 1, 3], std: 50, generator: &rng)], axis: 0)
        let a = crf.negativeLogLikelihood(short, tags: [2, 0], lengths: [2]).item
        let b = crf.negativeLogLikelihood(long, tags: [2, 0, -1, 7, 1], lengths: [2]).item
        XCTAssertEqual(a, b, accuracy: 1e-12)
        XCTAssertEqual(crf.decode(short, lengths: [2]), crf.decode(long, lengths: [2]))
    }
}
