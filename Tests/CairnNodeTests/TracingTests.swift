import CairnClient
import CairnHTTP
import CairnNode
import Foundation
import InMemoryTracing
import Logging
import Testing
import Tracing

/// Request tracing across the coordinator and the replicas: three nodes in this process (real
/// sockets between them, each with its own data directory), the process's tracer an in-memory
/// one. A PUT through node 1's HTTP API is one trace: the HTTP server span, a client span per
/// replica node 1 asks, and under each the replica's own server span on node 2 or 3 — the
/// context crossed the internode wire (`.traced`), and the replicas' writes that follow the
/// plain write's read stay in the trace.
@Suite(.serialized) struct TracingTests {
    static let tracer: InMemoryTracer = {
        let tracer = InMemoryTracer()
        InstrumentationSystem.bootstrap(tracer)
        RequestTracing.enable()
        return tracer
    }()

    @Test func aPutIsOneTraceAcrossTheCoordinatorAndItsReplicas() async throws {
        let tracer = Self.tracer
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-tracing-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var nodes: [Node] = []
        for index in 1...3 {
            var configuration = NodeConfiguration(dataDirectory: directory + "/node\(index)", listenHost: "127.0.0.\(index)", listenPort: 27_200)
            configuration.httpHost = "127.0.0.\(index)"
            configuration.httpPort = 28_200
            configuration.clusterName = "tracing"
            configuration.partitions = 16
            configuration.cores = 1
            if index > 1 { configuration.seeds = ["127.0.0.1:27200"] }
            let node = try Node(configuration: configuration, logger: Logger(label: "tracing-node\(index)"))
            try await node.start()
            nodes.append(node)
        }
        let service = NodeService(node: nodes[0], metrics: { "" })
        let server = HTTPServer(service: service, configuration: HTTPServer.Configuration(host: "127.0.0.1", port: 28_200))
        _ = try await server.start()
        defer { Task { await server.stop(gracePeriod: .zero) } }
        let ids = nodes.map { $0.id.description }

        // Wait for the three-member ring everywhere.
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            var members: [Int] = []
            for node in nodes {
                let status = try await NodeService(node: node, metrics: { "" }).clusterStatus()
                if case .object(let top) = status, case .object(let ring)? = top["ring"], case .integer(let count)? = ring["members"] {
                    members.append(Int(count))
                }
            }
            if members == [3, 3, 3] { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        tracer.clearFinishedSpans()

        let client = try CairnClient(node: "127.0.0.1:28200", sourceAddress: "127.0.0.100")
        defer { client.close() }
        _ = try await client.put(key: Array("traced".utf8), value: Array("v".utf8))

        // The replicas answer on their own time (W=2 returns first), and node 1 ends its client
        // span when an answer arrives: wait for both.
        var spans: [FinishedInMemorySpan] = []
        for _ in 0..<50 {
            spans = tracer.finishedSpans
            let names = spans.map(\.operationName)
            if names.filter({ $0 == "cairn.replica replicate" }).count >= 2, names.filter({ $0 == "cairn.peer replicate" }).count >= 2 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        // The PUT's root: the HTTP span whose trace holds node 1's requests (another test of
        // this process may have made other HTTP spans).
        let root = try #require(spans.first { candidate in
            candidate.operationName == "PUT /v1/keys/{key}" && spans.contains { $0.traceID == candidate.traceID && $0.operationName.hasPrefix("cairn.") }
        }, "\(spans.map(\.operationName))")
        #expect(root.kind == .server && root.parentSpanID == nil)
        let trace = spans.filter { $0.traceID == root.traceID }
        // A plain write reads the key first (from the two other replicas; node 1 reads its own
        // copy locally), then writes it to them: exactly these spans.
        let names = Dictionary(trace.map { ($0.operationName, 1) }, uniquingKeysWith: +)
        #expect(names == ["PUT /v1/keys/{key}": 1, "cairn.peer read": 2, "cairn.replica read": 2,
                          "cairn.peer replicate": 2, "cairn.replica replicate": 2], "\(names)")
        let asked = trace.filter { $0.operationName == "cairn.peer replicate" }
        #expect(asked.count == 2, "node 1 asked the two other replicas: \(trace.map(\.operationName))")
        #expect(asked.allSatisfy { $0.kind == .client && $0.parentSpanID == root.spanID })
        let answered = trace.filter { $0.operationName == "cairn.replica replicate" }
        #expect(answered.count == 2, "\(trace.map(\.operationName))")
        #expect(Set(answered.compactMap(\.parentSpanID)) == Set(asked.map(\.spanID)), "each replica's span hangs under node 1's request to it")
        let replicaNodes = Set(answered.compactMap { span -> String? in
            if case .string(let node)? = span.attributes["cairn.node"]?.toSpanAttribute() { node } else { nil }
        })
        #expect(replicaNodes == Set(ids[1...2]), "served by nodes 2 and 3: \(replicaNodes)")
        #expect(root.attributes["http.response.status_code"]?.toSpanAttribute() == .int64(200))

        // Background requests (gossip, anti-entropy) carry no trace: no span outside it.
        for node in nodes { await node.stop() }
    }
}
