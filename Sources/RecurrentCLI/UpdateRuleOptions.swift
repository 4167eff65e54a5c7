import ArgumentParser
import Recurrent


/// `--optimizer`, `--momentum`, `--weight-decay`, `--clip-value`, `--on-nonfinite`: how every `recurrent train` task updates its weights.
struct UpdateRuleOptions: ParsableArguments {
    @Option(help: "Optimizer (PyTorch's update rules).") var optimizer = OptimizerKind.adam
    @Option(help: "Momentum of sgd and rmsprop.") var momentum = 0.0
    @Option(name: .customLong("weight-decay"), help: "L2 weight decay (decoupled for adamw).") var weightDecay = 0.0
    @Option(name: .customLong("clip-value"), help: "Clamp every gradient element to ±this before norm clipping (0: off).") var clipValue = 0.0

    @Option(name: .customLong("on-nonfinite"), help: "When a batch gives a NaN or infinite loss or gradient (the parameters are never updated from it): stop, or skip the batch and go on.")
    var onNonFinite = NonFinitePolicy.stop

    var rule: UpdateRule { UpdateRule(optimizer: optimizer, momentum: momentum, weightDecay: weightDecay, clipValue: clipValue) }

    func validate() throws {
        do { try rule.validate() } catch { throw ValidationError("\(error)") }
    }
}
