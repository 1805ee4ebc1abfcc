/// A picture of one chaos run: throughput, latency percentiles and errors over time, with the
/// fault intervals shaded, as a self-contained SVG document.
///
/// The point is to see at a glance what each fault did to the clients: whether throughput
/// dropped, how far latency climbed, and whether errors started and stopped with the fault. The
/// renderer uses the standard library only, so the output is the same on every platform and
/// for every call with the same input: no dates, no randomness, no locale.
public enum Timeline {
    /// One client operation: when it started and ended (milliseconds since the run began; `end`
    /// nil when no answer came), and how it ended.
    public struct Op: Sendable, Hashable {
        /// How an operation ended: acknowledged, refused, or with no answer to know by.
        public enum Outcome: Sendable, Hashable { case ok, failed, unknown }
        /// Milliseconds since the run began when the client sent the request.
        public var start: Double
        /// Milliseconds since the run began when the answer came; nil when none came.
        public var end: Double?
        /// How the operation ended.
        public var outcome: Outcome

        /// An operation from its start, its end (nil when no answer came) and its outcome.
        public init(start: Double, end: Double?, outcome: Outcome) {
            self.start = start
            self.end = end
            self.outcome = outcome
        }
    }

    /// A fault: from `start` to `end` (ms since the run began; `end` nil: lasted to the end of
    /// the run), with a short label such as "partition 1 2 | 3 4 5".
    public struct Fault: Sendable, Hashable {
        /// Milliseconds since the run began when the fault was injected.
        public var start: Double
        /// Milliseconds since the run began when the fault was healed; nil when it never was.
        public var end: Double?
        /// What the fault was, written at the top of its shaded interval.
        public var label: String

        /// A fault from its interval and its label.
        public init(start: Double, end: Double?, label: String) {
            self.start = start
            self.end = end
            self.label = label
        }
    }

    /// Per-second buckets computed from the ops (exposed for tests): bucket i covers
    /// [i*1000, (i+1)*1000) by the op's end time (start time for ops with no end). The ok,
    /// failed and unknown counts per bucket; p50 and p99 latency (end - start, ms) of the ok ops
    /// ending in that bucket (nil when none), using the nearest-rank method.
    public struct Bucket: Sendable, Hashable {
        /// The bucket's index: it covers [second*1000, (second+1)*1000) ms.
        public var second: Int
        /// Operations acknowledged in this second.
        public var ok: Int
        /// Operations refused in this second.
        public var failed: Int
        /// Operations whose outcome is unknown (timed out, connection lost) in this second.
        public var unknown: Int
        /// The median latency (ms) of this second's ok operations; nil when there were none.
        public var p50: Double?
        /// The 99th percentile latency (ms) of this second's ok operations; nil when none.
        public var p99: Double?
    }

    /// Counts and latency percentiles per second of the run.
    ///
    /// There is one bucket per started second of `duration` (one bucket when `duration` is 0);
    /// an op dated exactly at `duration` counts in the last bucket, and ops dated before 0 or
    /// after `duration` are left out, as they are outside the picture. An ok op with no end
    /// counts as ok but has no latency to contribute, and a negative latency (a clock that
    /// stepped back) counts as 0 rather than being dropped, so every ok answer weighs the same.
    public static func buckets(_ ops: [Op], duration: Double) -> [Bucket] {
        let span = effectiveDuration(duration)
        let wholeSeconds = Int(span / 1000)
        let count = max(1, Double(wholeSeconds) * 1000 < span ? wholeSeconds + 1 : wholeSeconds)
        var result = (0..<count).map { Bucket(second: $0, ok: 0, failed: 0, unknown: 0, p50: nil, p99: nil) }
        var latencies = [[Double]](repeating: [], count: count)
        for op in ops {
            let at = op.end ?? op.start
            guard at.isFinite, at >= 0, at <= span else { continue }
            let index = min(Int(at / 1000), count - 1)
            switch op.outcome {
            case .ok:
                result[index].ok += 1
                if let end = op.end {
                    let latency = end - op.start
                    if latency.isFinite { latencies[index].append(max(0, latency)) }
                }
            case .failed:
                result[index].failed += 1
            case .unknown:
                result[index].unknown += 1
            }
        }
        for index in 0..<count where !latencies[index].isEmpty {
            let sorted = latencies[index].sorted()
            result[index].p50 = nearestRank(50, of: sorted)
            result[index].p99 = nearestRank(99, of: sorted)
        }
        return result
    }

