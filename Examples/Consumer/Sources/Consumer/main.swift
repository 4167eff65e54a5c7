// Trains a small LSTM forecaster on a sine wave with the public API of `Recurrent` only (no @testable import),
// saves it as a checkpoint, loads it into a fresh model and checks that both predict the same.
// Exits non-zero when training does not lower the loss or the reloaded model differs.
import Foundation
import Recurrent

/// One LSTM layer and a linear head: the next value of the series at every step.
final class SineForecaster: Module<Float> {
    let lstm: LSTM<Float>
    let head: Linear<Float>

    init(hiddenSize: Int, seed: UInt64) {
        var generator = RandomGenerator(seed: seed)
        lstm = LSTM(inputSize: 1, hiddenSize: hiddenSize, generator: &generator)
        head = Linear(inputSize: hiddenSize, outputSize: 1, generator: &generator)
        super.init()
        registerModule("lstm", lstm)
        registerModule("head", head)
    }

    /// - Parameter x: (T, B, 1) values. - Returns: (T, B, 1) predictions of the value one step later.
    func callAsFunction(_ x: Tensor<Float>) -> Tensor<Float> {
        let (output, _) = lstm(x)                                   // (T, B, H)
        let (T, B) = (x.shape[0], x.shape[1])
        return head(output.reshaped([T * B, lstm.hiddenSize])).reshaped([T, B, 1])
    }
}

/// B windows of T + 1 samples of sin(0.3·t) starting at different phases: inputs (T, B, 1) and the targets one step later.
func sineBatch(steps T: Int, batch B: Int) -> (input: Tensor<Float>, target: Tensor<Float>) {
    func value(_ t: Int, _ b: Int) -> Float { Float(sin(0.3 * Double(t) + 0.7 * Double(b))) }
    var input = [Float](), target = [Float]()
    for t in 0..<T {
        for b in 0..<B {
            input.append(value(t, b))
            target.append(value(t + 1, b))
        }
    }
    return (Tensor(input, shape: [T, B, 1]), Tensor(target, shape: [T, B, 1]))
}

let model = SineForecaster(hiddenSize: 16, seed: 1)
let (input, target) = sineBatch(steps: 20, batch: 8)
let optimizer = Adam(parameters: model.parameters(), learningRate: 1e-2)
var firstLoss: Float = 0, lastLoss: Float = 0
for step in 0..<60 {
    model.zeroGrad()
    let loss = mseLoss(model(input), target)
    loss.backward()
    clipGradNorm(model.parameters(), maxNorm: 1)
    optimizer.step()
    if step == 0 { firstLoss = loss.scalars[0] }
    lastLoss = loss.scalars[0]
}
print("parameters: \(model.parameterCount), loss \(firstLoss) -> \(lastLoss)")

let folder = FileManager.default.temporaryDirectory.appendingPathComponent("recurrent-consumer-\(getpid())")
try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: folder) }
let file = folder.appendingPathComponent("sine.safetensors")
try Checkpoint(tensors: model.stateDict(), extra: ["task": "sine"]).save(to: file)

let restored = SineForecaster(hiddenSize: 16, seed: 2)
let checkpoint = try Checkpoint.load(from: file)
try restored.loadParameters(checkpoint.tensors)
let before = model(input).scalars, after = restored(input).scalars
let difference = zip(before, after).map { abs($0 - $1) }.max() ?? .infinity
print("saved \(file.lastPathComponent) (\(checkpoint.tensors.count) tensors), reloaded: largest difference \(difference)")

guard lastLoss < firstLoss / 4 else {
    print("error: training did not lower the loss enough (\(firstLoss) -> \(lastLoss))")
    exit(1)
}
guard difference == 0 else {
    print("error: the reloaded model predicts differently")
    exit(1)
}
print("ok")
