import Foundation

/// An SVG chart of latency by percentile, in the style of HdrHistogram's plotter: the x axis is
/// logarithmic in 1/(1 - percentile), so 90 %, 99 %, 99.9 %… are evenly spaced and the tail
/// gets the room; the y axis is latency in milliseconds from 0. One line per series, a legend
/// with each series' maximum.
///
/// Written as plain SVG 1.1 text by the tool itself (no plotting library, no scripts, no
/// external fonts), so it opens in any browser and can be committed beside the `.hgrm` files.
public struct PercentilePlot: Sendable {
    public struct Series: Sendable {
        public var name: String
        public var distribution: PercentileDistribution

        public init(name: String, distribution: PercentileDistribution) {
            self.name = name
            self.distribution = distribution
        }
    }

    public var title: String
    public var series: [Series]

    public var width = 900.0
    public var height = 520.0
    static let margin = (left: 78.0, right: 24.0, top: 48.0, bottom: 56.0)
    /// The x axis goes at most this many nines (99.9999 %).
    static let maxNines = 6
    static let colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]

    public init(title: String, series: [Series]) {
        self.title = title
        self.series = series
    }

    /// How many nines the x axis shows: enough for the most precise step of any series (its
    /// last below 100 %), at least 2 (99 %), at most `maxNines`.
    var nines: Int {
        let deepest = series.flatMap { $0.distribution.steps }.filter { $0.percentile < 1 }.map { Self.x(ofPercentile: $0.percentile) }.max() ?? 0
        return Swift.min(Self.maxNines, Swift.max(2, Int(deepest.rounded(.up))))
    }

    /// log10(1 / (1 - p)): 0 at 0 %, 1 at 90 %, 2 at 99 %.
    static func x(ofPercentile percentile: Double) -> Double {
        log10(1 / (1 - Swift.min(percentile, 1 - 1e-12)))
    }

    /// The y axis top: a round number at or above the highest plotted latency, and its step.
    static func yAxis(max value: Double) -> (top: Double, step: Double) {
        guard value > 0, value.isFinite else { return (1, 0.2) }
        let magnitude = pow(10, (log10(value / 5)).rounded(.down))
        for multiple in [1.0, 2, 2.5, 5, 10] {
            let step = magnitude * multiple
            if step * 5 >= value { return (step * 5, step) }
        }
        return (magnitude * 50, magnitude * 10)
    }

    /// The points of a series inside the axis (steps below 100 % up to `nines`), in plot units.
    func points(_ distribution: PercentileDistribution) -> [(x: Double, milliseconds: Double)] {
        let limit = Double(nines)
        return distribution.steps.filter { $0.percentile < 1 }.map { (Self.x(ofPercentile: $0.percentile), $0.milliseconds) }
            .filter { $0.0 <= limit }
    }

    public func svg() -> String {
        let plot = (x: Self.margin.left, y: Self.margin.top, width: width - Self.margin.left - Self.margin.right,
                    height: height - Self.margin.top - Self.margin.bottom)
        let highest = series.flatMap { points($0.distribution).map(\.milliseconds) }.max() ?? 0
        let (top, step) = Self.yAxis(max: highest)
        let nines = Double(self.nines)
        func px(_ x: Double) -> Double { plot.x + x / nines * plot.width }
        func py(_ milliseconds: Double) -> Double { plot.y + plot.height - milliseconds / top * plot.height }

        var svg = """
            <?xml version="1.0" encoding="UTF-8"?>
            <svg xmlns="http://www.w3.org/2000/svg" width="\(f(width))" height="\(f(height))" viewBox="0 0 \(f(width)) \(f(height))" \
            font-family="Helvetica, Arial, sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(f(width / 2))" y="26" text-anchor="middle" font-size="16">\(Self.escape(title))</text>

            """
        // Grid and axes.
        var value = 0.0
        while value <= top + step / 2 {
            let y = py(value)
            svg += "<line x1=\"\(f(plot.x))\" y1=\"\(f(y))\" x2=\"\(f(plot.x + plot.width))\" y2=\"\(f(y))\" stroke=\"#ddd\"/>\n"
            svg += "<text x=\"\(f(plot.x - 6))\" y=\"\(f(y + 4))\" text-anchor=\"end\">\(Self.label(milliseconds: value, step: step))</text>\n"
            value += step
        }
        for tick in 0...Int(nines) {
            let x = px(Double(tick))
            svg += "<line x1=\"\(f(x))\" y1=\"\(f(plot.y))\" x2=\"\(f(x))\" y2=\"\(f(plot.y + plot.height))\" stroke=\"#ddd\"/>\n"
            svg += "<text x=\"\(f(x))\" y=\"\(f(plot.y + plot.height + 18))\" text-anchor=\"middle\">\(Self.percentileLabel(tick))</text>\n"
        }
        svg += "<rect x=\"\(f(plot.x))\" y=\"\(f(plot.y))\" width=\"\(f(plot.width))\" height=\"\(f(plot.height))\" fill=\"none\" stroke=\"#444\"/>\n"
        svg += "<text x=\"\(f(plot.x + plot.width / 2))\" y=\"\(f(height - 12))\" text-anchor=\"middle\">percentile</text>\n"
        svg += "<text x=\"18\" y=\"\(f(plot.y + plot.height / 2))\" text-anchor=\"middle\" "
            + "transform=\"rotate(-90 18 \(f(plot.y + plot.height / 2)))\">latency (ms)</text>\n"
        // Lines, then the legend over them.
        for (index, series) in series.enumerated() {
            let color = Self.colors[index % Self.colors.count]
            let coordinates = points(series.distribution).map { "\(f(px($0.x))),\(f(py($0.milliseconds)))" }
            svg += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(coordinates.joined(separator: " "))\"/>\n"
        }
        for (index, series) in series.enumerated() {
            let color = Self.colors[index % Self.colors.count]
            let y = plot.y + 18 + Double(index) * 18
            let distribution = series.distribution
            let text = "\(series.name): p50 \(f3(distribution.milliseconds(atPercentile: 0.5))) ms, "
                + "p99 \(f3(distribution.milliseconds(atPercentile: 0.99))) ms, max \(f3(distribution.maxMilliseconds)) ms "
                + "(\(distribution.totalCount) ops)"
            svg += "<line x1=\"\(f(plot.x + 12))\" y1=\"\(f(y - 4))\" x2=\"\(f(plot.x + 36))\" y2=\"\(f(y - 4))\" stroke=\"\(color)\" stroke-width=\"3\"/>\n"
            svg += "<text x=\"\(f(plot.x + 42))\" y=\"\(f(y))\">\(Self.escape(text))</text>\n"
        }
        svg += "</svg>\n"
        return svg
    }

    /// `0%`, `90%`, `99%`, `99.9%`, …
    static func percentileLabel(_ nines: Int) -> String {
        switch nines {
        case 0: "0%"
        case 1: "90%"
        case 2: "99%"
        default: "99." + String(repeating: "9", count: nines - 2) + "%"
        }
    }

    /// A y tick label with as many decimals as the step needs (0.25 → two, 5 → none).
    static func label(milliseconds: Double, step: Double) -> String {
        var decimals = 0
        while decimals < 6 {
            let scaled = step * pow(10, Double(decimals))
            if abs(scaled - scaled.rounded()) < 1e-9 { break }
            decimals += 1
        }
        return String(format: "%.\(decimals)f", milliseconds)
    }

    /// Text for an SVG text node or attribute.
    static func escape(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            default:
                if let ascii = character.asciiValue, ascii < 0x20 { continue }  // XML 1.0 has no control characters
                escaped.append(character)
            }
        }
        return escaped
    }

    private func f(_ value: Double) -> String { String(format: "%.1f", value) }
    private func f3(_ value: Double) -> String { String(format: "%.3f", value) }
}
