import Foundation

/// A small SVG line chart (loss curves): several named series over a shared x axis, with axes,
/// five ticks each, and a legend. Plain SVG 1.1, viewable in any browser.
public struct LineChart {
    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [(name: String, points: [(x: Double, y: Double)])]
    /// A logarithmic y axis (ticks at powers of ten); points with y ≤ 0 are left out.
    public var logScaleY = false

    public init(title: String, xLabel: String, yLabel: String, series: [(name: String, points: [(x: Double, y: Double)])]) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
    }

    static let colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"]

    public func svg(width: Double = 640, height: Double = 400) -> String {
        // On a log axis every y is drawn as log10 y; `fmt` and the ticks undo it.
        let series = logScaleY
            ? self.series.map { s in (name: s.name, points: s.points.filter { $0.y > 0 }.map { (x: $0.x, y: log10($0.y)) }) }
            : self.series
        let finite = series.flatMap(\.points).filter { $0.x.isFinite && $0.y.isFinite }
        let (left, right, top, bottom) = (64.0, 150.0, 36.0, 48.0)
        let plotW = width - left - right, plotH = height - top - bottom
        var xMin = finite.map(\.x).min() ?? 0, xMax = finite.map(\.x).max() ?? 1
        var yMin = finite.map(\.y).min() ?? 0, yMax = finite.map(\.y).max() ?? 1
        if xMax <= xMin { xMax = xMin + 1 }
        if yMax <= yMin { yMin -= 0.5; yMax += 0.5 }
        if logScaleY {
            yMin = yMin.rounded(.down); yMax = yMax.rounded(.up)
        } else {
            let pad = (yMax - yMin) * 0.05
            yMin -= pad; yMax += pad
        }
        func px(_ x: Double) -> Double { left + (x - xMin) / (xMax - xMin) * plotW }
        func py(_ y: Double) -> Double { top + (1 - (y - yMin) / (yMax - yMin)) * plotH }
        func fmt(_ v: Double) -> String { String(format: abs(v) >= 1000 ? "%.0f" : "%.3g", v) }

        var out = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" font-family="sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(left)" y="22" font-size="14">\(escape(title))</text>
        <rect x="\(left)" y="\(top)" width="\(plotW)" height="\(plotH)" fill="none" stroke="#888"/>

        """
        for i in 0...4 {
            let fx = xMin + (xMax - xMin) * Double(i) / 4
            out += "<line x1=\"\(px(fx))\" y1=\"\(top + plotH)\" x2=\"\(px(fx))\" y2=\"\(top + plotH + 4)\" stroke=\"#888\"/>"
            out += "<text x=\"\(px(fx))\" y=\"\(top + plotH + 18)\" text-anchor=\"middle\">\(fmt(fx))</text>\n"
        }
        // Linear: five even ticks. Log: every power of ten, thinned to at most nine labels.
        let yTicks: [Double]
        if logScaleY {
            // Powers of ten whose exponent is a multiple of 1, 2, 5, 10, … so that at most nine are labelled.
            let (low, high) = (Int(max(yMin, -10_000)), Int(min(yMax, 10_000)))
            let every = [1, 2, 5, 10, 20, 50, 100, 1000, 10_000].first { (high - low) / $0 <= 8 } ?? 10_000
            yTicks = (low...high).filter { $0 % every == 0 }.map(Double.init)
        } else {
            yTicks = (0...4).map { yMin + (yMax - yMin) * Double($0) / 4 }
        }
        for fy in yTicks {
            let label = logScaleY ? "1e\(Int(fy))" : fmt(fy)
            out += "<line x1=\"\(left - 4)\" y1=\"\(py(fy))\" x2=\"\(left + plotW)\" y2=\"\(py(fy))\" stroke=\"#eee\"/>"
            out += "<text x=\"\(left - 8)\" y=\"\(py(fy) + 4)\" text-anchor=\"end\">\(label)</text>\n"
        }
        out += "<text x=\"\(left + plotW / 2)\" y=\"\(height - 10)\" text-anchor=\"middle\">\(escape(xLabel))</text>\n"
        out += "<text transform=\"translate(16 \(top + plotH / 2)) rotate(-90)\" text-anchor=\"middle\">\(escape(yLabel))</text>\n"
        for (k, s) in series.enumerated() {
            let color = Self.colors[k % Self.colors.count]
            let points = s.points.filter { $0.x.isFinite && $0.y.isFinite }
            let coordinates = points.map { String(format: "%.1f,%.1f", px($0.x), py($0.y)) }.joined(separator: " ")
            out += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.5\" points=\"\(coordinates)\"/>\n"
            if points.count == 1, let p = points.first {
                out += "<circle cx=\"\(px(p.x))\" cy=\"\(py(p.y))\" r=\"2.5\" fill=\"\(color)\"/>\n"
            }
            let ly = top + 8 + Double(k) * 18
            out += "<line x1=\"\(left + plotW + 12)\" y1=\"\(ly)\" x2=\"\(left + plotW + 32)\" y2=\"\(ly)\" stroke=\"\(color)\" stroke-width=\"2\"/>"
            out += "<text x=\"\(left + plotW + 38)\" y=\"\(ly + 4)\">\(escape(s.name))</text>\n"
        }
        return out + "</svg>\n"
    }

    func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
