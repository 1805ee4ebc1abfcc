import NIOHTTP1

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

        public init(
            host: String = "127.0.0.1",
            port: Int = 8080,
            limits: APILimits = APILimits(),
            idleTimeout: Duration = .seconds(60),
            lingerTimeout: Duration = .seconds(2),
            backlog: Int32 = 256,
            maxHeaderBytes: Int? = nil,
            maxInFlight: Int = Self.defaultMaxInFlight
        ) {
            self.host = host
            self.port = port
            self.limits = limits
            self.idleTimeout = idleTimeout
            self.lingerTimeout = lingerTimeout
            self.backlog = backlog
            self.maxHeaderBytes = maxHeaderBytes ?? max(80 << 10, limits.maxContextHeaderBytes + (16 << 10))
            self.maxInFlight = maxInFlight
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
