import CairnCore
import CairnHTTP
import CairnNode
import CairnHTTPTestSupport
import CairnTransport
import CairnWire
import Foundation
import Glibc
import Logging
import NIOPosix
import Testing

/// A real node against a hostile client: what it refuses, and that it keeps serving after.
@Suite(.serialized) struct HostileInputTests {
    /// Contexts are sealed under a key from the cluster secret: made-up ones (thousands of
    /// writers), altered ones and ones sealed without the secret get `400`, and the key stays
    /// readable and writable with the context a read returned.
    @Test func forgedContextsAreRefusedAndTheKeyStaysReadable() throws {
        let cluster = try LocalCluster(name: "hostile", internodePort: 7376, httpPort: 7386)
        defer { cluster.stopAll() }
        let secretFile = try cluster.writeFile("secret", Array("a secret of more than 16 bytes, for the test".utf8))
        try cluster.start(9, seed: nil, environment: ["CAIRN_N": "1", "CAIRN_SECRET_FILE": secretFile])
        #expect(cluster.put(9, "k", "v1").status == 200)
        let read = cluster.get(9, "k")
        let token = try #require(read.headers["x-cairn-context"])

        let writers = Dictionary(uniqueKeysWithValues: (0..<3_000).map {
            (ReplicaActor(node: NodeID(high: 0xBAD, low: UInt64($0)), epoch: 0), UInt64(1))
        })
        let madeUp = CausalContext(writers)
        var altered = Array(token.utf8)
        altered[altered.count / 2] = altered[altered.count / 2] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        let forged: [(String, String)] = [
            ("made up, unsealed", Base64.encode(madeUp.encode(), .url)),
            ("made up, sealed without the secret", ContextSeal(secret: nil, clusterName: cluster.cluster).token(madeUp)),
            ("made up, sealed by the name of the default cluster", ContextSeal.unconfigured.token(madeUp)),
            ("a real token altered", String(decoding: altered, as: UTF8.self)),
        ]
        for (what, context) in forged {
            for _ in 0..<2 {
                let put = cluster.put(9, "k", "forged", context: context)
                #expect(put.status == 400 && put.body.contains("invalid_context"), "\(what): \(put.status) \(put.body)")
            }
        }
        let after = cluster.get(9, "k")
        #expect(after.status == 200 && NodeClusterTests.value(after) == "v1", "\(after.status) \(after.body)")
        let overwrite = cluster.put(9, "k", "v2", context: token)
        #expect(overwrite.status == 200, "the real token still works: \(overwrite.body)")
        #expect(NodeClusterTests.value(cluster.get(9, "k")) == "v2")
        #expect(cluster.request("GET", 9, "/health").status == 200)
    }
}

/// Client sockets opened by hand (Glibc), from the clients' loopback address, for the tests that
/// need thousands of connections or a client that never reads.
struct RawSocket {
    let fd: Int32

    init(to host: String, port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EMFILE) }
        var local = sockaddr_in()
        local.sin_family = sa_family_t(AF_INET)
        inet_pton(AF_INET, LocalCluster.clientAddress, &local.sin_addr)
        var remote = sockaddr_in()
        remote.sin_family = sa_family_t(AF_INET)
        remote.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, host, &remote.sin_addr)
        let bound = withUnsafePointer(to: &local) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        let connected = withUnsafePointer(to: &remote) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, connected == 0 else {
            Glibc.close(fd)
            throw POSIXError(.ECONNREFUSED)
        }
    }

    func send(_ bytes: [UInt8]) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { return false }
            sent += n
        }
        return true
    }

    func close() { Glibc.close(fd) }
}

extension LocalCluster {
    /// Writes `bytes` to `name` in the cluster's directory with `mode` (0600: a secret); its path.
    func writeFile(_ name: String, _ bytes: [UInt8], mode: mode_t = 0o600) throws -> String {
        let path = directory + "/" + name
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        chmod(path, mode)
        return path
    }

    /// Node `node`'s resident memory in bytes (VmRSS).
    func residentBytes(_ node: Int) -> Int {
        guard let pid = processes[node]?.processIdentifier,
              let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "")
        else { return 0 }
        return kilobytes * 1024
    }
}

