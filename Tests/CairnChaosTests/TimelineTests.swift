import Testing
@testable import CairnChaos

/// The per-second buckets must count every outcome where it ended and take nearest-rank
/// percentiles; the SVG must be one well-formed, deterministic document whatever the run was.
@Suite struct TimelineBucketTests {
    @Test func bucketsCountOutcomesAndTakeNearestRankPercentiles() {
        // Ten ok ops with latencies 1...10 ms ending in second 0, in shuffled order so the
        // percentiles depend on sorting; a failed and an unknown op ending in second 1.
        var ops = [7, 3, 10, 1, 5, 9, 2, 8, 4, 6].map { Timeline.Op(start: 100, end: 100 + Double($0), outcome: .ok) }
        ops.append(Timeline.Op(start: 900, end: 1200, outcome: .failed))
        ops.append(Timeline.Op(start: 1100, end: 1999, outcome: .unknown))
        let buckets = Timeline.buckets(ops, duration: 2000)
        #expect(buckets == [
            Timeline.Bucket(second: 0, ok: 10, failed: 0, unknown: 0, p50: 5, p99: 10),
            Timeline.Bucket(second: 1, ok: 0, failed: 1, unknown: 1, p50: nil, p99: nil),
        ])
    }

    @Test func nearestRankPicksARecordedLatencyNeverAnInterpolation() {
        #expect(Timeline.nearestRank(50, of: [15, 20, 35, 40, 50]) == 35)
        #expect(Timeline.nearestRank(99, of: [15, 20, 35, 40, 50]) == 50)
        #expect(Timeline.nearestRank(50, of: [1, 2, 3, 4]) == 2)
        let hundred = (1...100).map(Double.init)
        #expect(Timeline.nearestRank(50, of: hundred) == 50)
        #expect(Timeline.nearestRank(99, of: hundred) == 99)
        #expect(Timeline.nearestRank(99, of: (1...200).map(Double.init)) == 198)
        #expect(Timeline.nearestRank(50, of: [42]) == 42 && Timeline.nearestRank(99, of: [42]) == 42)

        let ops = [4.0, 1, 3, 2].map { Timeline.Op(start: 3000, end: 3000 + $0, outcome: .ok) }
        let bucket = Timeline.buckets(ops, duration: 4000)[3]
        #expect(bucket.p50 == 2 && bucket.p99 == 4)
    }

    @Test func opsWithoutAnEndCountInTheSecondTheyStarted() {
        let ops = [
            Timeline.Op(start: 2500, end: nil, outcome: .unknown),
            Timeline.Op(start: 1500, end: nil, outcome: .ok),
            Timeline.Op(start: 1500, end: 2100, outcome: .failed),
        ]
        let buckets = Timeline.buckets(ops, duration: 3000)
        #expect(buckets.map(\.unknown) == [0, 0, 1])
        #expect(buckets.map(\.failed) == [0, 0, 1])
        // An ok op without an end counts, but has no latency to give.
        #expect(buckets[1].ok == 1 && buckets[1].p50 == nil && buckets[1].p99 == nil)
    }

    @Test func onlyOkOpsGiveLatenciesAndABackwardClockCountsAsZero() {
        let ops = [
            Timeline.Op(start: 0, end: 900, outcome: .failed),
            Timeline.Op(start: 0, end: 950, outcome: .unknown),
            Timeline.Op(start: 500, end: 490, outcome: .ok),
        ]
        let bucket = Timeline.buckets(ops, duration: 1000)[0]
        #expect(bucket.p50 == 0 && bucket.p99 == 0)
    }

    @Test func theRunLengthDecidesTheBucketsAndOpsOutsideItAreLeftOut() {
        let ops = [
            Timeline.Op(start: 2000, end: 2500, outcome: .ok),  // exactly at the end: last bucket
            Timeline.Op(start: 2000, end: 2600, outcome: .ok),  // after the end
            Timeline.Op(start: -5, end: nil, outcome: .unknown),  // before the start
            Timeline.Op(start: .nan, end: nil, outcome: .failed),
        ]
        let buckets = Timeline.buckets(ops, duration: 2500)
        #expect(buckets.map(\.second) == [0, 1, 2])
        #expect(buckets.map(\.ok) == [0, 0, 1])
        #expect(buckets.allSatisfy { $0.failed == 0 && $0.unknown == 0 })

        // A run of length 0 is read as one second.
        let empty = Timeline.buckets([Timeline.Op(start: 0, end: 999, outcome: .ok)], duration: 0)
        #expect(empty == [Timeline.Bucket(second: 0, ok: 1, failed: 0, unknown: 0, p50: 999, p99: 999)])
        #expect(Timeline.buckets([], duration: .nan).count == 1)
        #expect(Timeline.buckets([], duration: 60_000).count == 60)
        #expect(Timeline.buckets([], duration: 60_001).count == 61)
    }
}

