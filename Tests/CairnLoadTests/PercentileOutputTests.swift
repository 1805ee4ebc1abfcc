import CairnBench
import CairnClient
import Testing

@testable import CairnLoad

/// The percentile file (.hgrm), reading it back, the plot and the report: known latencies in,
/// exact text and numbers out. No clock is read.
@Suite struct PercentileOutputTests {
    /// 1,000 operations of 1, 2, …, 1000 µs.
    static var ramp: LatencyRecorder {
        var recorder = LatencyRecorder()
        for microseconds in UInt64(1)...1000 { recorder.record(nanoseconds: microseconds * 1000) }
        return recorder
    }

    @Test func theHgrmFileIsHdrHistogramsPercentileDistribution() throws {
        let text = Self.ramp.percentileDistribution()
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines[0] == "       Value     Percentile TotalCount 1/(1-Percentile)")
        #expect(lines[1] == "")
        #expect(lines[2] == "       0.001 0.000000000000          1           1.00")
        #expect(lines.contains("       0.500 0.500000000000        500           2.00"))
        #expect(lines.contains("       1.000 1.000000000000       1000"))
        #expect(lines.contains("#[Max     =        1.000, Total count    =         1000]"))
        let mean = try #require(lines.first { $0.hasPrefix("#[Mean") })
        #expect(mean == "#[Mean    =        0.501, StdDeviation   =        0.289]")  // 1…1000 µs average 500.5 µs
        #expect(lines.contains { $0.hasPrefix("#[Buckets =") })
    }

    @Test func aPercentileFileReadsBack() throws {
        let recorder = Self.ramp
        let distribution = try PercentileDistribution(parsing: recorder.percentileDistribution())
        #expect(distribution.totalCount == 1000)
        #expect(distribution.maxMilliseconds == 1.0)
        #expect(distribution.steps.first?.percentile == 0)
        #expect(distribution.steps.last?.percentile == 1)
        #expect(zip(distribution.steps, distribution.steps.dropFirst()).allSatisfy {
            $0.percentile <= $1.percentile && $0.milliseconds <= $1.milliseconds && $0.totalCount <= $1.totalCount
        })
        for percentile in [0.5, 0.9, 0.99] {
            #expect(abs(distribution.milliseconds(atPercentile: percentile) - percentile) < 0.002, "p\(percentile)")
        }
        // The same steps as taken from the recorder directly, to the file's three decimals.
        let direct = PercentileDistribution(recorder)
        #expect(direct.steps.count == distribution.steps.count)
        for (a, b) in zip(direct.steps, distribution.steps) {
            #expect(abs(a.milliseconds - b.milliseconds) < 0.0005 && a.totalCount == b.totalCount)
        }
    }

    @Test func otherToolsFilesReadToo() throws {
        // wrk2 --latency's "Detailed Percentile spectrum" block, header and footer included.
        let wrk2 = """
                   Value   Percentile   TotalCount 1/(1-Percentile)

                   0.921     0.000000            1         1.00
                   1.530     0.500000         5018         2.00
                   2.407     0.900000         9021        10.00
                   9.071     1.000000        10000          inf
            #[Mean    =        1.631, StdDeviation   =        0.627]
            #[Max     =        9.064, Total count    =        10000]
            #[Buckets =           27, SubBuckets     =         2048]
            """
        let distribution = try PercentileDistribution(parsing: wrk2)
        #expect(distribution.steps.count == 4)
        #expect(distribution.maxMilliseconds == 9.064)
        #expect(distribution.totalCount == 10000)
        #expect(distribution.milliseconds(atPercentile: 0.9) == 2.407)
    }

    @Test func whatIsNotAPercentileFileIsRefusedWithItsLine() {
        #expect(throws: PercentileDistribution.ParseError.self) { try PercentileDistribution(parsing: "") }
        do {
            _ = try PercentileDistribution(parsing: "Value Percentile\n\n0.5 0.5 10 2.0\nhello world\n")
            Issue.record("parsed a line of prose")
        } catch {
            #expect(error.line == 4)
        }
        #expect(throws: PercentileDistribution.ParseError.self) { try PercentileDistribution(parsing: "0.5 1.5 10\n") }
    }

    @Test func thePlotHasALinePerSeriesInsideItsFrame() throws {
        let fast = PercentileDistribution(Self.ramp)
        var slowRecorder = LatencyRecorder()
        for microseconds in UInt64(1)...10_000 { slowRecorder.record(nanoseconds: microseconds * 7000) }
        let plot = PercentilePlot(
            title: "a <b> & \"c\"",
            series: [.init(name: "fast", distribution: fast), .init(name: "slow & steady", distribution: PercentileDistribution(slowRecorder))])
        let svg = plot.svg()
        #expect(svg.hasPrefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\""))
        #expect(svg.hasSuffix("</svg>\n"))
        #expect(svg.components(separatedBy: "<polyline").count - 1 == 2)
        #expect(svg.contains("a &lt;b&gt; &amp; &quot;c&quot;"))
        #expect(svg.contains("slow &amp; steady: p50 35.029 ms, p99 69.403 ms, max 70.000 ms (10000 ops)"))
        #expect(!svg.contains("slow & steady"))
        // 10,000 operations reach 99.99 %: four nines on the axis.
        #expect(plot.nines == 4)
        #expect(svg.contains(">99.99%<") && !svg.contains(">99.999%<"))
        for polyline in svg.components(separatedBy: "points=\"").dropFirst() {
            let points = polyline.prefix(while: { $0 != "\"" }).split(separator: " ")
            #expect(points.count > 10)
            for point in points {
                let xy = point.split(separator: ",").compactMap { Double($0) }
                #expect(xy.count == 2 && (0...plot.width).contains(xy[0]) && (0...plot.height).contains(xy[1]), "\(point)")
            }
        }
    }

    @Test func thePercentileAxisIsLogarithmicInTheNines() {
        #expect(PercentilePlot.x(ofPercentile: 0) == 0)
        #expect(abs(PercentilePlot.x(ofPercentile: 0.9) - 1) < 1e-9)
        #expect(abs(PercentilePlot.x(ofPercentile: 0.999) - 3) < 1e-9)
        #expect(PercentilePlot.percentileLabel(0) == "0%")
        #expect(PercentilePlot.percentileLabel(2) == "99%")
        #expect(PercentilePlot.percentileLabel(5) == "99.999%")
        #expect(PercentilePlot.yAxis(max: 7.3) == (10, 2))
        #expect(PercentilePlot.yAxis(max: 0.42) == (0.5, 0.1))
        #expect(PercentilePlot.yAxis(max: 1.1) == (1.25, 0.25))
        #expect(PercentilePlot.label(milliseconds: 0.75, step: 0.25) == "0.75")
        #expect(PercentilePlot.label(milliseconds: 20, step: 5) == "20")
    }

    @Test func theReportGivesEachKindsPercentiles() throws {
        var tally = LoadTally()
        for microseconds in UInt64(1)...1000 {
            tally.record(.get, microseconds % 10 == 0 ? .notFound : .found, latencyNanoseconds: microseconds * 1000,
                         serviceNanoseconds: microseconds * 500)
        }
        for microseconds in UInt64(1)...100 {
            tally.record(.put, .written, latencyNanoseconds: microseconds * 20_000, serviceNanoseconds: microseconds * 10_000)
        }
        tally.recordError(.put, label: "HTTP 503 overloaded")
        tally.sent = 1101
        let plan = LoadPlan(
            workload: Workload(kind: .mixed, keyCount: 1000, distribution: .zipfian(exponent: 0.99)),
            nodes: [NodeAddress(host: "127.0.0.1", port: 7480)], concurrency: 8, duration: .seconds(2), operations: nil, rate: 600,
            seed: 5)
        let result = LoadResult(plan: plan, transportName: "http", elapsed: .seconds(2), tally: tally, scheduled: plan.operationLimit)
        let table = LoadReport.table(result)
        let lines = table.split(separator: "\n").map(String.init)
        #expect(lines[0] == "cairn bench load: mixed (90% get, 10% put), 1,000 keys zipfian (s=0.99), 100-byte values")
        #expect(lines[1].hasPrefix("http to 127.0.0.1:7480, 8 connections, open loop at 600 ops/s"))
        let header = try #require(lines.first { $0.hasPrefix("op ") })
        #expect(header.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
                == ["op", "count", "ops/s", "p50", "ms", "p90", "ms", "p99", "ms", "p99.9", "ms", "max", "ms", "errors"])
        let get = try #require(lines.first { $0.hasPrefix("get ") }).split(separator: " ").map(String.init)
        #expect(get == ["get", "1,000", "500", "0.500", "0.900", "0.990", "0.999", "1.000", "0"])
        let put = try #require(lines.first { $0.hasPrefix("put ") }).split(separator: " ").map(String.init)
        #expect(put == ["put", "100", "50", "1.000", "1.800", "1.980", "2.000", "2.000", "1"])
        #expect(lines.contains { $0.hasPrefix("all ") && $0.hasSuffix(" 1") })
        #expect(lines.contains { $0.hasPrefix("service ") })
        #expect(lines.contains("get: 100 not found"))
        #expect(lines.contains("errors (not in the latency figures): HTTP 503 overloaded 1"))
        // 1,200 due in 2 s at 600 ops/s, 1,101 sent.
        #expect(table.contains("warning: 99 of the 1,200 operations due were never sent"))

        let json = LoadReport.json(result)
        #expect(json["workload"] == "mixed")
        #expect(json["completed"] == 1100)
        #expect(json["ops_per_second"] == 550.0)
        #expect(json["unsent"] == 99)
        #expect(json["latency"]?["count"] == 1100)
        #expect(json["latency"]?["p99_9_ms"] == 1.98)  // the 1,099th of 1,100: the second-slowest put
        #expect(json["errors"]?["HTTP 503 overloaded"] == 1)
        guard case .array(let operations)? = json["operations"] else { Issue.record("no operations"); return }
        #expect(operations.count == 2)
        #expect(operations[0]["op"] == "get" && operations[0]["not_found"] == 100 && operations[0]["p50_ms"] == 0.5)
        #expect(operations[1]["op"] == "put" && operations[1]["errors"] == 1)
    }

    @Test func numbersAreGroupedByThousands() {
        #expect(LoadReport.grouped(0) == "0")
        #expect(LoadReport.grouped(999) == "999")
        #expect(LoadReport.grouped(1000) == "1,000")
        #expect(LoadReport.grouped(1_234_567.4) == "1,234,567")
        #expect(LoadReport.grouped(-12_000) == "-12,000")
    }
}
