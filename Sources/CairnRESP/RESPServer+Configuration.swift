import CairnHTTP
import NIOSSL

extension RESPServer {
    /// Where the server listens and the limits it enforces.
    public struct Configuration: Sendable {
        /// The address to bind, an IP address or a host name.
        public var host: String
        /// The port to bind; 0 picks a free one (see `RESPServer.localAddress`).
        public var port: Int
        /// Command, key, value and TTL limits.
        public var limits: RESPLimits
        /// The most connections open at once; one more is answered `-ERR max number of clients
        /// reached` and closed, as Redis does past `maxclients`. Each connection serves one
        /// command at a time, so this also bounds the commands in flight.
        public var maxConnections: Int
        /// A connection that makes no progress for this long (no input, no answer leaving) while
        /// it is in the middle of a command, or while it does not read its answers, is closed,
        /// at most twice this long after it stalled. A connection idle between commands is kept
        /// (as Redis's default `timeout 0`).
        public var stallTimeout: Duration
        /// The listen backlog.
        public var backlog: Int32
        /// The most scan cursors the server remembers (`RESPScanCursors`).
        public var scanCursors: Int
        /// The outbound buffer of a connection at which it stops taking commands until the
        /// client has read some answers (the channel's high-water mark); resumes at half.
        public var outboundHighWaterBytes: Int
        /// The client tokens a connection must prove with `AUTH`; nil: no authentication.
        public var auth: ClientAuth?
        /// TLS with the node's certificate (`CairnTLS.NodeTLS.clients`), as Redis's `tls-port`;
        /// nil: plain TCP.
        public var tls: NIOSSLContext?

        public init(
            host: String = "127.0.0.1",
            port: Int = 6379,
            limits: RESPLimits = RESPLimits(),
            maxConnections: Int = 1024,
            stallTimeout: Duration = .seconds(60),
            backlog: Int32 = 256,
            scanCursors: Int = 4096,
            outboundHighWaterBytes: Int = 256 << 10,
            auth: ClientAuth? = nil,
            tls: NIOSSLContext? = nil
        ) {
            precondition(maxConnections >= 1, "maxConnections must be at least 1, got \(maxConnections)")
            precondition(outboundHighWaterBytes >= 2, "outboundHighWaterBytes must be at least 2")
            self.host = host
            self.port = port
            self.limits = limits
            self.maxConnections = maxConnections
            self.stallTimeout = stallTimeout
            self.backlog = backlog
            self.scanCursors = scanCursors
            self.outboundHighWaterBytes = outboundHighWaterBytes
            self.auth = auth
            self.tls = tls
        }
    }
}