@Suite struct TimelineSVGTests {
    static let faults = [
        Timeline.Fault(start: 10_000, end: 25_000, label: "partition 1 2 | 3 4 5"),
        Timeline.Fault(start: 30_000, end: 31_000, label: "a<b & \"c\""),
        Timeline.Fault(start: 45_000, end: nil, label: "kill node 3"),
    ]

    /// A minute of ops, five started every 100 ms, slow and failing during the partition.
    static let ops: [Timeline.Op] = (0..<600).flatMap { tick -> [Timeline.Op] in
        let start = Double(tick) * 100
        let partitioned = start >= 10_000 && start < 25_000
        return (0..<5).map { client in
            let latency = Double(2 + (tick * 7 + client * 3) % 11) * (partitioned ? 40 : 1)
            switch (tick + client) % (partitioned ? 3 : 50) {
            case 0: return Timeline.Op(start: start, end: start + latency, outcome: .failed)
            case 1 where partitioned: return Timeline.Op(start: start, end: nil, outcome: .unknown)
            default: return Timeline.Op(start: start, end: start + latency, outcome: .ok)
            }
        }
    }

    @Test func theDocumentHasItsHeaderTitleAndOneShadedRectanglePerFault() throws {
        let svg = Timeline.svg(ops: Self.ops, faults: Self.faults, duration: 60_000, title: "set workload & partitions")
        #expect(svg.hasPrefix("<svg"))
        let root = try #require(tags(in: svg, startingWith: "<svg").first)
        #expect(root.contains("xmlns=\"http://www.w3.org/2000/svg\""))
        #expect(attribute("width", of: root) == 900 && attribute("height", of: root) == 600)
        #expect(root.contains("viewBox=\"0 0 900 600\""))
        #expect(svg.contains(">set workload &amp; partitions</text>"))
        #expect(svg.contains("<title>set workload &amp; partitions</title>"))

        #expect(tags(in: svg, startingWith: "<rect class=\"fault\"").count == Self.faults.count)
        #expect(tags(in: svg, startingWith: "<rect class=\"fault\"").allSatisfy { $0.contains("fill-opacity=\"0.25\"") })
        #expect(svg.contains(">partition 1 2 | 3 4 5</text>"))
        #expect(svg.contains(">a&lt;b &amp; &quot;c&quot;</text>"))
        #expect(!svg.contains("a<b"))
        #expect(markupProblem(svg) == nil)

        // All three panels have something in them: the stacked outcomes, both latency lines,
        // and the errors of the partition.
        for series in ["area ok", "area failed", "area unknown", "line p50", "line p99"] {
            #expect(svg.contains("<path class=\"\(series)\""), "\(series)")
        }
        #expect(tags(in: svg, startingWith: "<path class=\"area failed\"").count == 2)
        for name in ["ops / s", "ok latency (ms, log)", "failed + unknown / s", "time since start (s)"] {
            #expect(svg.contains(">\(name)</text>"), "\(name)")
        }
        #expect(svg.contains(">3000 ops in 60 s: "))
    }

    @Test func theSameRunDrawsTheSameDocument() {
        let first = Timeline.svg(ops: Self.ops, faults: Self.faults, duration: 60_000, title: "run")
        let second = Timeline.svg(ops: Self.ops, faults: Self.faults, duration: 60_000, title: "run")
        #expect(first == second)
        #expect(first != Timeline.svg(ops: Self.ops.dropLast(), faults: Self.faults, duration: 60_000, title: "run"))
    }

