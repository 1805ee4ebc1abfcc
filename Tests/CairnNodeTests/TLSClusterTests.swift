import CairnCore
import CairnHTTPTestSupport
import CairnTLS
import CairnTransport
import CairnWire
import Foundation
import Logging
import NIOPosix
import Testing

/// Three real `cairnd` processes started with `--certs-dir` (certificates made by
/// `CertificateAuthority`, as `cairn certs` makes them): mutual TLS between the nodes, HTTPS and
/// TLS on the Redis port for clients. The basic read/write/kill test, and the refusals.
@Suite struct TLSClusterTests {
    static let respPort = 29_140

    @Test func aTLSClusterServesReadsAndWritesThroughAKillAndRefusesWhatIsNotTLS() async throws {
        let certificates = try TestCertificates("cluster")
        defer { certificates.remove() }
        let cluster = try LocalCluster(name: "tls", portOffset: 130)
        defer { cluster.stopAll() }
        cluster.caCertificate = certificates.caCertificate
        var environments: [Int: [String: String]] = [:]
        for node in 1...3 {
            let directory = try certificates.node("node\(node)", hosts: ["127.0.0.\(node)", "localhost"])
            environments[node] = ["CAIRN_CERTS_DIR": directory, "CAIRN_RESP": "127.0.0.\(node):\(Self.respPort)"]
            try cluster.start(node, environment: environments[node])
        }
        try cluster.waitForRing(members: 3, nodes: [1, 2, 3])
        #expect(cluster.logs().contains("cairn.tls=on"))

        // Writes through any node, read back through every node from all replicas.
        for node in 1...3 {
            let put = cluster.put(node, "k\(node)", "value \(node)")
            #expect(put.status == 200, "node \(node): \(put.status) \(put.body)")
        }
        for node in 1...3 {
            for key in 1...3 {
                let read = cluster.get(node, "k\(key)", query: "?r=3")
                #expect(read.status == 200 && NodeClusterTests.value(read) == "value \(key)", "node \(node) k\(key): \(read.body)")
            }
        }

        // Plain HTTP to the HTTPS port is told to use https.
        cluster.caCertificate = nil
        let plain = cluster.request("GET", 1, "/v1/keys/k1")
        cluster.caCertificate = certificates.caCertificate
        #expect(plain.status == 400 && plain.body.contains("tls_required"), "\(plain.status) \(plain.body)")

        // The Redis port speaks TLS: redis-cli --tls with the CA works, plain redis-cli does not.
        if (try? RESPNodeTests.redisCLI(1, ["--version"]))?.status == 0 {
            let set = try redisCLI(1, ["--tls", "--cacert", certificates.caCertificate, "SET", "from-redis", "over tls"])
            #expect(set.status == 0 && set.stdout.contains("OK"), "\(set.stdout) \(set.stderr)")
            let get = try redisCLI(2, ["--tls", "--cacert", certificates.caCertificate, "GET", "from-redis"])
            #expect(get.stdout.contains("over tls"), "\(get.stdout) \(get.stderr)")
            let refused = try redisCLI(1, ["GET", "from-redis"])
            #expect(!refused.stdout.contains("over tls"))
        }

        // Internode: a peer without TLS, and one with a certificate of another CA, get nothing.
        try await expectInternodeRefused(cluster: cluster, tls: nil)
        let stranger = try TestCertificates("cluster-stranger")
        defer { stranger.remove() }
        let strangerTLS = try TestCertificates.impostor(
            presenting: stranger.node("stranger", hosts: ["127.0.0.100"]), trusting: certificates.caCertificate)
        try await expectInternodeRefused(cluster: cluster, tls: strangerTLS)

        // Kill a node: writes go on at W=2 (hinted for the dead one) and reads at R=2; back, it
        // takes its hints over mutual TLS.
        cluster.kill(3)
        let keys = (0..<10).map { "during-kill-\($0)" }
        for key in keys {
            let put = cluster.put(1 + Int.random(in: 0...1), key, "v-\(key)", query: "?w=2")
            #expect(put.status == 200, "\(key): \(put.status) \(put.body)")
        }
        for key in keys { #expect(NodeClusterTests.value(cluster.get(2, key, query: "?r=2")) == "v-\(key)") }
        try cluster.start(3, environment: environments[3])
        func hintsHeld() -> Int {
            [1, 2].reduce(0) { $0 + ((cluster.json("GET", $1, "/v1/cluster")?["hints_held"] as? NSNumber)?.intValue ?? 0) }
        }
        try cluster.waitUntil("the hints reach the restarted node", timeout: 30) { hintsHeld() == 0 }
        for key in keys {
            let read = cluster.get(3, key, query: "?r=3")
            #expect(NodeClusterTests.value(read) == "v-\(key)", "\(key): \(read.status) \(read.body)")
        }
    }

    private func redisCLI(_ node: Int, _ arguments: [String]) throws -> RESPNodeTests.Output {
        try RESPNodeTests.redisCLI(node, arguments, port: Self.respPort)
    }

    /// A peer with the cluster's name (and `tls`) dialling node 1's internode port gets no
    /// answer to a read.
    private func expectInternodeRefused(cluster: LocalCluster, tls: WireTLS?) async throws {
        var logger = Logger(label: "test.tls-peer")
        logger.logLevel = .critical
        let pool = try WirePool(
            identity: WireIdentity(clusterName: cluster.cluster, node: NodeID(high: 0xBAD, low: 0x7150), tls: tls),
            listenAddress: "127.0.0.100:1", group: MultiThreadedEventLoopGroup.singleton, logger: logger)
        let read = WireMessage.read(ReadRequest(key: Array("k1".utf8), partition: 0))
        await #expect(throws: TransportError.self) { try await pool.request(read, to: cluster.internode(1), timeout: .seconds(5)) }
        await pool.shutdown()
    }
}
