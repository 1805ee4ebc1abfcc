import Foundation
import Testing

/// The cluster clock on real processes: node 3 runs under libfaketime 30 s ahead. Every node
/// estimates the offsets from its probes; node 3 corrects itself back by about 30 s (and says
/// so in its status, warnings and metrics), nodes 1 and 2 barely move. TTLs then hold across
/// the skew: a key written through node 1 with a 10 s TTL is still read through node 3 after
/// 5 s, and a key written through node 3 expires about 10 s later as node 1 sees it, not 40 s.
@Suite(.serialized) struct ClockSkewTests {
    static let libfaketime = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"

    static func correction(_ cluster: LocalCluster, _ node: Int) -> Int? {
        (cluster.json("GET", node, "/v1/cluster")?["clock"] as? [String: Any])?["correction_ms"] as? Int
    }

    @Test func aNodeThirtySecondsAheadIsCorrectedAndTTLsHold() async throws {
        try #require(FileManager.default.fileExists(atPath: Self.libfaketime), "libfaketime is missing: run Scripts/setup.sh")
        let cluster = try LocalCluster(name: "clock", portOffset: 190)
        defer { cluster.stopAll() }
        try cluster.start(1)
        try cluster.start(2)
        try cluster.startFromEnvironment(3, environment: ["LD_PRELOAD": Self.libfaketime, "FAKETIME": "+30s", "FAKETIME_DONT_RESET": "1"])
        try cluster.waitForRing(members: 3, nodes: [1, 2, 3])

        try cluster.waitUntil("node 3 corrects its clock back by about 30 s", timeout: 20) {
            abs((Self.correction(cluster, 3) ?? 0) + 30_000) < 1_000
        }
        try await Task.sleep(for: .seconds(3))  // a few more probes
        let fast = try #require(Self.correction(cluster, 3))
        #expect(abs(fast + 30_000) < 500, "node 3's correction \(fast) ms")
        for node in [1, 2] {
            let correction = try #require(Self.correction(cluster, node))
            #expect(abs(correction) < 500, "node \(node) stays on the median: \(correction) ms")
        }
        let status3 = try #require(cluster.json("GET", 3, "/v1/cluster"))
        #expect((status3["warnings"] as? [String] ?? []).contains { $0.hasPrefix("clock: this machine's clock is") && $0.contains("ahead of") },
                "\(status3["warnings"] ?? [])")
        let seen = (cluster.json("GET", 1, "/v1/cluster")?["members"] as? [[String: Any]])?
            .first { $0["address"] as? String == cluster.internode(3) }?["clock_offset_ms"] as? Int
        #expect(abs((seen ?? 0) - 30_000) < 500, "node 1 sees node 3 at +\(seen ?? 0) ms")
        #expect(abs((cluster.metric(3, "cairn_clock_correction_seconds") ?? 0) + 30) < 0.5)
        #expect(cluster.logs().contains("this machine's clock is"), "node 3 logs the skew")

        // Written through node 1, read through node 3 halfway into its TTL.
        #expect(cluster.put(1, "early", "v", query: "?ttl=10").status == 200)
        // Written through node 3, watched through node 1 until it expires.
        let written = Date()
        #expect(cluster.put(3, "late", "v", query: "?ttl=10").status == 200)
        try await Task.sleep(for: .seconds(5))
        let halfway = cluster.get(3, "early")
        #expect(halfway.status == 200, "a key 5 s into its 10 s TTL is read through the fast node: \(halfway.status) \(halfway.body)")
        var expiredAfter: Double?
        while Date().timeIntervalSince(written) < 20 {
            if cluster.get(1, "late").status == 404 {
                expiredAfter = Date().timeIntervalSince(written)
                break
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        let seconds = try #require(expiredAfter, "the key written through the fast node never expired as node 1 sees it")
        print("ClockSkewTests: a 10 s TTL written through the node 30 s ahead expired after \(String(format: "%.2f", seconds)) s")
        #expect(seconds > 8 && seconds < 12, "expired after \(seconds) s, not 10 ± the estimation error")
    }
}
