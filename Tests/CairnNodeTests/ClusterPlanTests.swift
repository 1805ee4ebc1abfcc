import CairnClient
import Foundation
import Testing

/// `cairn cluster plan` and `commit` on real nodes: a fourth node started with `--join staged`
/// waits; the plan printed by the real CLI names its join and what it would receive; the commit
/// (through another node) makes it a member; the ring, the partitions it replicates and the
/// keys and bytes it holds after handoff are what the plan predicted; the same token again is
/// stale.
@Suite(.serialized) struct ClusterPlanTests {
    /// The `cairn` CLI built beside `cairnd`, run from the test client address.
    static func cli(_ cluster: LocalCluster, _ node: Int, _ arguments: [String]) throws -> (status: Int32, output: String) {
        try LocalCluster.run(
            String(LocalCluster.cairnd.dropLast("cairnd".count)) + "cairn",
            ["--node", cluster.http(node), "--source-address", LocalCluster.clientAddress] + arguments)
    }

    static func member(_ cluster: LocalCluster, seenBy node: Int, address: String) -> [String: Any]? {
        (cluster.json("GET", node, "/v1/cluster")?["members"] as? [[String: Any]])?.first { $0["address"] as? String == address }
    }

    @Test func aStagedJoinIsPlannedCommittedAndMovesWhatThePlanSaid() async throws {
        let cluster = try NodeClusterTests.threeNodes("plan", portOffset: 180)
        defer { cluster.stopAll() }
        let value = String(repeating: "p", count: 1_000)
        for index in 0..<400 { #expect(cluster.put(index % 3 + 1, "plan\(index)", value).status == 200) }

        let nothing = try Self.cli(cluster, 1, ["cluster", "plan"])
        #expect(nothing.status != 0 && nothing.output.contains("nothing to plan"), "\(nothing.output)")

        try cluster.start(4, environment: ["CAIRN_JOIN": "staged"])
        try cluster.waitUntil("node 4 is listed joining", timeout: 20) {
            Self.member(cluster, seenBy: 1, address: cluster.internode(4))?["status"] as? String == "joining"
        }
        // Staged: it has the cluster's ring but takes no partition until the commit.
        try await Task.sleep(for: .seconds(3))
        let waiting = try #require(cluster.json("GET", 4, "/v1/cluster"))
        #expect((waiting["ring"] as? [String: Any])?["members"] as? Int == 3, "the staged node holds the 3-member ring: \(waiting["ring"] ?? "-")")
        #expect(Self.member(cluster, seenBy: 2, address: cluster.internode(4))?["status"] as? String == "joining")
        let newID = try #require(waiting["node"] as? String)

        // The plan as an operator reads it, through node 2.
        let text = try Self.cli(cluster, 2, ["cluster", "plan"])
        #expect(text.status == 0, "\(text.output)")
        #expect(text.output.contains("1. join \(newID) (\(cluster.internode(4)))"), "\(text.output)")
        #expect(text.output.contains("every partition keeps 3 distinct replicas"), "\(text.output)")
        let commitLine = try #require(text.output.split(separator: "\n").last { $0.hasPrefix("to carry it out: cairn cluster commit ") })
        let token = String(commitLine.split(separator: " ").last!)

        let planned = try Self.cli(cluster, 2, ["cluster", "plan", "--json"])
        let plan = try #require(try JSONSerialization.jsonObject(with: Data(planned.output.utf8)) as? [String: Any], "\(planned.output)")
        #expect(plan["plan"] as? String == token)
        let step = try #require((plan["steps"] as? [[String: Any]])?.first)
        let predictedVersion = try #require(step["ring_version"] as? Int)
        let transfers = try #require(step["transfers"] as? [[String: Any]])
        let predictedPartitions = Set(transfers.filter { $0["to"] as? String == newID }.compactMap { $0["partition"] as? Int })
        let newNode = try #require((plan["nodes"] as? [[String: Any]])?.first { $0["node"] as? String == newID })
        let receives = try #require(newNode["receives"] as? [String: Any])
        #expect(plan["estimated_partitions"] as? Int == 0, "with N=3 of 3 nodes node 2 holds every partition: sizes are exact")
        #expect(newNode["partitions_before"] as? Int == 0 && (newNode["partitions_after"] as? Int ?? 0) >= 3)
        #expect(!predictedPartitions.isEmpty)
        // What each old node is to send: every old replica of a gained partition sends it.
        var predictedSends: [String: Int] = [:]
        for node in plan["nodes"] as? [[String: Any]] ?? [] {
            if let id = node["node"] as? String { predictedSends[id] = (node["sends"] as? [String: Any])?["partitions"] as? Int }
        }
        let oldIDs = try (1...3).map { node in try #require(cluster.json("GET", node, "/v1/cluster")?["node"] as? String) }

        // Commit through node 3.
        let committed = try Self.cli(cluster, 3, ["cluster", "commit", token])
        #expect(committed.status == 0 && committed.output.contains("committed: change=join node=\(newID) ring_version=\(predictedVersion)"),
                "\(committed.output)")
        try cluster.waitUntil("node 4 is valid", timeout: 20) {
            Self.member(cluster, seenBy: 1, address: cluster.internode(4))?["status"] as? String == "valid"
        }
        let ring = try #require(cluster.json("GET", 1, "/v1/cluster")?["ring"] as? [String: Any])
        #expect(ring["version"] as? Int == predictedVersion && ring["members"] as? Int == 4, "\(ring)")

        // The partitions node 4 replicates now are the ones the plan said it would receive.
        let partitions = try #require(cluster.json("GET", 1, "/v1/cluster/partitions")?["partitions"] as? [[String: Any]])
        let replicatedByNew = Set(partitions.filter { ($0["replicas"] as? [String])?.contains(newID) == true }.compactMap { $0["partition"] as? Int })
        #expect(replicatedByNew == predictedPartitions, "ring: \(replicatedByNew.sorted()) plan: \(predictedPartitions.sorted())")

        // After handoff node 4 holds the keys and bytes the plan predicted.
        try cluster.waitUntil("node 4 holds its partitions", timeout: 60) {
            (cluster.json("GET", 4, "/v1/cluster")?["pending_partitions"] as? [Any])?.isEmpty == true
        }
        let held = try #require(cluster.json("GET", 4, "/v1/cluster/partitions")?["partitions"] as? [[String: Any]])
            .filter { $0["here"] as? Bool == true }
        let heldKeys = held.reduce(0) { $0 + ($1["keys"] as? Int ?? 0) }
        let heldBytes = held.reduce(0) { $0 + ($1["bytes"] as? Int ?? 0) }
        let predictedKeys = try #require(receives["keys"] as? Int)
        let predictedBytes = try #require(receives["bytes"] as? Int)
        #expect(heldKeys == predictedKeys, "node 4 holds \(heldKeys) keys; the plan said \(predictedKeys)")
        // Each old node sent the transfers the plan listed for it (done transfers count from
        // the ring change on).
        func sent(_ node: Int) -> Int? {
            guard let status = cluster.json("GET", node, "/v1/cluster"), (status["transfers"] as? [Any])?.isEmpty == true else { return nil }
            return status["transfers_done"] as? Int
        }
        try cluster.waitUntil("every old node sent what the plan said", timeout: 30) {
            (1...3).allSatisfy { sent($0) == predictedSends[oldIDs[$0 - 1]] }
        }
        #expect(abs(heldBytes - predictedBytes) * 20 <= predictedBytes, "node 4 holds \(heldBytes) bytes; the plan said \(predictedBytes) (within 5%)")

        // The same plan again is stale; a leave of the new node plans it empty again.
        let again = cluster.request("POST", 1, "/v1/cluster/commit", body: #"{"plan": "\#(token)"}"#, headers: ["Content-Type": "application/json"])
        #expect(again.status == 409 && again.body.contains("plan_stale"), "\(again.status) \(again.body)")
        let leave = try #require(cluster.json(
            "POST", 1, "/v1/cluster/plan", body: #"{"leave": ["\#(cluster.internode(4))"]}"#, headers: ["Content-Type": "application/json"]))
        let after = (leave["nodes"] as? [[String: Any]])?.first { $0["node"] as? String == newID }
        #expect(after?["partitions_after"] as? Int == 0 && (after?["sends"] as? [String: Any])?["partitions"] as? Int ?? 0 > 0, "\(leave)")
        let unknown = cluster.request("POST", 1, "/v1/cluster/plan", body: #"{"remove": ["127.0.0.9:1"]}"#, headers: ["Content-Type": "application/json"])
        #expect(unknown.status == 404 && unknown.body.contains("node_not_found"), "\(unknown.status) \(unknown.body)")
    }
}
