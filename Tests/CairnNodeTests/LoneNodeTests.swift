import CairnClient
import Foundation
import Testing

/// A node started alone with the defaults (N=3, R=W=2): it refuses reads and writes, and every
/// place an operator looks (the error, the log, `GET /v1/cluster`) says why and what to do.
@Suite struct LoneNodeTests {
    @Test func aLoneNodeNamesTheFixAndTheFixWorks() async throws {
        // Ports of its own, apart from the offset ranges of the other cluster tests.
        let cluster = try LocalCluster(name: "lone", internodePort: 7370, httpPort: 7380)
        defer { cluster.stopAll() }
        try cluster.start(9, seed: nil)
        let fixes = ["cairnd --seeds 127.0.0.9:7370", "cairnd --n 1", "CAIRN_N=1"]

        let write = cluster.put(9, "greeting", "hello")
        #expect(write.status == 503, "\(write.body)")
        let error = try #require(cluster.json("PUT", 9, "/v1/keys/greeting", body: "hello",
                                              headers: ["Content-Type": "application/octet-stream"])?["error"] as? [String: Any])
        #expect(error["code"] as? String == "quorum_unavailable")
        let message = try #require(error["message"] as? String)
        #expect(message.contains("the cluster has 1 member") && message.contains("W=2 of N=3"), "\(message)")
        for fix in fixes { #expect(message.contains(fix), "\(message)") }

        let read = try #require(cluster.json("GET", 9, "/v1/keys/greeting")?["error"] as? [String: Any])
        let readMessage = try #require(read["message"] as? String)
        #expect(readMessage.contains("R=2 of N=3") && readMessage.contains("cairn get -r 1"), "\(readMessage)")

        // What `cairn` prints is the client error's description.
        let client = try CairnClient(node: cluster.http(9), sourceAddress: LocalCluster.clientAddress)
        defer { client.close() }
        do {
            try await client.put(key: Array("greeting".utf8), value: Array("hello".utf8), context: nil, blind: true)
            Issue.record("a lone node with W=2 stored a write")
        } catch let error as CairnClientError {
            let printed = "\(error)"
            #expect(printed.hasSuffix("(quorum_unavailable, HTTP 503)") && printed.contains("W=2 of N=3"), "\(printed)")
            for fix in fixes { #expect(printed.contains(fix), "\(printed)") }
        }

        let warnings = try #require(cluster.json("GET", 9, "/v1/cluster")?["warnings"] as? [String])
        #expect(warnings.count == 1 && warnings[0].hasPrefix("replication is below N: the ring has 1 member but N=3"), "\(warnings)")
        for fix in fixes { #expect(warnings.first?.contains(fix) == true, "\(warnings)") }
        try cluster.waitUntil("the log warns that replication is below N", timeout: 5) {
            let log = (try? String(contentsOfFile: cluster.logPath(9), encoding: .utf8)) ?? ""
            return log.contains("warning") && log.contains("replication is below N") && log.contains("cairnd --n 1")
        }

        // The second fix the message names: the same data, N=1 (R and W follow).
        cluster.kill(9, signal: SIGTERM)
        try cluster.start(9, seed: nil, environment: ["CAIRN_N": "1"])
        let stored = cluster.put(9, "greeting", "hello")
        #expect(stored.status == 200, "\(stored.body)\n\(cluster.logs())")
        #expect(cluster.json("GET", 9, "/v1/cluster")?["warnings"] as? [String] == [])
    }
}
