import NIOCore
import NIOSSL

/// Mutual TLS between nodes (`CairnTLS.NodeTLS` loads it from a certificates directory): the
/// listener's context requires a client certificate of the cluster CA, the dialler's presents
/// one and checks the listener's against the address it dialled. The handshake with the
/// cluster secret runs inside the TLS connection as it does without TLS.
public struct WireTLS: Sendable {
    public var server: NIOSSLContext
    public var client: NIOSSLContext

    public init(server: NIOSSLContext, client: NIOSSLContext) {
        self.server = server
        self.client = client
    }

    func serverHandler() -> NIOSSLServerHandler {
        NIOSSLServerHandler(context: server)
    }

    /// The dialler's handler for a peer at `host`: a DNS name is sent as SNI and checked
    /// against the certificate; an IP address (which SNI cannot carry) is checked against the
    /// certificate's IP addresses.
    func clientHandler(host: String) throws -> NIOSSLClientHandler {
        try NIOSSLClientHandler(context: client, serverHostname: TLSHost.isIPAddress(host) ? nil : host)
    }
}

/// Whether a host is an IP literal rather than a DNS name.
enum TLSHost {
    static func isIPAddress(_ host: String) -> Bool {
        (try? SocketAddress(ipAddress: host, port: 0)) != nil
    }
}