    @Test func anEmptyRunIsStillAWellFormedDocument() {
        let svg = Timeline.svg(ops: [], faults: [], duration: 0, title: "")
        #expect(svg.hasPrefix("<svg"))
        #expect(svg.hasSuffix("</svg>\n"))
        #expect(svg.ranges(of: "<svg").count == 1 && svg.ranges(of: "</svg>").count == 1)
        #expect(markupProblem(svg) == nil)
        #expect(!svg.contains("<path"))
        #expect(!svg.contains("class=\"fault\""))
        #expect(svg.contains(">no successful operations</text>"))
        // Duration 0 is drawn as one second: the time axis ends at 1.
        #expect(svg.contains(">1</text>") && !svg.contains(">1.1</text>"))
        #expect(coordinateProblem(svg) == nil)
    }

    @Test func aFaultWithoutAnEndIsShadedToTheRightEdge() throws {
        let faults = [Timeline.Fault(start: 30_000, end: nil, label: "kill")]
        let svg = Timeline.svg(ops: [], faults: faults, duration: 60_000, title: "t")
        let rect = try #require(tags(in: svg, startingWith: "<rect class=\"fault\"").first)
        let x = try #require(attribute("x", of: rect)), width = try #require(attribute("width", of: rect))
        #expect(x == Timeline.Layout.plotLeft + (Timeline.Layout.plotRight - Timeline.Layout.plotLeft) / 2)
        #expect(x + width == Timeline.Layout.plotRight)
        #expect(attribute("y", of: rect) == Timeline.Layout.plotTop)
        #expect(attribute("height", of: rect) == Timeline.Layout.plotBottom - Timeline.Layout.plotTop)
        #expect(svg.contains("kill: 30 s to the end of the run"))
    }

    @Test func faultsAreClippedToTheRun() throws {
        let faults = [
            Timeline.Fault(start: -5_000, end: 6_000, label: "early"),
            Timeline.Fault(start: 12_000, end: 12_000, label: "instant"),
            Timeline.Fault(start: 50_000, end: 90_000, label: "late"),
            Timeline.Fault(start: 70_000, end: nil, label: "after"),
            Timeline.Fault(start: -9_000, end: -1_000, label: "before"),
        ]
        let svg = Timeline.svg(ops: [], faults: faults, duration: 60_000, title: "t")
        let rects = tags(in: svg, startingWith: "<rect class=\"fault\"")
        #expect(rects.count == 3)
        #expect(!svg.contains(">after</text>") && !svg.contains(">before</text>"))
        let columns = rects.map { (attribute("x", of: $0) ?? -1, attribute("width", of: $0) ?? -1) }
        // 6 s of a 60 s run is a tenth of the 810 px plot.
        #expect(columns[0].0 == Timeline.Layout.plotLeft && columns[0].1 == 81)
        #expect(columns[1].1 == 1)
        #expect(columns[2].0 + columns[2].1 == Timeline.Layout.plotRight)
        #expect(coordinateProblem(svg) == nil)
    }

    @Test func aLateFaultsLabelEndsAtTheRightEdgeInsteadOfRunningOff() throws {
        let faults = [Timeline.Fault(start: 59_000, end: nil, label: "partition 1 2 | 3 4 5")]
        let svg = Timeline.svg(ops: [], faults: faults, duration: 60_000, title: "t")
        let label = try #require(tags(in: svg, startingWith: "<text class=\"fault-label\"").first)
        #expect(label.contains("text-anchor=\"end\""))
        #expect(attribute("x", of: label) == Timeline.Layout.plotRight - 3)

        let early = Timeline.svg(ops: [], faults: [Timeline.Fault(start: 0, end: 1_000, label: "x")], duration: 60_000, title: "t")
        let plain = try #require(tags(in: early, startingWith: "<text class=\"fault-label\"").first)
        #expect(!plain.contains("text-anchor") && attribute("x", of: plain) == Timeline.Layout.plotLeft + 3)
    }

