import Foundation
import RecurrentData
import RecurrentIO
import RecurrentNN
import RecurrentModels
import RecurrentTensor
import RecurrentTraining

/// One cell of the memory sweep: a trained model's figures and its gradient flow.
public struct MemorySweepEntry: Codable, Equatable, Sendable {
    public var cell: CellKind
    public var lag: Int
    public var result: MemoryTaskResult
    /// ‖∂L/∂h_t‖ / ‖∂L/∂h_{T−1}‖ for every distance d = T − 1 − t (index d), at initialisation and after training,
    /// over the first layer, on a validation batch.
    public var decayAtInit: [Double]
    public var decayTrained: [Double]
}

/// The long-range memory benchmark: trains every cell on the adding problem at every lag with the same
/// budget (model size, optimizer, steps, batch, seed), and writes the table and the pictures.
///
/// Into `folder`: one run folder per cell and lag (`<cell>_lag<L>/`, see `MemoryTaskTraining`), then
/// results.csv, table.md, mse_vs_lag.svg (validation MSE per cell against the lag, with the 1/6
/// baseline) and, per lag, gradients_lag<L>.svg (the trained models' normalised ‖∂L/∂h_t‖ against the
/// distance, log scale) and gradients_init_lag<L>.svg (the same at initialisation).
public struct MemorySweep {
    public var cells: [CellKind]
    public var lags: [Int]
    public var hiddenSize: Int
    public var training: TrainingOptions
    public var settings: MemoryTaskTraining.Settings
    public var folder: URL

    public init(cells: [CellKind], lags: [Int], hiddenSize: Int, training: TrainingOptions,
                settings: MemoryTaskTraining.Settings = .init(), folder: URL) {
        self.settings = settings
        self.cells = cells
        self.lags = lags
        self.hiddenSize = hiddenSize
        self.training = training
        self.folder = folder
    }

    /// Checks the parameters (they come from the command line).
    public func validate() throws {
        guard !cells.isEmpty, !lags.isEmpty else { throw TrainingError.badOptions("give at least one cell and one lag") }
        for cell in cells { try MemoryTaskConfig(task: .adding, cell: cell, hiddenSize: hiddenSize, lag: 2).validate() }
        for lag in lags { _ = try AddingProblem(length: lag) }
        try training.validate()
    }

    /// Runs every cell at every lag, then writes the summary files. `log` gets one line per finished run.
    public func run(log: (String) -> Void = { print($0) }) throws -> [MemorySweepEntry] {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var entries: [MemorySweepEntry] = []
        for lag in lags {
            for cell in cells {
                let config = MemoryTaskConfig(task: .adding, cell: cell, hiddenSize: hiddenSize, lag: lag)
                let model = MemoryTaskModel(config, seed: training.seed)
                let run = folder.appendingPathComponent("\(cell)_lag\(lag)")
                let task = try MemoryTaskTraining(model: model, settings: settings, seed: training.seed)
                let probe = MemoryTaskTraining.validationBatch(model.task, size: settings.validationSize, seed: training.seed)
                let atInit = Self.decay(model, probe)
                let result = try trainDivergenceIncluded(task, options: training, folder: run)
                let entry = MemorySweepEntry(cell: cell, lag: lag, result: result, decayAtInit: atInit,
                                             decayTrained: result.divergedAtStep == nil ? Self.decay(model, probe) : [])
                entries.append(entry)
                log(String(format: "%@ lag %d: validation MSE %.4f (baseline %.4f), %.0f s%@", cell.rawValue, lag, entry.result.validationLoss,
                           AddingProblem.baselineMSE, entry.result.seconds,
                           entry.result.divergedAtStep.map { ", diverged at step \($0)" } ?? ""))
                try writeSummary(entries)
            }
        }
        return entries
    }

