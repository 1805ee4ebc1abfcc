import CairnClient
import CairnHTTP
import CairnHTTPTestSupport
import CairnTLS
import NIOCore
import NIOPosix
import Testing

/// HTTPS on the client port: `HTTPServer` with a node certificate, `CairnClient` with the CA.
@Suite struct HTTPSTests {
    /// Runs `body` against an HTTPS server on 127.0.0.1 whose certificate names `hosts`.
    private func withHTTPSNode(
        _ name: String, hosts: [String] = ["127.0.0.1"], maxConnections: Int = 4096,
        _ body: @escaping @Sendable (TestCertificates, Int) async throws -> Void
    ) async throws {
        let certificates = try TestCertificates("https-\(name)")
        defer { certificates.remove() }
        let tls = try NodeTLS.load(certsDirectory: certificates.node("node", hosts: hosts))
        let server = HTTPServer(
            service: InMemoryKeyValueService(),
            configuration: HTTPServer.Configuration(
                host: "127.0.0.1", port: 0, limits: testLimits, maxConnections: maxConnections, tls: tls.clients))
        let address = try await server.start()
        do {
            try await withTimeout(seconds: 20) { try await body(certificates, address.port!) }
        } catch {
            await server.stop(gracePeriod: .milliseconds(100))
            throw error
        }
        await server.stop(gracePeriod: .milliseconds(100))
    }

    @Test func aClientWithTheCAReadsAndWrites() async throws {
        try await withHTTPSNode("roundtrip") { certificates, port in
            let client = try CairnClient(
                node: "127.0.0.1:\(port)", timeout: .seconds(5), tls: try ClientTLS.context(trusting: certificates.caCertificate))
            defer { client.close() }
            try await client.put(key: "k".bytes, value: "over tls".bytes)
            #expect(try await client.get(key: "k".bytes).value == "over tls".bytes)
            // The connection is kept and reused across requests, TLS session included.
            #expect(try await client.get(key: "k".bytes).value == "over tls".bytes)
        }
    }

    @Test func plainHTTPToTheHTTPSPortIsToldWhy() async throws {
        try await withHTTPSNode("plain") { _, port in
            let client = try CairnClient(node: "127.0.0.1:\(port)", timeout: .seconds(5))
            defer { client.close() }
            do {
                _ = try await client.get(key: "k".bytes)
                Issue.record("a plain request to an HTTPS port was served")
            } catch CairnClientError.http(let status, let code, let message) {
                #expect(status == 400)
                #expect(code == "tls_required")
                #expect(message.contains("https://"))
            }
        }
    }

    @Test func aServerCertificateOfAnotherCAOrAnotherAddressIsRefused() async throws {
        let stranger = try TestCertificates("https-stranger")
        defer { stranger.remove() }
        try await withHTTPSNode("refused") { _, port in
            let client = try CairnClient(
                node: "127.0.0.1:\(port)", timeout: .seconds(5), tls: try ClientTLS.context(trusting: stranger.caCertificate))
            defer { client.close() }
            await #expect { _ = try await client.get(key: "k".bytes) } throws: { error in
                guard case CairnClientError.unreachable(_, let reason) = error else { return false }
                return reason.contains("TLS handshake failed") && reason.contains("CERTIFICATE_VERIFY_FAILED")
            }
        }
        // The right CA, but a certificate for 127.0.0.9 served on 127.0.0.1.
        try await withHTTPSNode("misnamed", hosts: ["127.0.0.9"]) { certificates, port in
            let client = try CairnClient(
                node: "127.0.0.1:\(port)", timeout: .seconds(5), tls: try ClientTLS.context(trusting: certificates.caCertificate))
            defer { client.close() }
            await #expect { _ = try await client.get(key: "k".bytes) } throws: { error in
                guard case CairnClientError.unreachable(_, let reason) = error else { return false }
                return reason.contains("TLS handshake failed")
            }
        }
    }

    @Test func aConnectionPastTheLimitIsRefusedInsideTLS() async throws {
        try await withHTTPSNode("limit", maxConnections: 1) { certificates, port in
            let tls = try ClientTLS.context(trusting: certificates.caCertificate)
            let first = try CairnClient(node: "127.0.0.1:\(port)", timeout: .seconds(5), tls: tls)
            defer { first.close() }
            try await first.put(key: "k".bytes, value: "v".bytes)  // holds the one connection, kept alive
            let second = try CairnClient(node: "127.0.0.1:\(port)", timeout: .seconds(5), tls: tls)
            defer { second.close() }
            await #expect { _ = try await second.get(key: "k".bytes) } throws: { error in
                guard case CairnClientError.http(let status, let code, _) = error else { return false }
                return status == 503 && code == "overloaded"
            }
            #expect(try await first.get(key: "k".bytes).value == "v".bytes)
        }
    }
}
