import ArgumentParser
import Recurrent

// The library's configuration enums as command-line values: `--optimizer sgd`, `--mode one`…; a value
// outside the enum is refused by the parser with the list of valid ones.
extension OptimizerKind: ExpressibleByArgument {}
extension NonFinitePolicy: ExpressibleByArgument {}
extension LearningRateScheduleKind: ExpressibleByArgument {}
extension ForecastTarget: ExpressibleByArgument {}
extension ForecastStrategy: ExpressibleByArgument {}
extension CSVSeparator: ExpressibleByArgument {}
extension GapFill: ExpressibleByArgument {}
extension ForecastMode: ExpressibleByArgument {}
extension CellKind: ExpressibleByArgument {}
extension Pooling: ExpressibleByArgument {}
extension Precision: ExpressibleByArgument {}
extension Seq2SeqAttention: ExpressibleByArgument {}
extension SyntheticTask: ExpressibleByArgument {}
extension CubeSplit: ExpressibleByArgument {}
extension CharacterFeatures: ExpressibleByArgument {}
extension IntentPooling: ExpressibleByArgument {}