    @Test func hugeLatenciesStretchTheAxisOnlyToANiceNumberAboveTheWorstP99() {
        let ops = [1.0, 2, 3, 4, 5].map { Timeline.Op(start: 0, end: $0, outcome: .ok) }
            + [Timeline.Op(start: 1_000, end: 7_655_321, outcome: .ok)]
        let buckets = Timeline.buckets(ops, duration: 10_000_000)
        let axis = Timeline.LatencyAxis(buckets)
        #expect(axis.lower == 1 && axis.upper == 10_000_000)
        // Seven decades: only the powers of ten are labelled.
        #expect(axis.ticks == [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000])

        let svg = Timeline.svg(ops: ops, faults: [], duration: 10_000_000, title: "slow")
        #expect(svg.contains(">10000000</text>") && !svg.contains(">20000000</text>"))
        #expect(coordinateProblem(svg) == nil)

        // Up to three decades get 1, 2 and 5 of each; the lowest p50 sets the bottom, 0.1 ms at least.
        let few = Timeline.LatencyAxis([Timeline.Bucket(second: 0, ok: 3, failed: 0, unknown: 0, p50: 0.03, p99: 97)])
        #expect(few.lower == 0.1 && few.upper == 100)
        #expect(few.ticks == [0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100])
        // Beyond, the powers of ten, and the top when there is room for its label.
        let wide = Timeline.LatencyAxis([Timeline.Bucket(second: 0, ok: 3, failed: 0, unknown: 0, p50: 3, p99: 4_100)])
        #expect(wide.lower == 1 && wide.upper == 5_000)
        #expect(wide.ticks == [1, 10, 100, 1_000, 5_000])
        let crowded = Timeline.LatencyAxis([Timeline.Bucket(second: 0, ok: 3, failed: 0, unknown: 0, p50: 3, p99: 14_000)])
        #expect(crowded.upper == 20_000 && crowded.ticks == [1, 10, 100, 1_000, 10_000])
        // Absurd latencies (an op started long before the run) are capped, not followed.
        let absurd = Timeline.LatencyAxis([Timeline.Bucket(second: 0, ok: 1, failed: 0, unknown: 0, p50: 1e300, p99: 1e300)])
        #expect(absurd.upper == Timeline.LatencyAxis.ceiling)
    }

    @Test func aRunWhereEverythingFailedHasNoLatencyLines() {
        let ops = (0..<50).map { Timeline.Op(start: Double($0) * 100, end: Double($0) * 100 + 30, outcome: .failed) }
        let buckets = Timeline.buckets(ops, duration: 5_000)
        #expect(buckets.allSatisfy { $0.ok == 0 && $0.failed == 10 && $0.p50 == nil })
        let svg = Timeline.svg(ops: ops, faults: [], duration: 5_000, title: "down")
        #expect(tags(in: svg, startingWith: "<path class=\"area failed\"").count == 2)
        #expect(!svg.contains("area ok") && !svg.contains("line p50") && !svg.contains("line p99"))
        #expect(svg.contains(">no successful operations</text>"))
        #expect(markupProblem(svg) == nil)
        #expect(coordinateProblem(svg) == nil)
    }

    @Test func everyCoordinateIsInsideTheViewBoxWithOneDecimalAtMost() {
        let svg = Timeline.svg(ops: Self.ops, faults: Self.faults, duration: 61_234, title: "t")
        #expect(coordinateProblem(svg) == nil)
        #expect(!tags(in: svg, startingWith: "<path").isEmpty)
    }
}

@Suite struct TimelineHelperTests {
    @Test func numbersHaveAtMostOneDecimalAndNoExponent() {
        #expect(Timeline.number(3) == "3")
        #expect(Timeline.number(2.46) == "2.5")
        #expect(Timeline.number(-0.26) == "-0.3")
        #expect(Timeline.number(-0.04) == "0")
        #expect(Timeline.number(812.25) == "812.3")
        #expect(Timeline.number(.nan) == "0" && Timeline.number(.infinity) == "0")
        #expect(Timeline.number(1e20) == "1000000000000000")
    }

    @Test func escapingKeepsCallerTextFromBecomingMarkup() {
        #expect(Timeline.escape("a<b & \"c\"") == "a&lt;b &amp; &quot;c&quot;")
        #expect(Timeline.escape("x > y") == "x &gt; y")
        #expect(Timeline.escape("bell\u{7}") == "bell\u{FFFD}")
        #expect(Timeline.escape("partition 1 2 | 3 4 5") == "partition 1 2 | 3 4 5")
    }

    @Test func theHandMadeLogarithmIsExactEnoughToPlaceAPixel() {
        for (x, expected) in [(1.0, 0.0), (10, 1), (1000, 3), (0.1, -1), (2, 0.301_029_995_663_981_2), (7_655_321, 6.883_963_406_086_643)] {
            #expect(abs(Timeline.log10(x) - expected) < 1e-9, "log10(\(x))")
        }
    }

