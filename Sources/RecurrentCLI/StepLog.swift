import Foundation
import Recurrent

/// steps.csv (`--log-steps`): one row per update — the step, its loss (over the whole batch under
/// mpirun), the gradient norm before clipping and the learning rate; empty for a skipped batch. Rows
/// are appended as training goes; a resumed run first drops the rows of steps it will redo.
final class StepLog {
    private let url: URL
    private var handle: FileHandle?
    private let resume: Bool
    private var first = true

    init(folder: RunFolder, resume: Bool) throws {
        url = folder.file("steps.csv")
        self.resume = resume
    }

    func record(_ p: TrainingProgress) {
        if first { open(from: p.step); first = false }
        let number = { (x: Double) in x.isFinite ? "\(x)" : "" }
        handle?.write(Data("\(p.step),\(number(p.loss)),\(number(p.gradientNorm)),\(p.learningRate)\n".utf8))
    }

    /// Starts the file, keeping (on resume) the rows before `step`.
    private func open(from step: Int) {
        var text = "step,loss,gradient_norm,learning_rate\n"
        if resume, let old = try? String(contentsOf: url, encoding: .utf8) {
            for line in old.split(separator: "\n").dropFirst() {
                if let s = line.split(separator: ",").first.flatMap({ Int($0) }), s < step { text += line + "\n" }
            }
        }
        try? atomicWrite(Data(text.utf8), to: url)
        handle = try? FileHandle(forWritingTo: url)
        _ = try? handle?.seekToEnd()
    }

    deinit { try? handle?.close() }
}
