import CairnClient
import Foundation
import Testing

/// The data model as a user of a plain REST API meets it, through curl against real `cairnd`
/// processes: a PUT overwrites, a DELETE deletes, a TTL applies to the key, a conditional write
/// is refused with 412 when the key is not as the client expects.
@Suite(.serialized) struct DataModelTests {
    @Test func plainPutsOverwriteAndAPlainDeleteDeletesOnEveryNode() throws {
        let cluster = try NodeClusterTests.threeNodes("plain", portOffset: 90)
        defer { cluster.stopAll() }

        // PUT, PUT through another node, GET through every node: the last value, no siblings.
        let first = cluster.put(1, "colour", "red")
        #expect(first.status == 200, "\(first.body)\n\(cluster.logs())")
        #expect(first.headers["x-cairn-context"] != nil, "a PUT answers with the new context")
        #expect(cluster.put(2, "colour", "blue").status == 200)
        for node in 1...3 {
            let read = cluster.get(node, "colour")
            #expect(read.status == 200 && NodeClusterTests.value(read) == "blue", "node \(node): \(read.status) \(read.body)")
        }

        // The latency histogram's buckets start at 100 µs (requests on loopback take about a
        // millisecond; the library's default first bucket, 5 ms, would hold nearly all of them).
        let metrics = cluster.request("GET", 1, "/metrics").body
        #expect(metrics.contains(#"cairn_request_duration_seconds_bucket{op="put",le="0.0001"}"#), "\(metrics.prefix(2000))")
        #expect(metrics.contains(#"cairn_request_duration_seconds_bucket{op="get",le="0.00025"}"#))

        // Far more plain PUTs than the sibling limit (64): still one value, never a 409.
        for round in 0..<80 {
            let put = cluster.put(1 + round % 3, "counter", "\(round)")
            guard put.status == 200 else {
                Issue.record("plain PUT \(round) answered \(put.status): \(put.body)")
                break
            }
        }
        let counter = cluster.get(2, "counter", query: "?r=3")
        #expect(counter.status == 200 && NodeClusterTests.value(counter) == "79", "\(counter.status) \(counter.body)")

        // A PUT's context is enough for the next write of a read-modify-write loop.
        let context = try #require(cluster.put(3, "colour", "green").headers["x-cairn-context"])
        #expect(cluster.put(1, "colour", "green and gold", context: context).status == 200)
        #expect(NodeClusterTests.value(cluster.get(2, "colour", query: "?r=3")) == "green and gold")

        // A plain DELETE deletes, on every node; deleting again is no error.
        let deleted = cluster.request("DELETE", 3, "/v1/keys/colour")
        #expect(deleted.status == 200, "\(deleted.body)")
        for node in 1...3 {
            #expect(cluster.get(node, "colour").status == 404, "node \(node) still has the deleted key")
        }
        #expect(cluster.request("DELETE", 1, "/v1/keys/colour").status == 200)
        #expect(cluster.request("DELETE", 2, "/v1/keys/never-written").status == 200)

        // A plain PUT with a TTL after one without: the key expires.
        #expect(cluster.put(1, "session", "forever?").status == 200)
        #expect(cluster.put(2, "session", "for a second", query: "?ttl=1").status == 200)
        #expect(NodeClusterTests.value(cluster.get(3, "session")) == "for a second")
        Thread.sleep(forTimeInterval: 1.3)
        for node in 1...3 {
            let read = cluster.get(node, "session")
            #expect(read.status == 404, "node \(node): \(read.status) \(read.body)")
        }

        // Dynamo's blind write stays available: it supersedes nothing.
        #expect(cluster.put(1, "cart", "apples").status == 200)
        #expect(cluster.put(2, "cart", "pears", query: "?blind=true").status == 200)
        let both = cluster.get(3, "cart", query: "?r=3")
        #expect(both.status == 300 && both.body.contains("apples") && both.body.contains("pears"), "\(both.status) \(both.body)")
        #expect(cluster.put(3, "cart", "x", query: "?blind=true", context: both.headers["x-cairn-context"]).status == 400,
                "blind with a context is refused")