/// A real node against many, slow and non-reading clients: its memory stays bounded and other
/// clients are served (docs/api.md, "Connections").
@Suite(.serialized) struct BoundedClientsTests {
    @Test func idleAndSlowConnectionsAndANonReadingClientLeaveMemoryBoundedAndOthersServed() async throws {
        let cluster = try LocalCluster(name: "bounded", internodePort: 7377, httpPort: 7387)
        defer { cluster.stopAll() }
        try cluster.start(9, seed: nil, environment: ["CAIRN_N": "1"])
        let port = cluster.httpPort
        let big = cluster.directory + "/big"
        try Data(repeating: UInt8(ascii: "b"), count: 4 << 20).write(to: URL(fileURLWithPath: big))
        #expect(cluster.request("PUT", 9, "/v1/keys/big", headers: ["Content-Type": "application/octet-stream"], bodyFile: big).status == 200)
        let read = cluster.request("GET", 9, "/v1/keys/big", headers: ["Accept": "application/octet-stream"])
        #expect(read.status == 200 && read.body.utf8.count == 4 << 20)
        let before = cluster.residentBytes(9)

        // 2,000 idle connections.
        var idle: [RawSocket] = []
        defer { for socket in idle { socket.close() } }
        for _ in 0..<2_000 { idle.append(try RawSocket(to: "127.0.0.9", port: port)) }
        // A slowloris client: one header byte at a time.
        let slow = try RawSocket(to: "127.0.0.9", port: port)
        defer { slow.close() }
        _ = slow.send(Array("GET /v1/keys/big HTTP/1.1\r\n".utf8))
        // A client that pipelines GETs of the 4 MiB value and never reads an answer.
        let greedy = try RawSocket(to: "127.0.0.9", port: port)
        defer { greedy.close() }
        let request = Array("GET /v1/keys/big HTTP/1.1\r\nHost: n\r\nAccept: application/octet-stream\r\n\r\n".utf8)
        var pipelined = 0
        for _ in 0..<20 {
            guard greedy.send(Array(Array(repeating: request, count: 50).joined())) else { break }
            pipelined += 50
        }
        for round in 0..<6 {
            _ = slow.send([UInt8(ascii: "H")])
            let health = cluster.request("GET", 9, "/health")
            #expect(health.status == 200, "round \(round): another client is served: \(health.status)")
            #expect(cluster.put(9, "k\(round)", "v").status == 200)
            try await Task.sleep(for: .milliseconds(500))
        }
        let after = cluster.residentBytes(9)
        // Answering the pipelined GETs into memory would take pipelined × 4 MiB.
        let grown = after - before
        print("bounded clients: RSS \(before >> 20) MiB before, \(after >> 20) MiB with 2,000 idle connections, a slow client and \(pipelined) unread GETs of 4 MiB")
        #expect(pipelined >= 50)
        #expect(grown < 200 << 20, "RSS grew by \(grown >> 20) MiB")
        #expect(cluster.request("GET", 9, "/health").status == 200)
    }
}

/// Client authentication on a real node: tokens with roles over HTTP and RESP, the files'
/// permissions, and protected mode.
@Suite(.serialized) struct ClientAuthTests {
    static let dataToken = "data-token-0123456789abcdef"
    static let adminToken = "admin-token-0123456789abcdef"

    /// Runs `cairnd` with `arguments` until it exits (at most 20 s); its status and output.
    static func cairndExit(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: LocalCluster.cairnd)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let deadline = Date().addingTimeInterval(20)
        while process.isRunning, Date() < deadline { usleep(50_000) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
    }