    /// The SVG document (UTF-8 text starting with `<svg`, with xmlns="http://www.w3.org/2000/svg",
    /// width/height attributes and a viewBox), 3 stacked panels sharing one time axis (seconds):
    /// (1) operations per second, ok, failed and unknown stacked in three colours; (2) latency
    /// p50 and p99 of ok ops per second, in milliseconds, on a log-scale y axis with tick
    /// labels; (3) failed+unknown per second, on its own scale so a few errors stay visible next
    /// to thousands of ok ops. Every fault interval is a translucent shaded rectangle spanning
    /// all panels, with its label written at its top. A legend, a title (the `title` argument),
    /// axis labels with units. `duration` is the run length in ms (the x axis spans
    /// 0...duration; ops or faults beyond it are clipped).
    public static func svg(ops: [Op], faults: [Fault], duration: Double, title: String) -> String {
        let span = effectiveDuration(duration)
        let buckets = Self.buckets(ops, duration: span)
        let time = TimeAxis(span: span)
        // Bucket i is drawn from edges[i] to edges[i + 1]; the last one may be a partial second.
        let edges = (0...buckets.count).map { time.x(min(Double($0) * 1000, span)) }

        var doc = ""
        doc.reserveCapacity(8192 + buckets.count * 120)
        doc += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(number(Layout.width))\" height=\"\(number(Layout.height))\""
        doc += " viewBox=\"0 0 \(number(Layout.width)) \(number(Layout.height))\" font-family=\"sans-serif\" font-size=\"11\">\n"
        doc += "<title>\(escape(title))</title>\n"
        doc += "<rect class=\"background\" x=\"0\" y=\"0\" width=\"\(number(Layout.width))\" height=\"\(number(Layout.height))\" fill=\"#ffffff\"/>\n"
        doc += "<text class=\"title\" x=\"\(number(Layout.width / 2))\" y=\"26\" text-anchor=\"middle\" font-size=\"16\" font-weight=\"bold\">\(escape(title))</text>\n"
        drawLegend(into: &doc, buckets: buckets, span: span)

        let counts = LinearAxis(maximum: buckets.map { $0.ok + $0.failed + $0.unknown }.max() ?? 0)
        let errors = LinearAxis(maximum: buckets.map { $0.failed + $0.unknown }.max() ?? 0)
        let latency = LatencyAxis(buckets)

        // Grids first, then the fault shading, then the data, so the shading tints the
        // background without hiding any of the lines drawn over it.
        let tickFractions = [
            counts.ticks.map { counts.y(Double($0)) }, latency.ticks.map(latency.y), errors.ticks.map { errors.y(Double($0)) },
        ]
        for (panel, fractions) in zip(Layout.panels, tickFractions) {
            drawGrid(into: &doc, panel: panel, time: time, yPositions: fractions.map { panel.bottom - $0 * panel.height })
        }
        let drawnFaults = drawFaultShading(into: &doc, faults: faults, time: time, span: span)

        let panel1 = Layout.panels[0], panel2 = Layout.panels[1], panel3 = Layout.panels[2]
        let ok = buckets.map { Double($0.ok) }
        let failed = buckets.map { Double($0.failed) }
        let unknown = buckets.map { Double($0.unknown) }
        let okAndFailed = zip(ok, failed).map(+)
        let total = zip(okAndFailed, unknown).map(+)
        let throughputY = { (v: Double) in panel1.bottom - counts.y(v) * panel1.height }
        drawArea(into: &doc, series: "ok", colour: Colour.ok, edges: edges, bottoms: ok.map { _ in throughputY(0) }, tops: ok.map(throughputY))
        drawArea(into: &doc, series: "failed", colour: Colour.failed, edges: edges, bottoms: ok.map(throughputY), tops: okAndFailed.map(throughputY))
        drawArea(into: &doc, series: "unknown", colour: Colour.unknown, edges: edges, bottoms: okAndFailed.map(throughputY), tops: total.map(throughputY))

        let latencyY = { (v: Double) in panel2.bottom - latency.y(v) * panel2.height }
        drawLine(into: &doc, series: "p50", colour: Colour.p50, edges: edges, values: buckets.map { $0.p50.map(latencyY) })
        drawLine(into: &doc, series: "p99", colour: Colour.p99, edges: edges, values: buckets.map { $0.p99.map(latencyY) })
        if !buckets.contains(where: { $0.p50 != nil }) {
            doc += "<text class=\"note\" x=\"\(number((Layout.plotLeft + Layout.plotRight) / 2))\" y=\"\(number(panel2.top + panel2.height / 2))\""
            doc += " text-anchor=\"middle\" fill=\"#757575\">no successful operations</text>\n"
        }

        let errorY = { (v: Double) in panel3.bottom - errors.y(v) * panel3.height }
        let failedAndUnknown = zip(failed, unknown).map(+)
        drawArea(into: &doc, series: "failed", colour: Colour.failed, edges: edges, bottoms: failed.map { _ in errorY(0) }, tops: failed.map(errorY))
        drawArea(into: &doc, series: "unknown", colour: Colour.unknown, edges: edges, bottoms: failed.map(errorY), tops: failedAndUnknown.map(errorY))

        drawYAxis(into: &doc, panel: panel1, name: "ops / s", ticks: counts.ticks.map { (counts.y(Double($0)), "\($0)") })
        drawYAxis(into: &doc, panel: panel2, name: "ok latency (ms, log)", ticks: latency.ticks.map { (latency.y($0), number($0)) })
        drawYAxis(into: &doc, panel: panel3, name: "failed + unknown / s", ticks: errors.ticks.map { (errors.y(Double($0)), "\($0)") })
        drawFaultLabels(into: &doc, faults: drawnFaults)
        drawXAxis(into: &doc, time: time)
        doc += "</svg>\n"
        return doc
    }
}