        // HTTP's conditional writes, decided by a quorum read on whichever node coordinates.
        let octet = ["Content-Type": "application/octet-stream"]
        let created = cluster.request("PUT", 1, "/v1/keys/door", body: "open", headers: octet.merging(["If-None-Match": "*"]) { $1 })
        #expect(created.status == 200, "\(created.status) \(created.body)")
        let again = cluster.request("PUT", 2, "/v1/keys/door", body: "shut", headers: octet.merging(["If-None-Match": "*"]) { $1 })
        #expect(again.status == 412 && again.body.contains("precondition_failed"), "\(again.status) \(again.body)")
        #expect(again.headers["x-cairn-context"] == created.headers["x-cairn-context"], "a 412 carries the current context")
        let opened = try #require(created.headers["x-cairn-context"])
        let shut = cluster.request("PUT", 3, "/v1/keys/door", body: "shut", headers: octet.merging(["If-Match": "\"\(opened)\""]) { $1 })
        #expect(shut.status == 200, "\(shut.status) \(shut.body)")
        let stale = cluster.request("DELETE", 1, "/v1/keys/door", headers: ["If-Match": opened])
        #expect(stale.status == 412, "a context no longer current is refused: \(stale.status) \(stale.body)")
        #expect(NodeClusterTests.value(cluster.get(2, "door", query: "?r=3")) == "shut")
        #expect(cluster.request("DELETE", 2, "/v1/keys/door", headers: ["If-Match": "*"]).status == 200)
        #expect(cluster.request("DELETE", 3, "/v1/keys/door", headers: ["If-Match": "*"]).status == 412, "nothing left to delete")
        for node in 1...3 { #expect(cluster.get(node, "door").status == 404, "node \(node)") }
    }
}

/// Compare-and-set on the key's own object, through real nodes.
@Suite(.serialized) struct CASOnTheKeyTests {
    static func cas(_ cluster: LocalCluster, _ node: Int, _ key: String, _ body: String) -> LocalCluster.Response {
        cluster.request("POST", node, "/v1/keys/\(key)/cas", body: body, headers: ["Content-Type": "application/json"])
    }

