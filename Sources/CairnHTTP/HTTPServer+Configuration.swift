import NIOHTTP1
import NIOSSL

extension HTTPServer {
    /// Where the server listens and the limits it enforces.
    public struct Configuration: Sendable {
        /// The address to bind, an IP address or a host name.
        public var host: String
        /// The port to bind; 0 picks a free one (see `HTTPServer.localAddress`).
        public var port: Int
        /// Key, value, body, TTL and scan limits.
        public var limits: APILimits
        /// A connection that sends nothing for this long while no request is in progress is
        /// closed, so idle and half-sent connections do not hold resources forever.
        public var idleTimeout: Duration
        /// How long a connection refused mid-body (413, 400) drains input after the response
        /// before it is closed outright.
        public var lingerTimeout: Duration
        /// The listen backlog.
        public var backlog: Int32
        /// The most header bytes a request may carry (a maximal `X-Cairn-Context` fits).
        public var maxHeaderBytes: Int
        /// The most data requests (GET, PUT, DELETE, scan, CAS) served at once across all
        /// connections, from when one is handed to the service until its response is written.
        /// One more is answered `503 overloaded` with `Retry-After: 1` at once. `/health`,
        /// `/metrics` and `/v1/cluster…` are not counted. At least 1.
        public var maxInFlight: Int
        /// The most connections open at once; one more is answered `503` with a JSON error and
        /// closed at once, before anything of it is read. At least 1.
        public var maxConnections: Int
        /// How long a request may take from its first byte to the end of its headers (Apache
        /// mod_reqtimeout's `header=20`): a client that sends one byte a minute is answered
        /// `408` and closed.
        public var headerTimeout: Duration
        /// How long a body may take before it must keep `minBodyBytesPerSecond` on average
        /// (mod_reqtimeout's `body=20,MinRate=500`); a slower one is answered `408` and closed.
        public var bodyGracePeriod: Duration
        public var minBodyBytesPerSecond: Int
        /// Request bodies held in memory across all connections, from their first byte until
        /// their response is written: past it a request is answered `503 overloaded` and its
        /// connection closed, so many slow large uploads cannot exhaust memory.
        public var maxBodyBytesInMemory: Int
        /// Bytes queued for a connection's socket past which the server stops reading from it
        /// until they drain: a client that pipelines requests and never reads the answers stops
        /// being served rather than making the server buffer without bound.
        public var maxQueuedResponseBytes: Int
        /// The client tokens every request but `/health` must carry; nil: no authentication.
        public var auth: ClientAuth?
        /// HTTPS with the node's certificate (`CairnTLS.NodeTLS.clients`); nil: plain HTTP.
        public var tls: NIOSSLContext?

        public init(
            host: String = "127.0.0.1",
            port: Int = 8080,
            limits: APILimits = APILimits(),
            idleTimeout: Duration = .seconds(60),
            lingerTimeout: Duration = .seconds(2),
            backlog: Int32 = 256,
            maxHeaderBytes: Int? = nil,
            maxInFlight: Int = Self.defaultMaxInFlight,
            maxConnections: Int = 4096,
            headerTimeout: Duration = .seconds(20),
            bodyGracePeriod: Duration = .seconds(20),
            minBodyBytesPerSecond: Int = 500,
            maxBodyBytesInMemory: Int = 256 << 20,
            maxQueuedResponseBytes: Int = 1 << 20,
            auth: ClientAuth? = nil,
            tls: NIOSSLContext? = nil
        ) {
            precondition(maxConnections >= 1, "maxConnections must be at least 1, got \(maxConnections)")
            self.host = host
            self.port = port
            self.limits = limits
            self.idleTimeout = idleTimeout
            self.lingerTimeout = lingerTimeout
            self.backlog = backlog
            self.maxHeaderBytes = maxHeaderBytes ?? max(80 << 10, limits.maxContextHeaderBytes + (16 << 10))
            self.maxInFlight = maxInFlight
            self.maxConnections = maxConnections
            self.headerTimeout = headerTimeout
            self.bodyGracePeriod = bodyGracePeriod
            self.minBodyBytesPerSecond = minBodyBytesPerSecond
            self.maxBodyBytesInMemory = max(maxBodyBytesInMemory, limits.maxJSONBodyBytes)
            self.maxQueuedResponseBytes = maxQueuedResponseBytes
            self.tls = tls
            self.auth = auth
        }

        /// The default of `maxInFlight`: as many as the internode transport lets one node have
        /// outstanding to a peer.
        public static let defaultMaxInFlight = 1024

        var decoderLimits: NIOHTTPDecoderLimitConfiguration {
            var decoderLimits = NIOHTTPDecoderLimitConfiguration()
            decoderLimits.maxHeaderFieldSize = maxHeaderBytes
            decoderLimits.maxHeaderListSize = maxHeaderBytes
            decoderLimits.maxHeaderFieldCount = 256
            return decoderLimits
        }
    }
}
