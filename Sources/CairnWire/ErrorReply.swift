import NIOCore

/// The payload of an `error` frame: why the receiver did not answer a request.
///
/// ```
///   u16 code | u16 length | message (UTF-8)
/// ```
///
/// Codes are open-ended (`Code` wraps the raw number) so a node can relay a code that a newer
/// peer sent without refusing the frame.
public struct ErrorReply: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public var rawValue: UInt16
        public init(rawValue: UInt16) { self.rawValue = rawValue }

        /// The request frame held a payload that does not decode (`WireError`).
        public static let badRequest = Code(rawValue: 1)
        /// The message type is known but this node does not serve it (or it is not a request).
        public static let unsupported = Code(rawValue: 2)
        /// The receiver has too many requests in progress on this connection; retry later.
        public static let overloaded = Code(rawValue: 3)
        /// The request handler threw.
        public static let handlerFailed = Code(rawValue: 4)
        /// The answer would exceed the frame limit.
        public static let tooLarge = Code(rawValue: 5)
        /// The receiver is shutting down.
        public static let shuttingDown = Code(rawValue: 6)

        public var description: String {
            switch self {
            case .badRequest: "badRequest"
            case .unsupported: "unsupported"
            case .overloaded: "overloaded"
            case .handlerFailed: "handlerFailed"
            case .tooLarge: "tooLarge"
            case .shuttingDown: "shuttingDown"
            default: "code \(rawValue)"
            }
        }
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = WireText.clipped(message)
    }

    public var description: String { "\(code): \(message)" }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(code.rawValue)
        buffer.writeWireText(message)
    }

    /// The error frame answering request `requestID`.
    public func frame(requestID: UInt64, allocator: ByteBufferAllocator = ByteBufferAllocator()) -> Frame {
        var payload = allocator.buffer(capacity: 4 + message.utf8.count)
        encode(into: &payload)
        return Frame(kind: .error, messageType: 0, requestID: requestID, payload: payload)
    }

    public init(decoding payload: ByteBuffer, limits: WireLimits = WireLimits()) throws(WireError) {
        var reader = WireReader(payload, limits: limits)
        let code = Code(rawValue: try reader.u16("error code"))
        let message = try reader.string("error message")
        try reader.finish()
        self.init(code, message)
    }
}
