import NIOCore

/// A node's address as the CLI and the configuration write it: `host:port`, with an IPv6
/// host in brackets (`[::1]:7080`).
public struct NodeAddress: Hashable, Sendable, CustomStringConvertible {
    /// The host name or IP address, without brackets.
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port`; `nil` when the text is not one (no port, a port outside 1…65535,
    /// an empty host, an IPv6 address without brackets).
    public init?(parsing text: String) {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { return nil }
            portText = rest.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            guard !host.contains(":") else { return nil }
        }
        guard !host.isEmpty, !host.contains(where: { $0 == " " || $0 == "/" }),
            (1...5).contains(portText.count), portText.allSatisfy({ ("0"..."9").contains($0) }), let port = Int(portText),
            (1...65535).contains(port)
        else { return nil }
        self.init(host: String(host), port: port)
    }

    /// Whether the host is an IP address (v4 or v6) rather than a DNS name.
    public var isIPAddress: Bool {
        (try? SocketAddress(ipAddress: host, port: port)) != nil
    }

    /// `host:port`, with brackets around an IPv6 host.
    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}