// MARK: - Layout and scales

extension Timeline {
    /// Runs longer than a day are drawn as their first day: a picture 810 px wide cannot show
    /// more, and a per-second bucket array and path for a longer span only costs memory.
    static let maximumDuration: Double = 86_400_000

    /// The run length used for the buckets and the x axis: `duration`, with 0 (or anything not
    /// a positive finite number) read as one second, so an empty run still gets an axis.
    static func effectiveDuration(_ duration: Double) -> Double {
        guard duration.isFinite, duration > 0 else { return 1000 }
        return min(duration, maximumDuration)
    }

    /// The nearest-rank percentile of sorted values: the smallest value with at least
    /// `percent`% of the values at or below it. Integer arithmetic keeps the rank exact, where
    /// `0.99 * n` in floating point can land just above a whole number and skip a rank.
    static func nearestRank(_ percent: Int, of sorted: [Double]) -> Double {
        let rank = max(1, (percent * sorted.count + 99) / 100)
        return sorted[rank - 1]
    }

    /// Where everything goes, in px. The three panels share the plot's left and right edges.
    enum Layout {
        static let width = 900.0
        static let height = 600.0
        static let plotLeft = 70.0
        static let plotRight = 880.0
        static let panelHeight = 140.0
        static let panelGap = 25.0
        static let plotTop = 68.0
        static let panels: [Panel] = (0..<3).map {
            Panel(top: plotTop + Double($0) * (panelHeight + panelGap), height: panelHeight)
        }
        static let plotBottom = panels[2].bottom
    }

    /// One panel's vertical extent.
    struct Panel {
        var top: Double
        var height: Double
        var bottom: Double { top + height }
    }

    /// Green, red and orange areas for the outcomes, blue and purple lines for the
    /// percentiles. The stacking order (ok at the bottom, then failed, then unknown) tells the
    /// outcomes apart where a reader cannot tell the hues apart.
    enum Colour {
        static let ok = "#43a047"
        static let failed = "#e53935"
        static let unknown = "#fb8c00"
        static let p50 = "#1e88e5"
        static let p99 = "#8e24aa"
        static let fault = "#9e9e9e"
        static let grid = "#e6e6e6"
        static let frame = "#9e9e9e"
    }

