import CairnCore
import CairnHTTPTestSupport
import CairnTLS
@testable import CairnTransport
import CairnWire
import Foundation
import Logging
import NIOCore
import NIOPosix
import Testing

@Suite("Mutual TLS between nodes over loopback sockets")
struct TLSTransportTests {
    let a = WireSamples.a
    let b = WireSamples.b

    @Test("nodes with certificates of one CA talk; a stranger's CA, no certificate, or no TLS are refused")
    func mutualTLS() async throws {
        let cluster = try TestCertificates("mutual")
        let other = try TestCertificates("mutual-other")
        defer { cluster.remove(); other.remove() }
        let serverTLS = try NodeTLS.load(certsDirectory: cluster.node("b", hosts: ["127.0.0.2"])).internode
        let goodTLS = try NodeTLS.load(certsDirectory: cluster.node("a", hosts: ["127.0.0.1"])).internode
        // The stranger trusts the cluster's CA but presents a certificate of its own CA.
        let strangerTLS = try TestCertificates.impostor(
            presenting: other.node("c", hosts: ["127.0.0.3"]), trusting: cluster.caCertificate)
        let log = LogRecorder()
        try await withGroup { group in
            let server = try await TestNode.start(host: "127.0.0.2", node: b, tls: serverTLS, group: group, logger: log.logger)
            let good = try await TestNode.start(host: "127.0.0.1", node: a, tls: goodTLS, group: group, logger: log.logger)
            let stranger = try await TestNode.start(
                host: "127.0.0.3", node: WireSamples.c, tls: strangerTLS, group: group, logger: log.logger)
            let plain = try await TestNode.start(host: "127.0.0.4", node: NodeID(high: 4, low: 4), group: group, logger: log.logger)
            let address = server.server.listenAddress
            let read = WireMessage.read(ReadRequest(key: [7], partition: 0))
            #expect(readValue(try await good.pool.request(read, to: address)) == [7])
            #expect(await (try good.pool.peer(address)).connectedPeer()?.node == b)

            let strangerError = await transportError { _ = try await stranger.pool.request(read, to: address, timeout: .seconds(2)) }
            #expect(strangerError != nil)
            let plainError = await transportError { _ = try await plain.pool.request(read, to: address, timeout: .seconds(2)) }
            #expect(plainError != nil)
            // The other way round: a TLS node dialling a plain listener gets no answer either.
            let reverseError = await transportError {
                _ = try await good.pool.request(read, to: plain.server.listenAddress, timeout: .seconds(2))
            }
            #expect(reverseError != nil)
            // Only the member's request reached the server's handler.
            #expect(server.handler.peers.withLockedValue { $0.count } == 1)
            for node in [good, stranger, plain, server] { await node.shutdown() }
        }
    }

    @Test("the dialler checks the listener's certificate against the address it dialled")
    func dialledAddressIsChecked() async throws {
        let cluster = try TestCertificates("names")
        defer { cluster.remove() }
        // B listens on 127.0.0.2 with a certificate for 127.0.0.9 only.
        let misnamed = try NodeTLS.load(certsDirectory: cluster.node("b", hosts: ["127.0.0.9"])).internode
        let dialler = try NodeTLS.load(certsDirectory: cluster.node("a", hosts: ["127.0.0.1"])).internode
        let log = LogRecorder()
        try await withGroup { group in
            let server = try await TestNode.start(host: "127.0.0.2", node: b, tls: misnamed, group: group, logger: log.logger)
            let client = try await TestNode.start(host: "127.0.0.1", node: a, tls: dialler, group: group, logger: log.logger)
            let error = await transportError {
                _ = try await client.pool.request(.read(ReadRequest(key: [1], partition: 0)), to: server.server.listenAddress, timeout: .seconds(2))
            }
            #expect(error != nil)
            #expect(server.handler.peers.withLockedValue { $0.isEmpty })
            await client.shutdown()
            await server.shutdown()
        }
    }

    @Test("a certificates directory is checked when loaded: the key, the CA's signature, the dates")
    func loadingChecksTheDirectory() throws {
        let cluster = try TestCertificates("load")
        let other = try TestCertificates("load-other")
        defer { cluster.remove(); other.remove() }
        let good = try cluster.node("good", hosts: ["127.0.0.1", "node1.example"])
        #expect(throws: Never.self) { try NodeTLS.load(certsDirectory: good) }

        // Another node's key beside this node's certificate.
        let mismatched = try cluster.node("mismatched", hosts: ["127.0.0.2"])
        let another = try cluster.node("another", hosts: ["127.0.0.3"])
        try FileManager.default.removeItem(atPath: mismatched + "/node.key")
        try FileManager.default.copyItem(atPath: another + "/node.key", toPath: mismatched + "/node.key")
        #expect(loadError(mismatched)?.contains("is not the key of the certificate") == true)

        // A certificate signed by another CA than the directory's ca.crt.
        let foreign = try other.node("foreign", hosts: ["127.0.0.4"])
        try FileManager.default.removeItem(atPath: foreign + "/ca.crt")
        try FileManager.default.copyItem(atPath: cluster.caCertificate, toPath: foreign + "/ca.crt")
        #expect(loadError(foreign)?.contains("is not signed by the CA") == true)

        // A certificate that expired.
        let expired = try cluster.node("expired", hosts: ["127.0.0.5"], validDays: 1, now: Date().addingTimeInterval(-3 * 86_400))
        #expect(loadError(expired)?.contains("not now") == true)

        // A file that is no certificate, and a host that is no name.
        try Data("hello".utf8).write(to: URL(fileURLWithPath: good + "/node.crt"))
        #expect(loadError(good)?.contains("is not a PEM certificate") == true)
        #expect(throws: TLSSetupError.self) {
            try CertificateAuthority.createNode(certsDirectory: good, caKeyPath: cluster.caKey, hosts: ["bad host!"], overwrite: true)
        }
        // A second CA over the first is refused unless asked for.
        #expect(throws: TLSSetupError.self) {
            try CertificateAuthority.createCA(certsDirectory: cluster.directory + "/ca", caKeyPath: cluster.caKey)
        }
    }

    private func loadError(_ directory: String) -> String? {
        do {
            _ = try NodeTLS.load(certsDirectory: directory)
            return nil
        } catch {
            return error.description
        }
    }
}
