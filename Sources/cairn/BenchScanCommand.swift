import ArgumentParser
import CairnBench
import CairnClient
import CairnHTTP
import Foundation

/// `cairn bench scan`: how fast a cluster-wide scan lists keys, page by page through one node.
struct BenchScanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan",
        abstract: "Throughput of a cluster-wide scan: keys per second and page latency.",
        discussion: """
            With --load N, first writes N keys (blind writes of --value-bytes bytes, 16 at a \
            time, spread over 50 prefixes). Then scans every key under --prefix page by page \
            (--limit per page) through the node, --repeat times, and prints keys listed, pages, \
            keys per second and page latency percentiles. docs/benchmarks.md records the results.
            """
    )

    @Option(help: "Keys to write first (0: scan what is there).")
    var load = 0

    @Option(help: "Value size in bytes for --load.")
    var valueBytes = 100

    @Option(help: "Scan the keys starting with this text.")
    var prefix = ""

    @Option(help: "Keys per page, 1...1000.")
    var limit = 1000

    @Option(help: "How many full scans to time.")
    var `repeat` = 3

    @Flag(help: "Ask for values too (values=true).")
    var values = false

    @OptionGroup(title: "Global options") var options: NodeOptions

    /// `--json`: `{"loaded"?, "keys", "pages", "limit", "values", "scans", "keys_per_second":
    /// {"median", "min", "max"}, "page": {"count", "p50_ms", …}}`.
    @OptionGroup(title: "Global options") var output: OutputOptions

    func validate() throws {
        guard (0...10_000_000).contains(load) else { throw ValidationError("--load must be in 0...10000000") }
        guard (1...1000).contains(limit) else { throw ValidationError("--limit must be in 1...1000") }
        guard (1...100).contains(`repeat`) else { throw ValidationError("--repeat must be in 1...100") }
    }

    func run() async throws {
        let client = try options.client()
        defer { client.close() }
        let value = [UInt8](repeating: UInt8(ascii: "v"), count: valueBytes)
        var loaded: JSONValue?
        if load > 0 {
            let started = ContinuousClock.now
            let total = load
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<16 {
                    group.addTask {
                        for index in stride(from: worker, to: total, by: 16) {
                            let key = Array(String(format: "scan-%02d/%08d", index % 50, index).utf8)
                            try await client.put(key: key, value: value, blind: true)
                        }
                    }
                }
                try await group.waitForAll()
            }
            let seconds = Self.seconds(ContinuousClock.now - started)
            loaded = ["keys": .integer(Int64(load)), "seconds": .number(seconds), "writes_per_second": .number(Double(load) / seconds)]
            if !output.json {
                print(String(format: "loaded %d keys in %.1f s (%.0f writes/s, 16 in flight)", load, seconds, Double(load) / seconds))
            }
        }
        var pageLatency = LatencyRecorder()
        var rates: [Double] = []
        var listed = 0
        var pages = 0
        for _ in 0..<`repeat` {
            listed = 0
            pages = 0
            var after: [UInt8]?
            let started = ContinuousClock.now
            repeat {
                let pageStarted = ContinuousClock.now
                let page = try await client.scan(prefix: Array(prefix.utf8), limit: limit, after: after, values: values)
                pageLatency.record(nanoseconds: UInt64(Self.seconds(ContinuousClock.now - pageStarted) * 1e9))
                listed += page.keys.count
                pages += 1
                after = page.next
            } while after != nil
            rates.append(Double(listed) / Self.seconds(ContinuousClock.now - started))
        }
        rates.sort()
        if output.json {
            var document: [String: JSONValue] = [
                "keys": .integer(Int64(listed)), "pages": .integer(Int64(pages)), "limit": .integer(Int64(limit)),
                "values": .bool(values), "scans": .integer(Int64(rates.count)),
                "keys_per_second": ["median": .number(rates[rates.count / 2]), "min": .number(rates.first!), "max": .number(rates.last!)],
                "page": Output.latencyJSON(pageLatency),
            ]
            if let loaded { document["loaded"] = loaded }
            print(Output.render(.object(document)))
            return
        }
        print(String(format: "scan of %d keys in %d pages of %d%@: median %.0f keys/s (min %.0f, max %.0f over %d scans); "
                     + "page p50 %.2f ms, p99 %.2f ms", listed, pages, limit, values ? " with values" : "", rates[rates.count / 2],
                     rates.first!, rates.last!, rates.count, pageLatency.microseconds(atPercentile: 50) / 1000,
                     pageLatency.microseconds(atPercentile: 99) / 1000))
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