    @Test func theTimeAxisHasAboutTenRoundTicks() {
        #expect(Timeline.TimeAxis(span: 60_000).ticks == [0, 100, 200, 300, 400, 500, 600])
        #expect(Timeline.TimeAxis(span: 1_000).ticks == Array(0...10))
        #expect(Timeline.TimeAxis(span: 61_234).ticks == [0, 100, 200, 300, 400, 500, 600])
        #expect(Timeline.TimeAxis(span: 3_600_000).ticks.count == 8)
        #expect(Timeline.LinearAxis(maximum: 0).ticks == [0, 1])
        #expect(Timeline.LinearAxis(maximum: 7).ticks == [0, 2, 4, 6, 8])
        #expect(Timeline.LinearAxis(maximum: 100).ticks == [0, 20, 40, 60, 80, 100])
    }
}

// MARK: - Reading the document back

/// The opening tags (up to their `>`) that start with `prefix`.
private func tags(in xml: String, startingWith prefix: String) -> [Substring] {
    xml.ranges(of: prefix).compactMap { range in
        xml[range.lowerBound...].firstIndex(of: ">").map { xml[range.lowerBound...$0] }
    }
}

/// A numeric attribute of one tag.
private func attribute(_ name: String, of tag: Substring) -> Double? {
    guard let range = tag.ranges(of: " \(name)=\"").first else { return nil }
    let value = tag[range.upperBound...].prefix { $0 != "\"" }
    return Double(value)
}

/// Checks that the document is one root element whose tags all nest and close, and that
/// every `&` starts one of the entities the renderer writes. Nil when it is well-formed.
private func markupProblem(_ xml: String) -> String? {
    var open: [Substring] = []
    var rest = xml[...]
    var sawRoot = false
    while let start = rest.firstIndex(where: { $0 == "<" || $0 == "&" }) {
        if open.isEmpty && sawRoot { return "content after the root element" }
        if !sawRoot && !rest[..<start].allSatisfy(\.isWhitespace) { return "text before the root element" }
        if rest[start] == "&" {
            let entity = rest[start...].prefix(6)
            guard ["&amp;", "&lt;", "&gt;", "&quot;"].contains(where: { entity.hasPrefix($0) }) else {
                return "bare & at \(rest[start...].prefix(20))"
            }
            rest = rest[rest.index(after: start)...]
            continue
        }
        guard let end = rest[start...].firstIndex(of: ">") else { return "unterminated tag" }
        let tag = rest[rest.index(after: start)..<end]
        rest = rest[rest.index(after: end)...]
        if tag.contains("<") { return "< inside a tag: \(tag)" }
        if tag.hasPrefix("/") {
            guard open.popLast() == tag.dropFirst() else { return "unexpected </\(tag.dropFirst())>" }
        } else {
            let name = tag.prefix { !$0.isWhitespace && $0 != "/" }
            if !sawRoot && name != "svg" { return "root element is \(name)" }
            sawRoot = true
            if !tag.hasSuffix("/") { open.append(name) }
        }
    }
    if rest.contains(">") { return "stray >" }
    return open.isEmpty ? nil : "unclosed \(open)"
}

/// Checks every position and size attribute and every path coordinate: inside the 900 × 600
/// view box, and written with at most one decimal. Nil when they all are.
private func coordinateProblem(_ xml: String) -> String? {
    var values: [Substring] = []
    for name in ["x", "y", "x1", "y1", "x2", "y2", "width", "height"] {
        for range in xml.ranges(of: " \(name)=\"") {
            values.append(xml[range.upperBound...].prefix { $0 != "\"" })
        }
    }
    for range in xml.ranges(of: " d=\"") {
        let data = xml[range.upperBound...].prefix { $0 != "\"" }
        values += data.split(whereSeparator: { $0 == " " || $0.isLetter }).filter { !$0.isEmpty }
    }
    guard !values.isEmpty else { return "no coordinates" }
    for value in values {
        guard let number = Double(value) else { return "not a number: \(value)" }
        if !(0...900).contains(number) { return "outside the view box: \(value)" }
        if let dot = value.firstIndex(of: "."), value[value.index(after: dot)...].count > 1 {
            return "more than one decimal: \(value)"
        }
    }
    return nil
}
