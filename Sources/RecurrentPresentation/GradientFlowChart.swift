import RecurrentModels

extension GradientFlowReport {
    /// Log-scale picture of ‖∂L/∂h_t‖ against the distance T − 1 − t, one line per layer and direction.
    public func chart(title: String) -> LineChart {
        var chart = LineChart(title: title, xLabel: "distance from the loss, T − 1 − t", yLabel: "‖∂L/∂h_t‖",
                              series: states.map { s in
                                  (name: s.name, points: s.norms.enumerated().map { (x: Double(steps - 1 - $0.offset), y: $0.element) })
                              })
        chart.logScaleY = true
        return chart
    }
}