    @Test func tokensGateEveryRequestButHealthAndMembershipNeedsAdmin() throws {
        let cluster = try LocalCluster(name: "auth", internodePort: 7378, httpPort: 7388)
        defer { cluster.stopAll() }
        let authFile = try cluster.writeFile("tokens", Array("# client tokens\ndata \(Self.dataToken)\nadmin \(Self.adminToken)\n".utf8))
        try cluster.start(9, seed: nil, environment: ["CAIRN_N": "1", "CAIRN_AUTH_FILE": authFile, "CAIRN_RESP": "127.0.0.9:7398"])
        let data = ["Authorization": "Bearer \(Self.dataToken)"]
        let admin = ["Authorization": "Bearer \(Self.adminToken)"]

        #expect(cluster.request("GET", 9, "/health").status == 200, "health needs no token")
        let anonymous = cluster.put(9, "k", "v")
        #expect(anonymous.status == 401 && anonymous.body.contains("unauthorized"), "\(anonymous.status) \(anonymous.body)")
        #expect(anonymous.headers["www-authenticate"]?.hasPrefix("Bearer") == true)
        #expect(cluster.request("GET", 9, "/v1/keys/k", headers: ["Authorization": "Bearer not-a-token-of-this-node"]).status == 401)
        #expect(cluster.request("GET", 9, "/metrics").status == 401)
        let put = cluster.request("PUT", 9, "/v1/keys/k", body: "v", headers: data.merging(["Content-Type": "application/octet-stream"]) { $1 })
        #expect(put.status == 200, "\(put.body)")
        #expect(NodeClusterTests.value(cluster.request("GET", 9, "/v1/keys/k", headers: data)) == "v")

        let remove = #"{"node": "00000000000000000000000000000042"}"#
        let json = ["Content-Type": "application/json"]
        #expect(cluster.request("POST", 9, "/v1/cluster/remove", body: remove, headers: json).status == 401)
        let asData = cluster.request("POST", 9, "/v1/cluster/remove", body: remove, headers: json.merging(data) { $1 })
        #expect(asData.status == 403 && asData.body.contains("forbidden"), "\(asData.status) \(asData.body)")
        let asAdmin = cluster.request("POST", 9, "/v1/cluster/remove", body: remove, headers: json.merging(admin) { $1 })
        #expect(asAdmin.status == 404, "an admin token passes; the node is unknown: \(asAdmin.status) \(asAdmin.body)")

        // RESP: NOAUTH until AUTH, as Redis with a password.
        if (try? RESPNodeTests.redisCLI(9, ["--version"]))?.status == 0 {
            let cli = { (arguments: [String]) in
                let output = try RESPNodeTests.redisCLI(9, ["-p", "7398"] + arguments)
                return output.stdout + output.stderr
            }
            #expect(try cli(["GET", "k"]).contains("NOAUTH"))
            #expect(try cli(["--no-auth-warning", "-a", "wrong-token-0123456789", "GET", "k"]).contains("WRONGPASS"))
            #expect(try cli(["--no-auth-warning", "-a", Self.dataToken, "GET", "k"]).trimmingCharacters(in: .whitespacesAndNewlines) == "v")
        }
    }

    @Test func secretsReadableByOthersAndUnauthenticatedPortsBeyondLoopbackAreRefused() throws {
        let cluster = try LocalCluster(name: "protected", internodePort: 7379, httpPort: 7389)
        defer { cluster.stopAll() }
        let authFile = try cluster.writeFile("tokens", Array("data \(Self.dataToken)\n".utf8), mode: 0o644)
        let base = ["--data", cluster.directory + "/node9", "--listen", "127.0.0.9:7379", "--n", "1"]
        let readable = try Self.cairndExit(base + ["--http", "127.0.0.9:7389", "--auth-file", authFile])
        #expect(readable.status != 0 && readable.output.contains("chmod 600"), "\(readable.output)")
        // Never bound: the check runs before any listener starts.
        let exposed = try Self.cairndExit(base + ["--http", "0.0.0.0:7389"])
        #expect(exposed.status != 0 && exposed.output.contains("beyond loopback"), "\(exposed.output)")
        let exposedPeers = try Self.cairndExit(["--data", cluster.directory + "/node9", "--listen", "0.0.0.0:7379", "--http", "127.0.0.9:7389"])
        #expect(exposedPeers.status != 0 && exposedPeers.output.contains("without a cluster secret"), "\(exposedPeers.output)")
        // A node key other users may read is refused as the secret is; so is a bound out of range.
        let certificates = try TestCertificates("protected")
        defer { certificates.remove() }
        let certs = try certificates.node("node9", hosts: ["127.0.0.9"])
        chmod(certs + "/node.key", 0o644)
        let readableKey = try Self.cairndExit(base + ["--http", "127.0.0.9:7389", "--certs-dir", certs])
        #expect(readableKey.status != 0 && readableKey.output.contains("chmod 600"), "\(readableKey.output)")
        let badLimit = try Self.cairndExit(base + ["--http", "127.0.0.9:7389", "--http-max-connections", "0"])
        #expect(badLimit.status != 0 && badLimit.output.contains("--http-max-connections must be in"), "\(badLimit.output)")
        for (flag, value, message) in [("--hint-max-age", "0", "--hint-max-age must be in"), ("--hint-max-bytes", "10", "--hint-max-bytes must be"),
                                       ("--handoff-throttle", "1", "--handoff-throttle must be in"), ("--log-format", "xml", "--log-format must be")] {
            let refused = try Self.cairndExit(base + ["--http", "127.0.0.9:7389", flag, value])
            #expect(refused.status != 0 && refused.output.contains(message), "\(flag) \(value): \(refused.output)")
        }
        // An identity without a signing key (made before nodes had keys) cannot prove its
        // membership entries: refused, with the way out.
        let legacy = cluster.directory + "/legacy"
        try FileManager.default.createDirectory(atPath: legacy, withIntermediateDirectories: true)
        try Data("0123456789abcdef0123456789abcdef\n".utf8).write(to: URL(fileURLWithPath: legacy + "/node.id"))
        let unproven = try Self.cairndExit(["--data", legacy, "--listen", "127.0.0.9:7379", "--http", "127.0.0.9:7389", "--n", "1"])
        #expect(unproven.status != 0 && unproven.output.contains("before nodes had signing keys"), "\(unproven.output)")
    }
}

