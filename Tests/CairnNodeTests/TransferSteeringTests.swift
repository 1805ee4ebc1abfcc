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