    /// The shared time axis: milliseconds to px, and ticks every 1, 2 or 5 × 10ⁿ tenths of a
    /// second, at most about ten of them.
    struct TimeAxis {
        var span: Double
        /// Tick positions in tenths of a second; integers so labels never drift (0.30000000000000004).
        var ticks: [Int]

        init(span: Double) {
            self.span = span
            let spanTenths = span / 100
            let step = Timeline.nice(atLeast: spanTenths / 10)
            var ticks: [Int] = []
            var tick = 0
            while Double(tick) <= spanTenths {
                ticks.append(tick)
                tick += step
            }
            self.ticks = ticks
        }

        /// The px column of a moment (ms), clamped to the plot.
        func x(_ milliseconds: Double) -> Double {
            let clamped = min(max(milliseconds, 0), span)
            return Layout.plotLeft + clamped / span * (Layout.plotRight - Layout.plotLeft)
        }
    }

    /// A count axis from 0 to a nice top, with at most five steps of 1, 2 or 5 × 10ⁿ.
    struct LinearAxis {
        var top: Int
        var ticks: [Int]

        init(maximum: Int) {
            let step = Timeline.nice(atLeast: Double(maximum) / 5)
            let steps = max(1, (maximum + step - 1) / step)
            top = step * steps
            ticks = (0...steps).map { $0 * step }
        }

        /// A value's height as a fraction of the panel, 0 at the bottom.
        func y(_ value: Double) -> Double { min(max(value / Double(top), 0), 1) }
    }

    /// The latency axis: logarithmic, because a fault typically moves p99 from milliseconds to
    /// a timeout of seconds, and on a linear axis the p50 line would then sit flat on zero.
    /// It spans the power of ten at or below the lowest p50 (0.1 ms at least, the finest label
    /// one decimal can write) up to the highest p99 rounded up to 1, 2 or 5 × 10ⁿ ms.
    struct LatencyAxis {
        /// Bounds and ticks in ms, all of the form 1, 2 or 5 × 10ⁿ.
        var lower: Double
        var upper: Double
        var ticks: [Double]

        /// Latencies above this (about 11.6 days) can only come from a nonsensical op, such as
        /// one started long before the run; they are drawn at the top rather than stretching
        /// the axis.
        static let ceiling = 1e9

        init(_ buckets: [Bucket]) {
            let lows = buckets.compactMap(\.p50).filter { $0 > 0 }
            let highs = buckets.compactMap(\.p99)
            // Work in tenths of a millisecond so every bound and tick is an exact integer.
            let lowest = Int(min(lows.min() ?? 1, LatencyAxis.ceiling / 10) * 10)
            var lowerTenths = 1
            while lowerTenths * 10 <= lowest { lowerTenths *= 10 }
            let highest = min(highs.max() ?? 1000, LatencyAxis.ceiling)
            let upperTenths = max(Timeline.nice(atLeast: highest * 10), lowerTenths * 10)

            // Up to three decades, label 1, 2 and 5 of each; beyond, only the powers of ten,
            // or the labels would overlap in a panel 140 px high.
            let multiples = upperTenths / lowerTenths <= 1000 ? [1, 2, 5] : [1]
            var ticks: [Double] = []
            var decade = lowerTenths
            outer: while true {
                for multiple in multiples {
                    let tick = decade * multiple
                    if tick > upperTenths { break outer }
                    ticks.append(Double(tick) / 10)
                }
                decade *= 10
            }
            lower = Double(lowerTenths) / 10
            upper = Double(upperTenths) / 10
            // Label the top too when it is not a power of ten, if it is far enough above the
            // last label not to print over it.
            if let last = ticks.last, last < upper {
                let gap = (Timeline.log10(upper) - Timeline.log10(last)) / (Timeline.log10(upper) - Timeline.log10(lower))
                if gap * Layout.panelHeight >= 14 { ticks.append(upper) }
            }
            self.ticks = ticks
        }

        /// A latency's height as a fraction of the panel, 0 at the bottom; clamped to the axis.
        func y(_ milliseconds: Double) -> Double {
            let clamped = min(max(milliseconds, lower), upper)
            return (Timeline.log10(clamped) - Timeline.log10(lower)) / (Timeline.log10(upper) - Timeline.log10(lower))
        }
    }

