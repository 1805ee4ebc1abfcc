import CairnClient
import Foundation
import Testing

/// Steering handoff on real nodes: a fourth node joins a loaded three-node cluster under a slow
/// throttle; pausing stops every transfer (nothing more is sent), a cancel takes one transfer
/// out (and a second cancel finds nothing), resuming with a fast throttle finishes the rest,
/// and every key reads back through the new node.
@Suite(.serialized) struct TransferSteeringTests {
    static func steer(_ cluster: LocalCluster, _ node: Int, _ body: String) -> LocalCluster.Response {
        cluster.request("POST", node, "/v1/cluster/transfers", body: body, headers: ["Content-Type": "application/json"])
    }

    /// Node `node`'s transfers in progress and its handoff state.
    static func transfers(_ cluster: LocalCluster, _ node: Int) -> (active: [[String: Any]], paused: Bool?) {
        guard let status = cluster.json("GET", node, "/v1/cluster") else { return ([], nil) }
        let all = (status["transfers"] as? [[String: Any]]) ?? []
        let active = all.filter { ["queued", "sending"].contains($0["state"] as? String ?? "") }
        return (active, (status["handoff"] as? [String: Any])?["paused"] as? Bool)
    }

    @Test func pauseResumeAndCancelSteerARealHandoff() async throws {
        let cluster = try NodeClusterTests.threeNodes("steer", portOffset: 160)
        defer { cluster.stopAll() }
        // About 600 KB per partition (16 partitions): three batches of at most 256 KiB each, so
        // a transfer outlives its first batch (the throttle spaces batches).
        let value = String(repeating: "x", count: 8_000)
        let keys = (0..<1_200).map { "steer\($0)" }
        let writers = try (1...3).map { try CairnClient(node: cluster.http($0), sourceAddress: LocalCluster.clientAddress) }
        defer { for client in writers { client.close() } }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<6 {
                group.addTask {
                    for index in stride(from: worker, to: keys.count, by: 6) {
                        try await writers[index % 3].put(key: Array(keys[index].utf8), value: Array(value.utf8))
                    }
                }
            }
            try await group.waitForAll()
        }
        // Slow: after its first batch a transfer waits about a minute at 4 KiB/s.
        for node in 1...3 {
            let answer = Self.steer(cluster, node, #"{"action": "throttle", "bytes_per_second": 4096}"#)
            #expect(answer.status == 200 && answer.body.contains("\"bytes_per_second\":4096"), "\(answer.status) \(answer.body)")
        }
        try cluster.start(4)
        try cluster.waitUntil("a transfer to the new node is sending", timeout: 30) {
            (1...3).contains { Self.transfers(cluster, $0).active.contains { $0["state"] as? String == "sending" } }
        }

        for node in 1...3 { #expect(Self.steer(cluster, node, #"{"action": "pause"}"#).status == 200) }
        for node in 1...3 {
            let (active, paused) = Self.transfers(cluster, node)
            #expect(paused == true, "node \(node) reports handoff paused")
            #expect(active.allSatisfy { $0["state"] as? String == "queued" }, "node \(node): nothing sending while paused: \(active)")
        }
        let sentBefore = (1...3).map { node in Self.transfers(cluster, node).active.map { ($0["sent_keys"] as? Int) ?? 0 }.reduce(0, +) }
        try await Task.sleep(for: .seconds(3))
        let sentAfter = (1...3).map { node in Self.transfers(cluster, node).active.map { ($0["sent_keys"] as? Int) ?? 0 }.reduce(0, +) }
        #expect(sentAfter == sentBefore, "nothing is sent while paused: \(sentBefore) then \(sentAfter)")

        // Cancel one transfer of one node; it leaves the active list, and cancelling it again finds nothing.
        let (owner, transfer) = try #require((1...3).lazy.compactMap { node in
            Self.transfers(cluster, node).active.first.map { (node, $0) }
        }.first, "some transfer is still owed while paused")
        let partition = try #require(transfer["partition"] as? Int)
        let target = try #require(transfer["to"] as? String)
        let cancel = Self.steer(cluster, owner, #"{"action": "cancel", "partition": \#(partition), "to": "\#(target)"}"#)
        #expect(cancel.status == 200 && cancel.body.contains("\"cancelled\":1"), "\(cancel.status) \(cancel.body)")
        #expect(!Self.transfers(cluster, owner).active.contains { $0["partition"] as? Int == partition && $0["to"] as? String == target })
        let again = Self.steer(cluster, owner, #"{"action": "cancel", "partition": \#(partition), "to": "\#(target)"}"#)
        #expect(again.status == 404 && again.body.contains("transfer_not_found"), "\(again.status) \(again.body)")
        #expect(Self.steer(cluster, owner, #"{"action": "pause", "partition": 1}"#).status == 400, "a pause takes no partition")

        for node in 1...3 {
            #expect(Self.steer(cluster, node, #"{"action": "throttle", "bytes_per_second": 67108864}"#).status == 200)
            let resumed = Self.steer(cluster, node, #"{"action": "resume"}"#)
            #expect(resumed.status == 200 && resumed.body.contains("\"paused\":false"), "\(resumed.body)")
        }
        try cluster.waitUntil("every transfer is done", timeout: 60) {
            (1...3).allSatisfy { Self.transfers(cluster, $0).active.isEmpty }
        }
        try cluster.waitUntil("the new node holds its partitions", timeout: 60) {
            (cluster.json("GET", 4, "/v1/cluster")?["pending_partitions"] as? [Any])?.isEmpty == true
        }
        let reader = try CairnClient(node: cluster.http(4), sourceAddress: LocalCluster.clientAddress)
        defer { reader.close() }
        var unreadable: [String] = []
        for key in keys where try await reader.get(key: Array(key.utf8)).siblings != [Array(value.utf8)] { unreadable.append(key) }
        #expect(unreadable.isEmpty, "\(unreadable.count) keys not read back through the new node: \(unreadable.prefix(5))")
    }
}

/// Anti-entropy orders on real nodes: an exchange of one partition runs at once and shows in
/// `GET /v1/cluster/partitions`; a tree rebuild counts the partition's keys and finds the tree
/// kept on the write path unchanged; a partition the node does not replicate is refused.
@Suite(.serialized) struct AntiEntropyOrderTests {
    static func order(_ cluster: LocalCluster, _ node: Int, _ body: String) -> LocalCluster.Response {
        cluster.request("POST", node, "/v1/cluster/antientropy", body: body, headers: ["Content-Type": "application/json"])
    }

    static func partition(_ cluster: LocalCluster, _ node: Int, _ partition: Int) -> [String: Any]? {
        ((cluster.json("GET", node, "/v1/cluster/partitions")?["partitions"] as? [[String: Any]]) ?? [])
            .first { $0["partition"] as? Int == partition }
    }

    @Test func anExchangeRunsAtOnceAndARebuiltTreeMatches() async throws {
        let cluster = try LocalCluster(name: "aeorder", portOffset: 170)
        defer { cluster.stopAll() }
        // N=2 of 3 nodes: each node replicates only some partitions.
        let environment = ["CAIRN_N": "2", "CAIRN_R": "1", "CAIRN_W": "2", "CAIRN_HANDOFF_THROTTLE": "65536", "CAIRN_HINT_MAX_AGE": "60",
                           "CAIRN_ANTIENTROPY_INTERVAL": "200"]
        for node in 1...3 { try cluster.start(node, environment: environment) }
        try cluster.waitForRing(members: 3, nodes: [1, 2, 3])
        let handoff = cluster.json("GET", 1, "/v1/cluster")?["handoff"] as? [String: Any]
        #expect(handoff?["bytes_per_second"] as? Int == 65_536 && handoff?["paused"] as? Bool == false, "the throttle set at start: \(String(describing: handoff))")
        for index in 0..<200 { #expect(cluster.put(index % 3 + 1, "ae\(index)", "v\(index)").status == 200) }

        let partitions = try #require(cluster.json("GET", 1, "/v1/cluster/partitions")?["partitions"] as? [[String: Any]])
        let here = try #require(partitions.first { $0["here"] as? Bool == true && ($0["keys"] as? Int ?? 0) > 0 })
        let elsewhere = try #require(partitions.first { $0["here"] as? Bool == false })
        let p = try #require(here["partition"] as? Int)
        let before = (here["exchange"] as? [String: Any])?["exchanges"] as? Int ?? 0

        let exchange = Self.order(cluster, 1, #"{"action": "exchange", "partition": \#(p)}"#)
        #expect(exchange.status == 200, "\(exchange.status) \(exchange.body)")
        let peers = (try? JSONSerialization.jsonObject(with: Data(exchange.body.utf8)) as? [String: Any])?["peers"] as? [String]
        let replicas = (here["replicas"] as? [String] ?? []).filter { $0 != cluster.json("GET", 1, "/v1/cluster")?["node"] as? String }
        #expect(peers == replicas, "exchanging with the other replica: \(String(describing: peers)) vs \(replicas)")
        try cluster.waitUntil("the exchange of partition \(p) ran", timeout: 10) {
            let record = Self.partition(cluster, 1, p)?["exchange"] as? [String: Any]
            return (record?["exchanges"] as? Int ?? 0) > before && record?["agree"] != nil
        }

        let rebuilt = Self.order(cluster, 1, #"{"action": "rebuild_tree", "partition": \#(p)}"#)
        let answer = try #require(try JSONSerialization.jsonObject(with: Data(rebuilt.body.utf8)) as? [String: Any], "\(rebuilt.body)")
        #expect(rebuilt.status == 200)
        #expect(answer["keys"] as? Int == Self.partition(cluster, 1, p)?["keys"] as? Int, "\(answer)")
        #expect(answer["changed"] as? Bool == false, "the tree kept on the write path matched the records: \(answer)")

        // The same, labelled per partition in /metrics.
        let metrics = cluster.request("GET", 1, "/metrics").body
        let keys = try #require(Self.partition(cluster, 1, p)?["keys"] as? Int)
        #expect(metrics.contains("cairn_partition_keys{partition=\"\(p)\"} \(keys)"), "keys of partition \(p) labelled")
        #expect(metrics.contains("cairn_antientropy_segments_differing{partition=\"\(p)\"} 0"))
        #expect(metrics.contains("cairn_antientropy_last_exchange_age_seconds{partition=\"\(p)\"}"))
        #expect(metrics.contains("cairn_handoff_bytes_per_second 65536"))

        let other = try #require(elsewhere["partition"] as? Int)
        let refused = Self.order(cluster, 1, #"{"action": "exchange", "partition": \#(other)}"#)
        #expect(refused.status == 409 && refused.body.contains("not_a_replica"), "\(refused.status) \(refused.body)")
        let unknown = Self.order(cluster, 1, #"{"action": "rebuild", "partition": 1}"#)
        #expect(unknown.status == 400, "an unknown action: \(unknown.body)")

        // The sweep's pace, set at start and steered at run time.
        let sweep = cluster.json("GET", 1, "/v1/cluster")?["antientropy"] as? [String: Any]
        #expect(sweep?["interval_ms"] as? Int == 200 && sweep?["paused"] as? Bool == false, "\(String(describing: sweep))")
        func exchangesRun() -> Int {
            ((cluster.json("GET", 1, "/v1/cluster/partitions")?["partitions"] as? [[String: Any]]) ?? [])
                .reduce(0) { $0 + (($1["exchange"] as? [String: Any])?["exchanges"] as? Int ?? 0) }
        }
        let paused = Self.order(cluster, 1, #"{"action": "pause"}"#)
        #expect(paused.status == 200 && paused.body.contains("\"paused\":true"), "\(paused.body)")
        #expect(cluster.metric(1, "cairn_antientropy_paused") == 1)
        try await Task.sleep(for: .seconds(1.5))  // an exchange under way finishes
        let whilePaused = exchangesRun()
        try await Task.sleep(for: .seconds(3))
        #expect(exchangesRun() == whilePaused, "no sweep exchange while paused")
        let retuned = Self.order(cluster, 1, #"{"action": "interval", "interval_ms": 0}"#)
        #expect(retuned.status == 200 && retuned.body.contains("\"interval_ms\":0") && retuned.body.contains("\"paused\":true"), "\(retuned.body)")
        #expect(Self.order(cluster, 1, #"{"action": "resume"}"#).status == 200)
        try cluster.waitUntil("the sweep runs again", timeout: 20) { exchangesRun() > whilePaused + 2 }
        #expect(cluster.metric(1, "cairn_antientropy_interval_seconds") == 0)
        #expect(Self.order(cluster, 1, #"{"action": "interval", "interval_ms": -1}"#).status == 400)
        #expect(Self.order(cluster, 1, #"{"action": "pause", "partition": 1}"#).status == 400)
    }
}
