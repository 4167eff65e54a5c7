import Foundation

/// An SVG picture of attention weights: source tokens along the top (columns), output tokens down
/// the left (rows), each cell shaded from white (0) to dark blue (1), with the weight written in cells ≥ 0.1.
public struct AttentionHeatmap {
    public var source: [String]
    public var output: [String]
    /// [output step][source position], each in 0...1.
    public var weights: [[Double]]
    public var title: String

    public init(source: [String], output: [String], weights: [[Double]], title: String = "") {
        self.source = source
        self.output = output
        self.weights = weights
        self.title = title
    }

    public func svg(cell: Double = 28) -> String {
        let longest = { (tokens: [String]) in Double(tokens.map(\.count).max() ?? 1) }
        let left = 12 + 7 * longest(output), top = (title.isEmpty ? 12 : 32) + 7 * longest(source)
        let width = left + cell * Double(source.count) + 12, height = top + cell * Double(output.count) + 12
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" font-family=\"sans-serif\" font-size=\"12\">\n"
        s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        if !title.isEmpty { s += "<text x=\"\(Int(width / 2))\" y=\"18\" text-anchor=\"middle\" font-size=\"14\">\(escape(title))</text>\n" }
        for (j, token) in source.enumerated() {
            let x = left + cell * (Double(j) + 0.5), y = top - 6
            s += "<text transform=\"translate(\(f(x)),\(f(y))) rotate(-60)\" text-anchor=\"start\">\(escape(token))</text>\n"
        }
        for (i, token) in output.enumerated() {
            s += "<text x=\"\(f(left - 6))\" y=\"\(f(top + cell * (Double(i) + 0.5) + 4))\" text-anchor=\"end\">\(escape(token))</text>\n"
            for j in source.indices {
                let w = i < weights.count && j < weights[i].count ? min(max(weights[i][j], 0), 1) : 0
                // White to rgb(8, 48, 107) (matplotlib's Blues end).
                let r = Int(255 - (255 - 8) * w), g = Int(255 - (255 - 48) * w), b = Int(255 - (255 - 107) * w)
                let x = left + cell * Double(j), y = top + cell * Double(i)
                s += "<rect x=\"\(f(x))\" y=\"\(f(y))\" width=\"\(f(cell))\" height=\"\(f(cell))\" fill=\"rgb(\(r),\(g),\(b))\" stroke=\"#ddd\"><title>\(String(format: "%.3f", w))</title></rect>\n"
                if w >= 0.1 {
                    s += "<text x=\"\(f(x + cell / 2))\" y=\"\(f(y + cell / 2 + 4))\" text-anchor=\"middle\" font-size=\"9\" fill=\"\(w > 0.5 ? "white" : "black")\">\(String(format: "%.2f", w))</text>\n"
                }
            }
        }
        return s + "</svg>\n"
    }

    func f(_ v: Double) -> String { String(format: "%.1f", v) }

    func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