    /// The smallest of 1, 2, 5, 10, 20, 50, … that is at least `value` (and at least 1).
    static func nice(atLeast value: Double) -> Int {
        var decade = 1
        while true {
            for multiple in [1, 2, 5] where Double(decade * multiple) >= value {
                return decade * multiple
            }
            // Inputs are bounded (counts, capped latencies and durations); this only stops an
            // absurd one from overflowing.
            guard decade <= Int.max / 100 else { return decade * 10 }
            decade *= 10
        }
    }

    /// log₁₀ of a positive finite number. The standard library has no logarithm without
    /// Foundation, so: x = m·2ᵉ with m in [1, 2), and ln m = 2·atanh((m−1)/(m+1)), whose series
    /// in z² ≤ 1/9 is exact to double precision in 20 terms.
    static func log10(_ x: Double) -> Double {
        let m = x.significand
        let z = (m - 1) / (m + 1)
        let zSquared = z * z
        var term = z
        var sum = 0.0
        var divisor = 1.0
        for _ in 0..<20 {
            sum += term / divisor
            term *= zSquared
            divisor += 2
        }
        let ln2 = 0.693_147_180_559_945_3
        let ln10 = 2.302_585_092_994_045_7
        return (Double(x.exponent) * ln2 + 2 * sum) / ln10
    }

    /// A number with at most one decimal, never in exponent form: "3", "2.5", "-0.3".
    ///
    /// Rounds half away from zero by hand, like `rounded()`, which on Linux calls libm's
    /// `round`: a target with only the standard library does not link libm, and an
    /// executable that imports nothing else would fail to link.
    static func number(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        let scaled = (min(max(value, -1e15), 1e15) * 10).magnitude
        var tenths = Int64(scaled)
        if scaled - Double(tenths) >= 0.5 { tenths += 1 }
        let sign = value < 0 && tenths != 0 ? "-" : ""
        let fraction = tenths % 10
        return fraction == 0 ? "\(sign)\(tenths / 10)" : "\(sign)\(tenths / 10).\(fraction)"
    }

    /// Text made safe for XML content and attribute values: the markup characters escaped, and
    /// the control characters XML 1.0 forbids (a label is caller text) replaced by U+FFFD, so
    /// the document stays well-formed whatever the caller passed.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            case "\u{0}"..."\u{1F}", "\u{FFFE}", "\u{FFFF}": out.unicodeScalars.append("\u{FFFD}")
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

// MARK: - Drawing

extension Timeline {
    /// The outline of a step function: each bucket's y held from its left edge to its right,
    /// with points only where the value changes, so a quiet run makes a short path.
    static func stepPoints(edges: [Double], ys: ArraySlice<Double>, from first: Int) -> [(Double, Double)] {
        guard let initial = ys.first else { return [] }
        var points = [(edges[first], initial)]
        var previous = initial
        for (offset, y) in ys.enumerated().dropFirst() where y != previous {
            let x = edges[first + offset]
            points.append((x, previous))
            points.append((x, y))
            previous = y
        }
        points.append((edges[first + ys.count], previous))
        return points
    }

    static func pathData(_ points: [(Double, Double)], closed: Bool) -> String {
        var d = ""
        for (index, (x, y)) in points.enumerated() {
            d += index == 0 ? "M" : " L"
            d += "\(number(x)) \(number(y))"
        }
        return closed ? d + " Z" : d
    }

    /// One layer of a stacked area: the band between `bottoms` and `tops` (px, per bucket).
    /// Nothing is drawn for a layer that is empty throughout.
    static func drawArea(into doc: inout String, series: String, colour: String, edges: [Double], bottoms: [Double], tops: [Double]) {
        guard zip(bottoms, tops).contains(where: { $0 != $1 }) else { return }
        let top = stepPoints(edges: edges, ys: tops[...], from: 0)
        let bottom = stepPoints(edges: edges, ys: bottoms[...], from: 0)
        doc += "<path class=\"area \(series)\" d=\"\(pathData(top + bottom.reversed(), closed: true))\" fill=\"\(colour)\" fill-opacity=\"0.85\"/>\n"
    }

