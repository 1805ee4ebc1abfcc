import CairnCore
import CairnWire

/// Limits and timings of the internode transport. Every queue has a bound; every wait has a
/// timeout.
public struct WireSettings: Sendable {
    /// Frame and message limits (both directions).
    public var limits: WireLimits
    /// How long a TCP connect may take.
    public var connectTimeout: Duration
    /// How long the handshake may take once connected.
    public var handshakeTimeout: Duration
    /// The timeout of a request that names none.
    public var defaultRequestTimeout: Duration
    /// The retry delay after the first failed connection attempt; it doubles per failure.
    public var reconnectDelayInitial: Duration
    /// The largest retry delay.
    public var reconnectDelayMax: Duration
    /// Requests awaiting an answer plus one-way messages not yet written, per peer. Past it, a
    /// new request fails at once with `.overloaded`.
    public var maxOutstandingRequests: Int
    /// Bytes queued to a peer and not yet written to its socket. Past it, `.overloaded`.
    public var maxQueuedBytes: Int
    /// Requests a server connection runs at once. At the bound it stops reading from the socket
    /// (TCP pushes back on the sender); a request beyond it is answered `overloaded`.
    public var maxConcurrentRequestsPerConnection: Int
    /// The channel's write buffer bounds: above `high` it is unwritable and the peer queues
    /// (bounded) instead of writing; below `low` writing resumes.
    public var writeBufferLowWaterMark: Int
    public var writeBufferHighWaterMark: Int

    public init(
        limits: WireLimits = WireLimits(),
        connectTimeout: Duration = .seconds(2),
        handshakeTimeout: Duration = .seconds(5),
        defaultRequestTimeout: Duration = .seconds(5),
        reconnectDelayInitial: Duration = .milliseconds(50),
        reconnectDelayMax: Duration = .seconds(5),
        maxOutstandingRequests: Int = 1024,
        maxQueuedBytes: Int = 2 * (Frame.lengthFieldBytes + WireLimits.defaultMaxFrameBytes),
        maxConcurrentRequestsPerConnection: Int = 256,
        writeBufferLowWaterMark: Int = 256 << 10,
        writeBufferHighWaterMark: Int = 1 << 20
    ) {
        precondition(maxOutstandingRequests >= 1 && maxConcurrentRequestsPerConnection >= 1,
                     "request bounds must be positive: \(maxOutstandingRequests), \(maxConcurrentRequestsPerConnection)")
        precondition(maxQueuedBytes >= Frame.lengthFieldBytes + limits.maxFrameBytes,
                     "queued-byte bound \(maxQueuedBytes) must hold one largest frame (\(limits.maxFrameBytes))")
        precondition(writeBufferLowWaterMark >= 1 && writeBufferLowWaterMark <= writeBufferHighWaterMark,
                     "write buffer water marks \(writeBufferLowWaterMark)...\(writeBufferHighWaterMark)")
        self.limits = limits
        self.connectTimeout = connectTimeout
        self.handshakeTimeout = handshakeTimeout
        self.defaultRequestTimeout = defaultRequestTimeout
        self.reconnectDelayInitial = reconnectDelayInitial
        self.reconnectDelayMax = reconnectDelayMax
        self.maxOutstandingRequests = maxOutstandingRequests
        self.maxQueuedBytes = maxQueuedBytes
        self.maxConcurrentRequestsPerConnection = maxConcurrentRequestsPerConnection
        self.writeBufferLowWaterMark = writeBufferLowWaterMark
        self.writeBufferHighWaterMark = writeBufferHighWaterMark
    }
}
