import Foundation
import Testing

/// Responses of requests run on threads of their own, collected under a lock.
final class ResponseBox: @unchecked Sendable {
    private let lock = NSLock()
    private var responses: [LocalCluster.Response] = []

    func append(_ response: LocalCluster.Response) { lock.withLock { responses.append(response) } }
    var all: [LocalCluster.Response] { lock.withLock { responses } }
}

extension NodeClusterTests {
    /// Node 1 serves at most 4 data requests at once (`CAIRN_MAX_IN_FLIGHT=4`). With node 3
    /// stopped (SIGSTOP: its sockets stay open but it answers nothing), writes with `w=3` wait
    /// for it until their request timeout, so four of them fill node 1. Then a fifth data
    /// request is answered 503 `overloaded` with `Retry-After`, while `/health` and `/metrics`
    /// are still served; once the four are answered, data requests are served again.
    ///
    /// Writes started after node 1's failure detector has convicted node 3 fail at once instead
    /// of waiting, and a loaded machine may be slower than the writes' timeout between filling
    /// the node and the probe: a round in which the node was not seen full is tried again with
    /// node 3 continued, up to five times. No assertion depends on how long anything takes.
    @Test func pastItsInFlightCapANodeAnswers503ThenServesAgain() throws {
        let cap = 4
        let cluster = try LocalCluster(name: "overload", portOffset: 80)
        defer { cluster.stopAll() }
        try cluster.start(1, environment: ["CAIRN_MAX_IN_FLIGHT": String(cap)])
        try cluster.start(2)
        try cluster.start(3)
        try cluster.waitForRing(members: 3, nodes: [1, 2, 3])
        let warmUp = cluster.put(1, "warm-up", "v", query: "?w=3")
        #expect(warmUp.status == 200, "\(warmUp.body)\n\(cluster.logs())")

        func node3Reachable() -> Bool {
            let members = (cluster.json("GET", 1, "/v1/cluster")?["members"] as? [[String: Any]]) ?? []
            return members.count == 3 && members.allSatisfy { $0["reachable"] as? Bool == true }
        }
        var refused: LocalCluster.Response?
        var slowResponses: [LocalCluster.Response] = []
        for round in 1...5 where refused == nil {
            try cluster.waitUntil("node 1 finds node 3 reachable", timeout: 30, node3Reachable)
            cluster.signal(3, SIGSTOP)
            let slow = DispatchGroup()
            let box = ResponseBox()
            for index in 0..<cap {
                // A thread each: Dispatch's pool grows only slowly past the cores while its
                // threads block, which would start the writes one after another.
                slow.enter()
                Thread {
                    box.append(cluster.put(1, "slow-\(round)-\(index)", "v", query: "?w=3"))
                    slow.leave()
                }.start()
            }
            // Full: every slot taken (the gauge is read at scrape, and /metrics takes no slot),
            // or the round is lost: every slow write was already answered.
            var full = false
            while !full && slow.wait(timeout: .now()) == .timedOut {
                full = cluster.metric(1, "cairn_http_requests_in_flight") == Double(cap)
            }
            if full {
                let probe = cluster.put(1, "probe", "v")
                if probe.status == 503 && probe.body.contains("\"overloaded\"") {
                    refused = probe
                    let health = cluster.request("GET", 1, "/health")
                    #expect(health.status == 200, "/health takes no slot: \(health.status) \(health.body)")
                    #expect(cluster.request("GET", 1, "/metrics").status == 200, "/metrics takes no slot")
                }
            }
            cluster.signal(3, SIGCONT)
            slow.wait()
            slowResponses += box.all
        }
        let overloaded = try #require(refused, "node 1 was never seen refusing a request past its cap\n\(cluster.logs())")
        #expect(overloaded.headers["retry-after"] == "1")
        let body = (try? JSONSerialization.jsonObject(with: Data(overloaded.body.utf8))) as? [String: Any]
        let error = body?["error"] as? [String: Any]
        #expect(error?["code"] as? String == "overloaded", "\(overloaded.body)")
        #expect(((error?["detail"] as? [String: Any])?["limit"] as? NSNumber)?.intValue == cap, "\(overloaded.body)")
        // The writes that filled the node were served (answered by the quorum, or its timeout),
        // never refused.
        #expect(!slowResponses.contains { $0.status == 0 || $0.body.contains("\"overloaded\"") },
                "\(slowResponses.map { "\($0.status) \($0.body)" })")

        // Once they are answered, their slots are free again.
        try cluster.waitUntil("node 1 has no request in flight", timeout: 30) {
            cluster.metric(1, "cairn_http_requests_in_flight") == 0
        }
        let served = cluster.put(1, "probe", "v")
        #expect(served.status == 200, "\(served.status) \(served.body)")
        let read = cluster.get(1, "probe")
        #expect(read.status == 200 && Self.value(read) == "v", "\(read.status) \(read.body)")
        #expect((cluster.metric(1, "cairn_http_requests_shed_total") ?? 0) >= 1)
    }
}
