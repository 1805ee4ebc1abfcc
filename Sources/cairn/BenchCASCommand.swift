import ArgumentParser
import CairnBench
import CairnClient
import CairnHTTP
import Foundation

/// `cairn bench cas`: compare-and-set under contention — clients raising one counter.
struct BenchCASCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cas",
        abstract: "CAS latency and throughput with contending clients raising one counter.",
        discussion: """
            Starts the counter at 0 (a forced CAS), then --clients clients, spread over the \\
            --nodes given (default: --node), each loops: GET the counter, CAS it one higher. \\
            Stops at --target. Prints the CAS attempts (applied, not applied, failed with an \\
            error), increments per second, and the latency percentiles of every attempt and of \\
            the applied ones. docs/benchmarks.md records the results.
            """
    )

    @Option(help: "Contending clients.")
    var clients = 20

    @Option(help: "The value to count to.")
    var target = 100

    @Option(help: ArgumentHelp("Nodes to spread the clients over, comma-separated host:port (default: --node).", valueName: "nodes"))
    var nodes: String?

    @OptionGroup(title: "Global options") var options: NodeOptions

    /// `--json`: `{"clients", "nodes", "target", "seconds", "increments_per_second", "attempts",
    /// "applied", "not_applied", "errors", "latency": {"every_attempt", "applied"}}`.
    @OptionGroup(title: "Global options") var output: OutputOptions

    func validate() throws {
        guard (1...1000).contains(clients) else { throw ValidationError("--clients must be in 1...1000") }
        guard (1...1_000_000).contains(target) else { throw ValidationError("--target must be in 1...1000000") }
    }

    struct Tally: Sendable {
        var all = LatencyRecorder()
        var applied = LatencyRecorder()
        var notApplied = 0
        var errors = 0
    }

    func run() async throws {
        let addresses = nodes?.split(separator: ",").map(String.init)
            ?? [options.resolvedNode(environment: ProcessInfo.processInfo.environment)]
        let pool = try addresses.map { try CairnClient(node: $0, timeout: .milliseconds(Int64(options.timeout * 1000))) }
        defer { for client in pool { client.close() } }
        let key = Array("bench-cas-\(UInt64.random(in: 0..<(1 << 40)))".utf8)
        _ = try await pool[0].casForce(key: key, new: Array("0".utf8))
        let target = self.target
        let started = ContinuousClock.now
        let total = try await withThrowingTaskGroup(of: Tally.self) { group in
            for index in 0..<clients {
                let client = pool[index % pool.count]
                group.addTask {
                    var tally = Tally()
                    while true {
                        let read = try await client.get(key: key)
                        guard let text = read.value.flatMap({ String(bytes: $0, encoding: .utf8) }), let current = Int(text) else {
                            continue
                        }
                        if current >= target { return tally }
                        let attempt = ContinuousClock.now
                        do {
                            let result = try await client.cas(key: key, expected: Array(text.utf8), new: Array(String(current + 1).utf8))
                            let nanoseconds = BenchScanCommand.seconds(ContinuousClock.now - attempt) * 1e9
                            tally.all.record(nanoseconds: UInt64(nanoseconds))
                            if case .applied = result {
                                tally.applied.record(nanoseconds: UInt64(nanoseconds))
                            } else {
                                tally.notApplied += 1
                            }
                        } catch {
                            tally.errors += 1
                        }
                    }
                }
            }
            var total = Tally()
            for try await tally in group {
                total.all.merge(tally.all)
                total.applied.merge(tally.applied)
                total.notApplied += tally.notApplied
                total.errors += tally.errors
            }
            return total
        }
        let seconds = BenchScanCommand.seconds(ContinuousClock.now - started)
        if output.json {
            print(Output.render([
                "clients": .integer(Int64(clients)), "nodes": .integer(Int64(pool.count)), "target": .integer(Int64(target)),
                "seconds": .number(seconds), "increments_per_second": .number(Double(target) / seconds),
                "attempts": .integer(Int64(clamping: total.all.count) + Int64(total.errors)),
                "applied": .integer(Int64(clamping: total.applied.count)),
                "not_applied": .integer(Int64(total.notApplied)), "errors": .integer(Int64(total.errors)),
                "latency": ["every_attempt": Output.latencyJSON(total.all), "applied": Output.latencyJSON(total.applied)],
            ]))
            return
        }
        print(String(format: "cairn bench cas: %d clients over %d node(s) counted to %d in %.2f s (%.0f increments/s)",
                     clients, pool.count, target, seconds, Double(target) / seconds))
        print(String(format: "attempts %llu: applied %llu, not applied %d, errors (503/504) %d",
                     total.all.count + UInt64(total.errors), total.applied.count, total.notApplied, total.errors))
        for (name, recorder) in [("every attempt", total.all), ("applied", total.applied)] {
            print(String(format: "%-14@ p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  max %.2f ms", name as NSString,
                         recorder.microseconds(atPercentile: 50) / 1000, recorder.microseconds(atPercentile: 90) / 1000,
                         recorder.microseconds(atPercentile: 99) / 1000, recorder.microseconds(atPercentile: 100) / 1000))
        }
    }
}
