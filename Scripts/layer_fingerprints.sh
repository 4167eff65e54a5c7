#!/usr/bin/env bash
# Fingerprints of the recurrent layers of a build: for RNN (tanh, ReLU), LSTM (with and without projection)
# and GRU (reset after, before), Double and Float, at shapes that take every path of the fused layer (unsplit,
# split by units, split by batch rows, directions one per core, variable lengths, batch 1), a running FNV-1a
# hash of the bits of the outputs, final states, input and parameter gradients and the inference outputs.
# Two builds compute the same numbers to the bit iff their lines agree:
#   Scripts/layer_fingerprints.sh /work/wt-before > before.txt; Scripts/layer_fingerprints.sh . > after.txt; diff before.txt after.txt
# ROOT is a checkout with `swift build -c release` done (RecurrentTensor and RecurrentNN built); the program is
# linked against that build's object files, public API only.
set -euo pipefail
ROOT=$(cd "${1:-.}" && pwd)
B="$ROOT/.build/$(uname -m)-unknown-linux-gnu/release"
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
cat > "$OUT/main.swift" <<'SWIFT'
import RecurrentTensor
import RecurrentNN

var hash: UInt64 = 0xcbf29ce484222325
func mix<S: TensorScalar>(_ t: Tensor<S>?) {
    guard let t else { hash = (hash ^ 0xff) &* 0x100000001b3; return }
    for v in t.scalars {
        let bits: UInt64 = (v as? Double)?.bitPattern ?? UInt64((v as! Float).bitPattern)
        hash = (hash ^ bits) &* 0x100000001b3
    }
}
func run<S: TensorScalar>(_ type: S.Type, _ name: String, H: Int, B: Int, T: Int, bidirectional: Bool, lengths: [Int]?, make: (inout RandomGenerator) -> RecurrentLayer<S>) {
    var rng = RandomGenerator(seed: 11)
    let layer = make(&rng)
    let x = Tensor<S>.normal([T, B, layer.inputSize], generator: &rng, requiresGrad: true)
    let (out, state) = layer(x, lengths: lengths)
    let w = Tensor<S>.normal(out.shape, generator: &rng)
    var loss = (out * w).sum() + state.h.sum()
    if let c = state.c { loss = loss + (c * c).sum() }
    loss.backward()
    mix(out); mix(state.h); mix(state.c); mix(x.grad)
    for p in layer.parameters() { mix(p.grad) }
    let (o2, s2) = withoutGrad { layer(x, lengths: lengths) }
    mix(o2); mix(s2.h); mix(s2.c)
    print(name, H, B, T, bidirectional, String(hash, radix: 16))
}
func all<S: TensorScalar>(_ type: S.Type) {
    for (H, B, T, bi, lengths) in [(20, 3, 9, true, [9, 4, 7] as [Int]?), (64, 16, 12, false, nil), (64, 16, 12, true, nil), (37, 14, 10, false, Array(repeating: 10, count: 13) + [3]), (48, 1, 7, false, nil)] {
        let I = 5
        run(type, "lstm", H: H, B: B, T: T, bidirectional: bi, lengths: lengths) { LSTM<S>(inputSize: I, hiddenSize: H, numLayers: 2, bidirectional: bi, generator: &$0) }
        run(type, "lstmproj", H: H, B: B, T: T, bidirectional: bi, lengths: lengths) { LSTM<S>(inputSize: I, hiddenSize: H, numLayers: 2, bidirectional: bi, projSize: 7, generator: &$0) }
        run(type, "gru", H: H, B: B, T: T, bidirectional: bi, lengths: lengths) { GRU<S>(inputSize: I, hiddenSize: H, numLayers: 2, bidirectional: bi, generator: &$0) }
        run(type, "grubefore", H: H, B: B, T: T, bidirectional: bi, lengths: lengths) { GRU<S>(inputSize: I, hiddenSize: H, numLayers: 2, bidirectional: bi, resetAfter: false, generator: &$0) }
        run(type, "rnntanh", H: H, B: B, T: T, bidirectional: bi, lengths: lengths) { RNN<S>(inputSize: I, hiddenSize: H, numLayers: 2, bidirectional: bi, generator: &$0) }
        run(type, "rnnrelu", H: H, B: B, T: T, bidirectional: bi, lengths: lengths) { RNN<S>(inputSize: I, hiddenSize: H, numLayers: 2, nonlinearity: .relu, bidirectional: bi, generator: &$0) }
    }
}
all(Double.self)
all(Float.self)
SWIFT
swiftc -O -I "$B/Modules" -Xcc -fmodule-map-file="$B/CRecurrentKernels.build/module.modulemap" \
    -Xcc -I"$ROOT/Sources/CRecurrentKernels/include" -Xcc -fmodule-map-file="$ROOT/Sources/CBLAS/module.modulemap" \
    "$OUT/main.swift" "$B"/RecurrentTensor.build/*.o "$B"/RecurrentNN.build/*.o "$B"/CRecurrentKernels.build/*.o \
    -lopenblas -o "$OUT/fingerprints"
"$OUT/fingerprints"
