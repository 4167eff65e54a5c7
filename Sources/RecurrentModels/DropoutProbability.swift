/// Whether `p` is a dropout probability the models can use: in [0, 1) once rounded to the Float they compute
/// in. 0.99999999 is below 1 as a Double but rounds to 1, which the layers refuse (every activation would be
/// dropped), so a config or an option holding it must be turned away with a message, not reach them.
public func isDropoutProbability(_ p: Double) -> Bool { p >= 0 && Float(p) < 1 }