    /// Normalised gradient decay of the first layer on at most 64 sequences of `batch`.
    static func decay(_ model: MemoryTaskModel, _ batch: MemoryTaskBatch) -> [Double] {
        let probe = batch.prefix(64)
        let report = GradientFlow.measure(model: model, singularValueCount: 1) { model.lastStepLoss(probe) }
        model.zeroGrad()
        guard let first = report.states.first else { return [] }
        return (0..<first.norms.count).map { report.decay(first, distance: $0) ?? .nan }
    }

    /// results.csv, table.md and the pictures for the entries so far.
    public func writeSummary(_ entries: [MemorySweepEntry]) throws {
        func f(_ v: Double?) -> String { v.map { $0.isFinite ? String(format: "%.4g", $0) : "\($0)" } ?? "" }
        var csv = "cell,lag,steps,val_mse,best_val_mse,baseline_mse,seconds,clipped_steps,diverged_at,decay_d10,decay_d50,decay_d100,decay_full,decay_init_d10,decay_init_d50,decay_init_d100,decay_init_full\n"
        for e in entries {
            let d = { (a: [Double], k: Int) -> Double? in k < a.count ? a[k] : nil }
            csv += [e.cell.rawValue, "\(e.lag)", "\(e.result.steps)", f(e.result.validationLoss), f(e.result.bestValidationLoss), f(e.result.baselineLoss),
                    String(format: "%.1f", e.result.seconds), "\(e.result.clippedSteps)", e.result.divergedAtStep.map(String.init) ?? "",
                    f(d(e.decayTrained, 10)), f(d(e.decayTrained, 50)), f(d(e.decayTrained, 100)), f(e.decayTrained.last),
                    f(d(e.decayAtInit, 10)), f(d(e.decayAtInit, 50)), f(d(e.decayAtInit, 100)), f(e.decayAtInit.last)].joined(separator: ",") + "\n"
        }
        try atomicWrite(Data(csv.utf8), to: folder.appendingPathComponent("results.csv"))

        // Markdown table: validation MSE per cell (rows) and lag (columns).
        let doneLags = lags.filter { lag in entries.contains { $0.lag == lag } }
        var table = "| cell | " + doneLags.map { "lag \($0)" }.joined(separator: " | ") + " |\n|---|" + doneLags.map { _ in "---:|" }.joined() + "\n"
        for cell in cells {
            table += "| \(cell) | " + doneLags.map { lag in
                guard let e = entries.first(where: { $0.cell == cell && $0.lag == lag }) else { return "" }
                return e.result.divergedAtStep != nil ? "diverged" : String(format: "%.4f", e.result.validationLoss)
            }.joined(separator: " | ") + " |\n"
        }
        table += "\nValidation MSE after \(training.totalSteps) steps (baseline: predicting 1 scores 1/6 ≈ 0.1667).\n"
        try atomicWrite(Data(table.utf8), to: folder.appendingPathComponent("table.md"))

        var mse = LineChart(title: "adding problem: validation MSE after \(training.totalSteps) steps", xLabel: "lag (sequence length T)",
                            yLabel: "validation MSE", series: cells.map { cell in
                                (name: cell.rawValue, points: entries.filter { $0.cell == cell }.map { (x: Double($0.lag), y: $0.result.validationLoss) })
                            } + [(name: "baseline 1/6", points: doneLags.map { (x: Double($0), y: AddingProblem.baselineMSE) })])
        mse.logScaleY = true
        try atomicWrite(Data(mse.svg().utf8), to: folder.appendingPathComponent("mse_vs_lag.svg"))

        for lag in doneLags {
            for (suffix, pick, when) in [("", \MemorySweepEntry.decayTrained, "trained"), ("_init", \MemorySweepEntry.decayAtInit, "at initialisation")] {
                var chart = LineChart(title: "‖∂L/∂h_t‖ / ‖∂L/∂h_T‖, adding problem T = \(lag), \(when)", xLabel: "distance T − t",
                                      yLabel: "relative gradient norm", series: entries.filter { $0.lag == lag }.map { e in
                                          (name: e.cell.rawValue, points: e[keyPath: pick].enumerated().map { (x: Double($0.offset), y: $0.element) })
                                      })
                chart.logScaleY = true
                try atomicWrite(Data(chart.svg().utf8), to: folder.appendingPathComponent("gradients\(suffix)_lag\(lag).svg"))
            }
        }
    }
}