    /// A step line through the buckets that have a value (px), broken where they have none, so
    /// a second without an ok op shows as a gap rather than as a line drawn through it.
    static func drawLine(into doc: inout String, series: String, colour: String, edges: [Double], values: [Double?]) {
        var d = ""
        var index = 0
        while index < values.count {
            guard values[index] != nil else {
                index += 1
                continue
            }
            var end = index
            while end < values.count, values[end] != nil { end += 1 }
            let run = values[index..<end].map { $0! }
            if !d.isEmpty { d += " " }
            d += pathData(stepPoints(edges: edges, ys: run[...], from: index), closed: false)
            index = end
        }
        guard !d.isEmpty else { return }
        doc += "<path class=\"line \(series)\" d=\"\(d)\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"1.5\" stroke-linejoin=\"round\"/>\n"
    }

    /// The horizontal grid lines of a panel at `yPositions` (px) and the vertical ones at the
    /// time ticks.
    static func drawGrid(into doc: inout String, panel: Panel, time: TimeAxis, yPositions: [Double]) {
        for y in yPositions {
            doc += "<line class=\"grid\" x1=\"\(number(Layout.plotLeft))\" y1=\"\(number(y))\" x2=\"\(number(Layout.plotRight))\" y2=\"\(number(y))\" stroke=\"\(Colour.grid)\"/>\n"
        }
        for tick in time.ticks {
            let x = number(time.x(Double(tick) * 100))
            doc += "<line class=\"grid\" x1=\"\(x)\" y1=\"\(number(panel.top))\" x2=\"\(x)\" y2=\"\(number(panel.bottom))\" stroke=\"\(Colour.grid)\"/>\n"
        }
    }

    /// A panel's frame, its tick labels (height fraction, text) and its rotated axis name.
    static func drawYAxis(into doc: inout String, panel: Panel, name: String, ticks: [(Double, String)]) {
        doc += "<rect class=\"frame\" x=\"\(number(Layout.plotLeft))\" y=\"\(number(panel.top))\" width=\"\(number(Layout.plotRight - Layout.plotLeft))\""
        doc += " height=\"\(number(panel.height))\" fill=\"none\" stroke=\"\(Colour.frame)\"/>\n"
        for (fraction, label) in ticks {
            let y = panel.bottom - fraction * panel.height
            doc += "<text class=\"tick\" x=\"\(number(Layout.plotLeft - 6))\" y=\"\(number(y + 3.5))\" text-anchor=\"end\" font-size=\"10\">\(escape(label))</text>\n"
        }
        let centre = number(panel.top + panel.height / 2)
        doc += "<text class=\"axis-label\" x=\"16\" y=\"\(centre)\" transform=\"rotate(-90 16 \(centre))\" text-anchor=\"middle\">\(escape(name))</text>\n"
    }

    /// The time ticks under the bottom panel and the axis name.
    static func drawXAxis(into doc: inout String, time: TimeAxis) {
        for tick in time.ticks {
            let x = time.x(Double(tick) * 100)
            doc += "<text class=\"tick\" x=\"\(number(x))\" y=\"\(number(Layout.plotBottom + 15))\" text-anchor=\"middle\" font-size=\"10\">\(number(Double(tick) / 10))</text>\n"
        }
        doc += "<text class=\"axis-label\" x=\"\(number((Layout.plotLeft + Layout.plotRight) / 2))\" y=\"\(number(Layout.plotBottom + 38))\" text-anchor=\"middle\">time since start (s)</text>\n"
    }

    /// A fault as drawn: its clipped column (px) and its text.
    struct DrawnFault {
        var x: Double
        var width: Double
        var label: String
    }

