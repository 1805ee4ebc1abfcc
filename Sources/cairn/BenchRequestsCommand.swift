import ArgumentParser
import CairnBench
import CairnClient
import CairnHTTP
import Foundation

/// `cairn bench requests`: the latency of single requests through one node, one at a time on
/// one connection, for each kind of write a client can make and for reads, interleaved so
/// that every kind sees the same machine.
struct BenchRequestsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "requests",
        abstract: "Latency of single PUT, DELETE, GET and CAS requests through one node.",
        discussion: """
            Preloads --keys keys, then runs --rounds rounds. Each round makes, for every key, one \
            request of each kind, interleaved: a plain PUT (no context: the node reads a quorum \
            first), a PUT with the context the previous write of that key returned, a blind PUT \
            (?blind=true) of a fresh key, a GET, and an uncontended CAS. Prints the count, the \
            latency percentiles per kind. Run it against a cluster \
            started by ./Scripts/cluster.sh up; docs/benchmarks.md records the results.
            """
    )

    @Option(help: "Keys per kind of request.")
    var keys = 100

    @Option(help: "Rounds over the keys.")
    var rounds = 10

    @Option(help: "Value size in bytes.")
    var valueBytes = 100

    @OptionGroup(title: "Global options") var options: NodeOptions

    /// `--json`: `{"node", "keys", "rounds", "value_bytes", "seconds", "kinds": [{"kind", "count",
    /// "p50_ms", …}]}`.
    @OptionGroup(title: "Global options") var output: OutputOptions

    func validate() throws {
        guard (1...100_000).contains(keys) else { throw ValidationError("--keys must be in 1...100000") }
        guard (1...10_000).contains(rounds) else { throw ValidationError("--rounds must be in 1...10000") }
        guard (0...(1 << 20)).contains(valueBytes) else { throw ValidationError("--value-bytes must be in 0...1048576") }
    }

    enum Kind: String, CaseIterable {
        case plainPut = "PUT plain (read, then write)"
        case contextPut = "PUT with context"
        case blindPut = "PUT blind (?blind=true)"
        case get = "GET"
        case cas = "CAS (uncontended)"
    }

    func run() async throws {
        let run = UInt64.random(in: 0..<(1 << 40))
        let value = [UInt8](repeating: UInt8(ascii: "v"), count: valueBytes)
        var recorders = Dictionary(uniqueKeysWithValues: Kind.allCases.map { ($0, LatencyRecorder()) })
        let started = ContinuousClock.now
        try await options.withClient { client in
            func key(_ kind: String, _ index: Int) -> [UInt8] { Array("bench-\(run)-\(kind)-\(index)".utf8) }
            var contexts: [String?] = []
            for index in 0..<keys {
                try await client.put(key: key("plain", index), value: value, blind: true)
                contexts.append(try await client.put(key: key("context", index), value: value, blind: true))
            }
            var casValues = [[UInt8]?](repeating: nil, count: keys)
            for round in 0..<rounds {
                for index in 0..<keys {
                    for kind in Kind.allCases {
                        let start = ContinuousClock.now
                        switch kind {
                        case .plainPut:
                            try await client.put(key: key("plain", index), value: value)
                        case .contextPut:
                            contexts[index] = try await client.put(key: key("context", index), value: value, context: contexts[index])
                        case .blindPut:
                            try await client.put(key: key("blind-\(round)", index), value: value, blind: true)
                        case .get:
                            _ = try await client.get(key: key("plain", index))
                        case .cas:
                            let new = Array("\(round)".utf8)
                            _ = try await client.cas(key: key("cas", index), expected: casValues[index], new: new)
                            casValues[index] = new
                        }
                        let elapsed = ContinuousClock.now - start
                        recorders[kind]!.record(nanoseconds: UInt64(elapsed.components.seconds) * 1_000_000_000
                                                + UInt64(elapsed.components.attoseconds / 1_000_000_000))
                    }
                }
            }
        }
        let seconds = BenchScanCommand.seconds(ContinuousClock.now - started)
        let node = options.resolvedNode(environment: ProcessInfo.processInfo.environment)
        if output.json {
            print(Output.render([
                "node": .string(node), "keys": .integer(Int64(keys)), "rounds": .integer(Int64(rounds)),
                "value_bytes": .integer(Int64(valueBytes)), "seconds": .number(seconds),
                "kinds": .array(Kind.allCases.map { Output.latencyJSON(recorders[$0]!, adding: ["kind": .string($0.rawValue)]) }),
            ]))
            return
        }
        print("cairn bench requests: \(keys) keys × \(rounds) rounds, \(valueBytes)-byte values, one connection to "
              + "\(node) (\(Int(seconds)) s)")
        print("kind                                count   p50 ms   p90 ms   p99 ms   max ms")
        for kind in Kind.allCases {
            let recorder = recorders[kind]!
            print(kind.rawValue.padding(toLength: 32, withPad: " ", startingAt: 0)
                  + String(format: " %8llu %8.2f %8.2f %8.2f %8.2f", recorder.count, recorder.microseconds(atPercentile: 50) / 1000,
                           recorder.microseconds(atPercentile: 90) / 1000, recorder.microseconds(atPercentile: 99) / 1000,
                           recorder.microseconds(atPercentile: 100) / 1000))
        }
    }
}