/// The clipping demonstration: the same tanh RNN with a large-spectral-radius initialisation trained
/// twice with plain SGD, without and with global-norm clipping; both runs' losses in one picture.
public struct ClippingDemo {
    public var config: MemoryTaskConfig
    public var training: TrainingOptions
    public var clipNorm: Double
    public var folder: URL

    public init(config: MemoryTaskConfig, training: TrainingOptions, clipNorm: Double, folder: URL) {
        self.config = config
        self.training = training
        self.clipNorm = clipNorm
        self.folder = folder
    }

    /// Both runs' results, unclipped first (`training.clipNorm` is ignored: 0, then `clipNorm`). Writes `unclipped/`, `clipped/` and clipping.svg (training loss,
    /// averaged over 10 updates, log scale) into `folder`.
    public func run() throws -> (unclipped: MemoryTaskResult, clipped: MemoryTaskResult) {
        try config.validate()
        try training.validate()
        guard clipNorm > 0, clipNorm.isFinite else { throw TrainingError.badOptions("clipNorm must be positive, got \(clipNorm)") }
        var results: [MemoryTaskResult] = [], curves: [(name: String, points: [(x: Double, y: Double)])] = []
        for clip in [0, clipNorm] {
            var options = training
            options.clipNorm = clip
            let task = try MemoryTaskTraining(model: MemoryTaskModel(config, seed: training.seed), seed: training.seed)
            let trainer = Trainer(task: task, options: options, folder: folder.appendingPathComponent(clip == 0 ? "unclipped" : "clipped"))
            let result = try trainDivergenceIncluded(trainer)
            results.append(result)
            let losses = trainer.updateLosses, every = 10
            let points = stride(from: 0, to: losses.count, by: every).map { first -> (x: Double, y: Double) in
                let chunk = losses[first..<min(first + every, losses.count)]
                return (x: Double(first + chunk.count), y: chunk.reduce(0, +) / Double(chunk.count))
            }
            let name = clip > 0 ? String(format: "clip-norm %g", clip) : "no clipping"
            let end = result.divergedAtStep.map { " (NaN at step \($0))" } ?? ""
            curves.append((name: name + end, points: points))
        }
        var chart = LineChart(title: "tanh RNN, init radius \(config.initRadius.map { String(format: "%g", $0) } ?? "default"), SGD lr \(training.learningRate)",
                              xLabel: "step", yLabel: "training loss (mean of 10 steps)", series: curves)
        chart.logScaleY = true
        try atomicWrite(Data(chart.svg().utf8), to: folder.appendingPathComponent("clipping.svg"))
        return (results[0], results[1])
    }
}

/// Trains a memory task to its end or its divergence (a result of these experiments, recorded as such);
/// the result is read back from result.json, which the task writes either way.
func trainDivergenceIncluded(_ task: MemoryTaskTraining, options: TrainingOptions, folder: URL) throws -> MemoryTaskResult {
    try trainDivergenceIncluded(Trainer(task: task, options: options, folder: folder))
}

func trainDivergenceIncluded(_ trainer: Trainer<MemoryTaskTraining>) throws -> MemoryTaskResult {
    do {
        if let result = try trainer.run().report { return result }
    } catch is TrainingError {}
    let data = try Data(contentsOf: trainer.folder.file("result.json"))
    let decoder = JSONDecoder()
    decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    return try decoder.decode(MemoryTaskResult.self, from: data)
}

extension TrainingOptions {
    /// The updates a step schedule makes (its count; for epochs, the epoch count).
    var totalSteps: Int {
        switch schedule {
        case let .steps(count, _): count
        case let .epochs(count, _): count
        }
    }
}