    @Test func aCASIsReadByGETEverywhereFencesPlainWritesAndTwentyClientsCountToOneHundred() async throws {
        // Acceptor states are collected 1 s after their last ballot, so the counter below runs
        // while its states come and go and the nodes' floors rise.
        let cluster = try NodeClusterTests.threeNodes("caskey", portOffset: 110, environment: ["CAIRN_CAS_STATE_GRACE": "1"])
        defer { cluster.stopAll() }

        // A key first written by a plain PUT can be CAS'd, and GET sees what CAS wrote.
        #expect(cluster.put(1, "lock", "free").status == 200)
        let taken = Self.cas(cluster, 2, "lock", #"{"expected": "free", "value": "owner-a"}"#)
        #expect(taken.status == 200, "\(taken.status) \(taken.body)")
        for node in 1...3 {
            let read = cluster.get(node, "lock")
            #expect(read.status == 200 && NodeClusterTests.value(read) == "owner-a", "node \(node): \(read.status) \(read.body)")
            let serial = cluster.get(node, "lock", query: "?consistency=serial")
            #expect(serial.status == 200 && NodeClusterTests.value(serial) == "owner-a", "node \(node) serial: \(serial.body)")
        }
        let scanned = cluster.request("GET", 3, "/v1/keys?prefix=lock&values=true")
        #expect(scanned.body.contains("owner-a"), "a scan sees the CAS value: \(scanned.body)")

        // Plain writes of a CAS key are fenced; a forced CAS replaces whatever it holds.
        let fenced = cluster.put(3, "lock", "sneaky")
        #expect(fenced.status == 409 && fenced.body.contains("cas_managed"), "\(fenced.status) \(fenced.body)")
        #expect(cluster.request("DELETE", 1, "/v1/keys/lock").status == 409)
        #expect(NodeClusterTests.value(cluster.get(2, "lock", query: "?r=3")) == "owner-a")
        let forced = Self.cas(cluster, 1, "lock", #"{"force": true, "value": "owner-b"}"#)
        #expect(forced.status == 200, "\(forced.body)")
        #expect(NodeClusterTests.value(cluster.get(3, "lock")) == "owner-b")
        let released = Self.cas(cluster, 2, "lock", #"{"expected": "owner-b", "value": null}"#)
        #expect(released.status == 200)
        #expect(cluster.get(1, "lock").status == 404, "a CAS to absent deletes")

        // 20 clients raise a counter from 0 to 100 by CAS through the three nodes.
        #expect(Self.cas(cluster, 1, "counter", #"{"expected": null, "value": "0"}"#).status == 200)
        let clients = try (1...3).map { try CairnClient(node: cluster.http($0), sourceAddress: LocalCluster.clientAddress) }
        defer { for client in clients { client.close() } }
        let (applied, unknown) = try await withThrowingTaskGroup(of: (applied: [Int], unknown: Int).self) { group in
            for worker in 0..<20 {
                group.addTask {
                    let client = clients[worker % 3]
                    var mine: [Int] = []
                    var unknown = 0
                    while true {
                        let read = try await client.get(key: Array("counter".utf8))
                        guard let text = read.value.flatMap({ String(bytes: $0, encoding: .utf8) }), let current = Int(text) else {
                            continue
                        }
                        if current >= 100 { return (mine, unknown) }
                        do {
                            switch try await client.cas(key: Array("counter".utf8), expected: Array(text.utf8),
                                                        new: Array(String(current + 1).utf8)) {
                            case .applied: mine.append(current + 1)
                            case .failed, .siblings: continue
                            }
                        } catch CairnClientError.http(let status, _, _) where status == 503 || status == 504 {
                            // Contention outlasted the attempts (nothing written), or an unknown
                            // outcome (maybe written): read again either way.
                            if status == 504 { unknown += 1 }
                        }
                    }
                }
            }
            var all: [Int] = []
            var unknown = 0
            for try await result in group {
                all += result.applied
                unknown += result.unknown
            }
            return (all, unknown)
        }
        #expect(NodeClusterTests.value(cluster.get(2, "counter", query: "?consistency=serial")) == "100")
        #expect(Set(applied).count == applied.count, "no increment is applied twice: \(applied.sorted())")
        #expect(applied.allSatisfy { (1...100).contains($0) })
        #expect(applied.count + unknown >= 100, "every step was applied by someone: \(applied.count) known")
        let collected = (1...3).compactMap { cluster.metric($0, "cairn_cas_states_collected_total") }.reduce(0, +)
        #expect(collected > 0, "acceptor states were collected while the clients ran")
    }
}

/// Cluster-wide scans over five real nodes.
@Suite(.serialized) struct ScanTests {
    static let prefixes = (0..<50).map { String(format: "p%02d/", $0) }
    static let perPrefix = 200

    /// Every key a scan of `prefix` must list, in byte order.
    static func expected(prefix: String = "") -> [[UInt8]] {
        prefixes.flatMap { p in (0..<perPrefix).map { Array(String(format: "\(p)k%04d", $0).utf8) } }
            .filter { $0.starts(with: Array(prefix.utf8)) }
            .sorted { $0.lexicographicallyPrecedes($1) }
    }

    /// Scans page by page through `node`; returns the keys and the number of pages. A page the
    /// node answers `503 unavailable` ("retry": just after a kill, while the nodes' detectors
    /// still disagree on who is reachable) is asked again after the second it names, as a
    /// client should; any other error fails the scan.
    static func scanAll(_ client: CairnClient, prefix: String = "", limit: Int = 100) async throws -> (keys: [[UInt8]], pages: Int) {
        var keys: [[UInt8]] = []
        var after: [UInt8]?
        var pages = 0
        var retries = 0
        while pages < 10_000 {
            let page: CairnClient.KeyPage
            do {
                page = try await client.scan(prefix: Array(prefix.utf8), limit: limit, after: after)
            } catch CairnClientError.http(503, "unavailable", _) where retries < 10 {
                retries += 1
                try await Task.sleep(for: .seconds(1))
                continue
            }
            #expect(page.keys.count <= limit)
            keys += page.keys
            after = page.next
            pages += 1
            if after == nil { break }
        }
        return (keys, pages)
    }

    @Test func tenThousandKeysScanInOrderAcrossFiveNodesAlsoWithOneKilled() async throws {
        let cluster = try LocalCluster(name: "scan", portOffset: 100)
        defer { cluster.stopAll() }
        for node in 1...5 { try cluster.start(node) }
        try cluster.waitForRing(members: 5, nodes: [1, 2, 3, 4, 5])
        let clients = try (1...5).map { try CairnClient(node: cluster.http($0), sourceAddress: LocalCluster.clientAddress) }
        defer { for client in clients { client.close() } }

        let all = Self.expected()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<16 {
                group.addTask {
                    for index in stride(from: worker, to: all.count, by: 16) {
                        try await clients[index % 5].put(key: all[index], value: Array("v\(index)".utf8), blind: true)
                    }
                }
            }
            try await group.waitForAll()
        }

        let (keys, pages) = try await Self.scanAll(clients[0])
        #expect(keys.count == all.count && keys == all, "\(keys.count) keys listed of \(all.count)")
        #expect(pages >= all.count / 100)
        let prefixed = try await Self.scanAll(clients[2], prefix: "p07/")
        #expect(prefixed.keys == Self.expected(prefix: "p07/"))

        let withValues = try await clients[3].scan(prefix: Array("p42/k000".utf8), limit: 100, values: true)
        #expect(withValues.keys == Self.expected(prefix: "p42/k000"))
        let expectedValues = withValues.keys.map { key in [Array("v\(all.firstIndex(of: key)!)".utf8)] }
        #expect(withValues.reads?.map(\.siblings) == expectedValues)

        // A deleted key is not listed.
        try await clients[1].delete(key: Array("p07/k0003".utf8))
        let afterDelete = try await Self.scanAll(clients[4], prefix: "p07/k000")
        #expect(afterDelete.keys == Self.expected(prefix: "p07/k000").filter { $0 != Array("p07/k0003".utf8) })

        cluster.kill(5)
        let withoutFive = try await Self.scanAll(clients[0])
        let expectedNow = all.filter { $0 != Array("p07/k0003".utf8) }
        #expect(withoutFive.keys.count == expectedNow.count && withoutFive.keys == expectedNow,
                "with node 5 killed: \(withoutFive.keys.count) keys of \(expectedNow.count)")
    }
}

/// Deleted and expired keys are reaped, and merges reclaim their bytes: under a steady churn of
/// overwrites, TTLs and deletes over a fixed key space, disk use levels off.
@Suite(.serialized) struct ReapingTests {
    /// Bytes of records in a node's data files, live and dead (what merges reclaim; the
    /// files' preallocated tails are left out, since they do not grow).
    static func dataBytes(_ cluster: LocalCluster, _ node: Int) -> Int {
        Int((cluster.metric(node, "cairn_storage_live_bytes") ?? 0) + (cluster.metric(node, "cairn_storage_dead_bytes") ?? 0))
    }

