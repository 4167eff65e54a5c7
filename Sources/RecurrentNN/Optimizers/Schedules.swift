import Foundation

/// A learning rate as a function of the step (or epoch) count, PyTorch's closed-form schedules.
public protocol LearningRateSchedule: Sendable {
    func learningRate(at step: Int) -> Double
}

/// lr · γ^⌊step / stepSize⌋ (PyTorch's StepLR).
public struct StepSchedule: LearningRateSchedule {
    public var base: Double, stepSize: Int, gamma: Double
    public init(base: Double, stepSize: Int, gamma: Double = 0.1) { self.base = base; self.stepSize = max(1, stepSize); self.gamma = gamma }
    public func learningRate(at step: Int) -> Double { base * pow(gamma, Double(step / stepSize)) }
}

/// lr · γ^step (ExponentialLR).
public struct ExponentialSchedule: LearningRateSchedule {
    public var base: Double, gamma: Double
    public init(base: Double, gamma: Double) { self.base = base; self.gamma = gamma }
    public func learningRate(at step: Int) -> Double { base * pow(gamma, Double(step)) }
}

/// η_min + (lr − η_min)(1 + cos(π·step/T_max))/2 (CosineAnnealingLR's closed form).
public struct CosineSchedule: LearningRateSchedule {
    public var base: Double, tMax: Int, etaMin: Double
    public init(base: Double, tMax: Int, etaMin: Double = 0) { self.base = base; self.tMax = max(1, tMax); self.etaMin = etaMin }
    public func learningRate(at step: Int) -> Double {
        etaMin + (base - etaMin) * (1 + cos(Double.pi * Double(step) / Double(tMax))) / 2
    }
}

/// Linear ramp of the factor from `startFactor` to `endFactor` over `totalSteps` (LinearLR; warm-up).
public struct LinearSchedule: LearningRateSchedule {
    public var base: Double, startFactor: Double, endFactor: Double, totalSteps: Int
    public init(base: Double, startFactor: Double = 1.0 / 3, endFactor: Double = 1, totalSteps: Int = 5) {
        self.base = base; self.startFactor = startFactor; self.endFactor = endFactor; self.totalSteps = max(1, totalSteps)
    }
    public func learningRate(at step: Int) -> Double {
        base * (startFactor + (endFactor - startFactor) * Double(min(step, totalSteps)) / Double(totalSteps))
    }
}

/// Linear warm-up from lr/warmup to lr over `warmupSteps`, then cosine decay to `etaMin` at `totalSteps`.
public struct WarmupCosineSchedule: LearningRateSchedule {
    public var base: Double, warmupSteps: Int, totalSteps: Int, etaMin: Double
    public init(base: Double, warmupSteps: Int, totalSteps: Int, etaMin: Double = 0) {
        self.base = base; self.warmupSteps = max(0, warmupSteps); self.totalSteps = max(totalSteps, warmupSteps + 1); self.etaMin = etaMin
    }
    public func learningRate(at step: Int) -> Double {
        if step < warmupSteps { return base * Double(step + 1) / Double(warmupSteps) }
        return CosineSchedule(base: base, tMax: totalSteps - warmupSteps, etaMin: etaMin).learningRate(at: min(step, totalSteps) - warmupSteps)
    }
}