    /// One translucent rectangle per fault that overlaps the run, from the top of the first
    /// panel to the bottom of the last. A fault ending before it starts (or instantaneous, like a
    /// kill) gets 1 px, so it stays visible; a fault entirely outside 0...span is not drawn.
    static func drawFaultShading(into doc: inout String, faults: [Fault], time: TimeAxis, span: Double) -> [DrawnFault] {
        var drawn: [DrawnFault] = []
        for fault in faults {
            guard fault.start.isFinite else { continue }
            let end = fault.end.flatMap { $0.isFinite ? max($0, fault.start) : nil } ?? max(span, fault.start)
            guard fault.start <= span, end >= 0 else { continue }
            let from = time.x(fault.start), to = time.x(end)
            let width = max(to - from, 1)
            let x = min(from, Layout.plotRight - width)
            let until = fault.end?.isFinite == true ? "\(number(end / 1000)) s" : "the end of the run"
            doc += "<rect class=\"fault\" x=\"\(number(x))\" y=\"\(number(Layout.plotTop))\" width=\"\(number(width))\" height=\"\(number(Layout.plotBottom - Layout.plotTop))\""
            doc += " fill=\"\(Colour.fault)\" fill-opacity=\"0.25\"><title>\(escape(fault.label)): \(number(fault.start / 1000)) s to \(until)</title></rect>\n"
            drawn.append(DrawnFault(x: x, width: width, label: fault.label))
        }
        return drawn
    }

    /// The faults' labels at the top of their rectangles, drawn last so no data covers them,
    /// with a white halo to stay legible over the lines. Successive labels step down three
    /// rows so faults that start close together do not print over each other, and a label
    /// that would run off the right edge (a fault late in the run) ends at the edge instead.
    static func drawFaultLabels(into doc: inout String, faults: [DrawnFault]) {
        for (index, fault) in faults.enumerated() {
            let y = Layout.plotTop + 12 + Double(index % 3) * 12
            // About 5.5 px per character at 10 px sans-serif.
            let fits = fault.x + 3 + Double(fault.label.count) * 5.5 <= Layout.plotRight
            let anchor = fits ? "" : " text-anchor=\"end\""
            let x = fits ? fault.x + 3 : Layout.plotRight - 3
            doc += "<text class=\"fault-label\" x=\"\(number(x))\" y=\"\(number(y))\"\(anchor) font-size=\"10\" fill=\"#424242\""
            doc += " stroke=\"#ffffff\" stroke-width=\"3\" paint-order=\"stroke\">\(escape(fault.label))</text>\n"
        }
    }

    /// The legend under the title, and on the right a one-line summary of what was counted.
    static func drawLegend(into doc: inout String, buckets: [Bucket], span: Double) {
        enum Swatch { case area(colour: String, opacity: String), line(colour: String) }
        let items: [(String, Swatch)] = [
            ("ok", .area(colour: Colour.ok, opacity: "0.85")),
            ("failed", .area(colour: Colour.failed, opacity: "0.85")),
            ("unknown", .area(colour: Colour.unknown, opacity: "0.85")),
            ("p50 latency", .line(colour: Colour.p50)),
            ("p99 latency", .line(colour: Colour.p99)),
            ("fault", .area(colour: Colour.fault, opacity: "0.25")),
        ]
        let y = 48.0
        var x = Layout.plotLeft
        for (label, swatch) in items {
            switch swatch {
            case .area(let colour, let opacity):
                doc += "<rect class=\"legend\" x=\"\(number(x))\" y=\"\(number(y - 9))\" width=\"12\" height=\"10\" fill=\"\(colour)\" fill-opacity=\"\(opacity)\"/>\n"
            case .line(let colour):
                doc += "<line class=\"legend\" x1=\"\(number(x))\" y1=\"\(number(y - 4))\" x2=\"\(number(x + 12))\" y2=\"\(number(y - 4))\" stroke=\"\(colour)\" stroke-width=\"2\"/>\n"
            }
            doc += "<text class=\"legend\" x=\"\(number(x + 16))\" y=\"\(number(y))\">\(label)</text>\n"
            // About 6 px per character at 11 px sans-serif, plus room before the next swatch.
            x += 16 + Double(label.count) * 6 + 18
        }
        let ok = buckets.reduce(0) { $0 + $1.ok }
        let failed = buckets.reduce(0) { $0 + $1.failed }
        let unknown = buckets.reduce(0) { $0 + $1.unknown }
        doc += "<text class=\"summary\" x=\"\(number(Layout.plotRight))\" y=\"\(number(y))\" text-anchor=\"end\" fill=\"#616161\">"
        doc += "\(ok + failed + unknown) ops in \(number(span / 1000)) s: \(ok) ok, \(failed) failed, \(unknown) unknown</text>\n"
    }
}
