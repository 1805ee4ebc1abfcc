import NIOCore

/// `host:port` text, as membership gossips addresses: `127.0.0.2:7000`, `[::1]:7000`.
public struct WireAddress: Hashable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port` (IPv6 hosts in brackets); `nil` for anything else.
    public init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
              (0...65535).contains(port)
        else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        self.init(host: host, port: port)
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// The socket address (resolving a host name, which blocks: call it off the event loop).
    func socketAddress(peer: String) throws(TransportError) -> SocketAddress {
        do {
            return try SocketAddress.makeAddressResolvingHost(host, port: port)
        } catch {
            throw TransportError(.badAddress, peer: peer, "cannot resolve \(self): \(error)")
        }
    }
}

extension SocketAddress {
    /// `host:port` of an IP socket address.
    var wireDescription: String {
        WireAddress(host: ipAddress ?? "?", port: port ?? 0).description
    }
}
