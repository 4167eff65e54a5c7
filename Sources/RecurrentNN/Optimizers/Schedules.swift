import Foundation

/// A learning rate as a function of the step (or epoch) count, PyTorch's closed-form schedules.
public protocol LearningRateSchedule: Sendable {
    /// The learning rate at `step` (0 for the first step).
    func learningRate(at step: Int) -> Double
}

/// lr · γ^⌊step / stepSize⌋ (PyTorch's StepLR).
public struct StepSchedule: LearningRateSchedule {
    /// The initial rate, the steps between decays, and the factor γ of each decay.
    public var base: Double, stepSize: Int, gamma: Double
    /// A step decay: the rate is multiplied by `gamma` every `stepSize` steps (at least 1).
    public init(base: Double, stepSize: Int, gamma: Double = 0.1) { self.base = base; self.stepSize = max(1, stepSize); self.gamma = gamma }
    /// base · γ^⌊step / stepSize⌋.
    public func learningRate(at step: Int) -> Double { base * pow(gamma, Double(step / stepSize)) }
}

/// lr · γ^step (ExponentialLR).
public struct ExponentialSchedule: LearningRateSchedule {
    /// The initial rate and the factor γ of every step.
    public var base: Double, gamma: Double
    /// An exponential decay: the rate is multiplied by `gamma` every step.
    public init(base: Double, gamma: Double) { self.base = base; self.gamma = gamma }
    /// base · γ^step.
    public func learningRate(at step: Int) -> Double { base * pow(gamma, Double(step)) }
}

/// η_min + (lr − η_min)(1 + cos(π·step/T_max))/2 (CosineAnnealingLR's closed form).
public struct CosineSchedule: LearningRateSchedule {
    /// The initial rate, the half period T_max in steps, and the floor η_min.
    public var base: Double, tMax: Int, etaMin: Double
    /// A cosine annealing from `base` at step 0 to `etaMin` at step `tMax` (at least 1).
    public init(base: Double, tMax: Int, etaMin: Double = 0) { self.base = base; self.tMax = max(1, tMax); self.etaMin = etaMin }
    /// η_min + (base − η_min)(1 + cos(π · step / T_max)) / 2.
    public func learningRate(at step: Int) -> Double {
        etaMin + (base - etaMin) * (1 + cos(Double.pi * Double(step) / Double(tMax))) / 2
    }
}

/// Linear ramp of the factor from `startFactor` to `endFactor` over `totalSteps` (LinearLR; warm-up).
public struct LinearSchedule: LearningRateSchedule {
    /// The rate the factors multiply, the factors at the first and last step of the ramp, and the ramp's length in steps.
    public var base: Double, startFactor: Double, endFactor: Double, totalSteps: Int
    /// A linear ramp of the factor from `startFactor` to `endFactor` over `totalSteps` steps (PyTorch's LinearLR defaults).
    public init(base: Double, startFactor: Double = 1.0 / 3, endFactor: Double = 1, totalSteps: Int = 5) {
        self.base = base; self.startFactor = startFactor; self.endFactor = endFactor; self.totalSteps = max(1, totalSteps)
    }
    /// base · (startFactor + (endFactor − startFactor) · min(step, totalSteps) / totalSteps).
    public func learningRate(at step: Int) -> Double {
        base * (startFactor + (endFactor - startFactor) * Double(min(step, totalSteps)) / Double(totalSteps))
    }
}

/// Linear warm-up from lr/warmup to lr over `warmupSteps`, then cosine decay to `etaMin` at `totalSteps`.
public struct WarmupCosineSchedule: LearningRateSchedule {
    /// The peak rate, the warm-up length, the total length and the final rate, in steps.
    public var base: Double, warmupSteps: Int, totalSteps: Int, etaMin: Double
    /// A linear warm-up to `base` over `warmupSteps`, then a cosine decay to `etaMin` at `totalSteps`.
    public init(base: Double, warmupSteps: Int, totalSteps: Int, etaMin: Double = 0) {
        self.base = base; self.warmupSteps = max(0, warmupSteps); self.totalSteps = max(totalSteps, warmupSteps + 1); self.etaMin = etaMin
    }
    /// The warm-up or cosine value at `step`; `etaMin` after `totalSteps`.
    public func learningRate(at step: Int) -> Double {
        if step < warmupSteps { return base * Double(step + 1) / Double(warmupSteps) }
        return CosineSchedule(base: base, tMax: totalSteps - warmupSteps, etaMin: etaMin).learningRate(at: min(step, totalSteps) - warmupSteps)
    }
}