/// A real node against processes that speak the internode protocol: without the secret they
/// are refused at the handshake; with it but not members, the data path refuses them; forged
/// integers are refused; a joined process's forged tombstones for the node are refused (not
/// signed by the node, nor by an owner); and the node keeps serving.
@Suite(.serialized) struct HostilePeerTests {
    @Test func peersWithoutTheSecretOrMembershipGetNothingAndForgedIntegersHarmNothing() async throws {
        let cluster = try LocalCluster(name: "peers", internodePort: 7375, httpPort: 7385)
        defer { cluster.stopAll() }
        let secretBytes = Array("the secret of the hostile peer test".utf8)
        let secretFile = try cluster.writeFile("secret", secretBytes)
        try cluster.start(9, seed: nil, environment: ["CAIRN_N": "1", "CAIRN_SECRET_FILE": secretFile])
        #expect(cluster.put(9, "k", "v", context: nil).status == 200)
        let status = try #require(cluster.json("GET", 9, "/v1/cluster"))
        let target = try #require((status["node"] as? String).flatMap(NodeID.init(hex:)))
        // The node's identity is derived from its signing key, kept private.
        let keyPath = cluster.directory + "/node9/node-signing.key"
        let keyBytes = try #require(FileManager.default.contents(atPath: keyPath))
        #expect(NodeSigningKey(rawRepresentation: Array(keyBytes))?.nodeID == target)
        #expect((try FileManager.default.attributesOfItem(atPath: keyPath)[.posixPermissions] as? Int) == 0o600)
        let address = cluster.internode(9)
        var logger = Logger(label: "test.hostile-peer")
        logger.logLevel = .critical
        let stranger = NodeID(high: 0xBAD, low: 0xC0DE)
        let read = WireMessage.read(ReadRequest(key: Array("k".utf8), partition: 0))

        // Without the secret: refused at the handshake.
        let noSecret = try WirePool(identity: WireIdentity(clusterName: cluster.cluster, node: stranger), listenAddress: "127.0.0.100:1",
                                    group: MultiThreadedEventLoopGroup.singleton, logger: logger)
        await #expect(throws: TransportError.self) { try await noSecret.request(read, to: address, timeout: .seconds(5)) }
        await noSecret.shutdown()

        // With the secret but not a member: the data path refuses.
        let outsider = try WirePool(
            identity: WireIdentity(clusterName: cluster.cluster, node: stranger, secret: ClusterSecret(secretBytes)),
            listenAddress: "127.0.0.100:1", group: MultiThreadedEventLoopGroup.singleton, logger: logger)
        defer { Task { await outsider.shutdown() } }
        let refused = try await outsider.request(read, to: address, timeout: .seconds(5))
        guard case .nack(let reason) = refused else {
            Issue.record("a non-member's read was answered: \(refused)")
            return
        }
        #expect(reason.contains("not a member"), "\(reason)")

        // Forged integers: gossip naming the node itself at incarnation 2^64-1 and a ring at
        // version 2^64-1, a Paxos prepare at ballot 2^64-1. Each is refused as malformed.
        let envelope = Membership.Envelope(clusterName: cluster.cluster, from: stranger, fromAddress: "127.0.0.100:1")
        let forgedSelf = Membership.Member(id: target, address: address, status: .removed, incarnation: .max)
        let forgedRing = Membership.VersionedRing(version: .max, ring: Ring(members: [stranger], partitionCount: 16, targetReplicas: 1))
        // And a plausible forgery: the node's own entry as removed, one incarnation up, from a
        // connected stranger (who has the secret but is no member).
        let plausible = Membership.Member(id: target, address: address, status: .removed, incarnation: 2)
        for message: WireMessage in [
            .membership(.update(envelope, members: [plausible], ring: nil)),
            .membership(.update(envelope, members: [forgedSelf], ring: nil)),
            .membership(.update(envelope, members: [], ring: forgedRing)),
        ] {
            try? await outsider.send(message, to: address)
        }
        _ = try? await outsider.request(
            .cas(key: Array("k".utf8), .prepare(CAS.Ballot(counter: .max, node: stranger))), to: address, timeout: .seconds(2))
        try await Task.sleep(for: .milliseconds(500))
        #expect(cluster.request("GET", 9, "/health").status == 200, "the node is up")
        let members = (cluster.json("GET", 9, "/v1/cluster")?["members"] as? [[String: Any]]) ?? []
        #expect(members.count == 1 && members.first?["status"] as? String == "valid", "membership unchanged: \(members)")
        #expect(NodeClusterTests.value(cluster.get(9, "k")) == "v")
        #expect(cluster.put(9, "k2", "v2").status == 200)

        // A process with the secret that joins properly (its own signed `joining` entry) is a
        // member, so its gossip about others is read; but a tombstone for node 9 is taken only
        // with node 9's own signature (`left`) or an owner's (`removed`): forgeries are refused.
        let joinerKey = NodeSigningKey()
        let joiner = try WirePool(
            identity: WireIdentity(clusterName: cluster.cluster, node: joinerKey.nodeID, secret: ClusterSecret(secretBytes)),
            listenAddress: "127.0.0.100:1", group: MultiThreadedEventLoopGroup.singleton, logger: logger)
        defer { Task { await joiner.shutdown() } }
        func signed(_ member: Membership.Member) -> Membership.Member {
            var member = member
            member.proof = joinerKey.sign(member.signedMessage(clusterName: cluster.cluster))
            return member
        }
        let joinerEnvelope = Membership.Envelope(clusterName: cluster.cluster, from: joinerKey.nodeID, fromAddress: "127.0.0.100:1")
        let joining = signed(Membership.Member(id: joinerKey.nodeID, address: "127.0.0.100:1", status: .joining, incarnation: 1))
        try await joiner.send(.membership(.update(joinerEnvelope, members: [joining], ring: nil)), to: address)
        var statuses: [String: String] = [:]
        for _ in 0..<50 {
            let listed = (cluster.json("GET", 9, "/v1/cluster")?["members"] as? [[String: Any]]) ?? []
            statuses = Dictionary(listed.compactMap { entry in
                (entry["node"] as? String).flatMap { node in (entry["status"] as? String).map { (node, $0) } }
            }, uniquingKeysWith: { a, _ in a })
            if statuses[joinerKey.nodeID.description] != nil { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(statuses[joinerKey.nodeID.description] == "joining", "the joiner's own signed entry is taken: \(statuses)")
        let forgeries = [
            Membership.Member(id: target, address: address, status: .removed, incarnation: 2),  // unsigned
            signed(Membership.Member(id: target, address: address, status: .removed, incarnation: 2)),  // by a non-owner
            signed(Membership.Member(id: target, address: address, status: .left, incarnation: 3)),  // not node 9's
        ]
        try await joiner.send(.membership(.update(joinerEnvelope, members: forgeries, ring: nil)), to: address)
        var refusedCount = 0.0
        for _ in 0..<50 {
            refusedCount = Self.metric(cluster.request("GET", 9, "/metrics").body, "cairn_membership_refused_total")
            if refusedCount >= 3 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(refusedCount == 3, "each forged tombstone refused and counted")
        let after = (cluster.json("GET", 9, "/v1/cluster")?["members"] as? [[String: Any]]) ?? []
        #expect(after.first { $0["node"] as? String == target.description }?["status"] as? String == "valid", "\(after)")
        #expect(cluster.put(9, "k3", "v3").status == 200, "node 9 still serves")
    }

    /// The value of an unlabelled metric in a Prometheus text page (0 when absent).
    static func metric(_ page: String, _ name: String) -> Double {
        for line in page.split(separator: "\n") where line.hasPrefix(name + " ") {
            return Double(line.split(separator: " ").last ?? "") ?? 0
        }
        return 0
    }
}