    @Test func churnOverAFixedKeySpaceLevelsOffAndDeadKeysAreReaped() async throws {
        let cluster = try LocalCluster(name: "churn", portOffset: 120)
        defer { cluster.stopAll() }
        let environment = ["CAIRN_TOMBSTONE_GRACE": "2", "CAIRN_DATA_FILE_SIZE": "65536"]
        for node in 1...3 { try cluster.start(node, environment: environment) }
        try cluster.waitForRing(members: 3, nodes: [1, 2, 3])
        let clients = try (1...3).map { try CairnClient(node: cluster.http($0), sourceAddress: LocalCluster.clientAddress) }
        defer { for client in clients { client.close() } }
        let keys = (0..<100).map { Array(String(format: "churn-%03d", $0).utf8) }
        // Random bytes: LZ4 would squeeze a repeated byte to nothing.
        let value = (0..<4_096).map { _ in UInt8.random(in: 0...255) }
        let rounds = 20

        var sizes: [[Int]] = []
        for round in 0..<rounds {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<8 {
                    group.addTask {
                        for index in stride(from: worker, to: keys.count, by: 8) {
                            let client = clients[(index + round) % 3]
                            try await client.put(key: keys[index], value: value)
                            try await client.put(key: keys[index], value: value, ttlSeconds: 1)
                            if index % 2 == 0 { try await client.delete(key: keys[index]) }
                        }
                    }
                }
                try await group.waitForAll()
            }
            sizes.append((1...3).map { Self.dataBytes(cluster, $0) })
        }
        print("churn: data bytes per node after each round: \(sizes)")
        // Every key is now deleted or expires within a second: after the grace period the
        // reapers remove them all.
        try cluster.waitUntil("every node reaped every key", timeout: 90) {
            (1...3).allSatisfy { cluster.metric($0, "cairn_storage_keys") == 0 }
        }
        for node in 1...3 {
            #expect((cluster.metric(node, "cairn_keys_reaped_total") ?? 0) > 0, "node \(node) reaped nothing")
        }
        let written = rounds * keys.count * 2 * value.count  // value bytes each replica was sent, at least
        let final = (1...3).map { Self.dataBytes(cluster, $0) }
        print("churn: data bytes per node once every key was reaped: \(final); value bytes written per node: \(written)")
        for node in 0..<3 {
            let early = sizes[4][node]
            let late = sizes[rounds - 1][node]
            // Growing with the writes would mean 4x from round 5 to round 20; merges keep it level.
            #expect(late <= early * 2, "node \(node + 1): \(early) bytes after round 5, \(late) after round \(rounds) (\(sizes.map { $0[node] }))")
            #expect(late < written / 4, "node \(node + 1) keeps \(late) bytes of \(written) written")
        }
    }
}
