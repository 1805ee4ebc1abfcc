import CairnCore
import NIOCore

/// One unit of the internode stream: a length-prefixed header and an opaque payload.
///
/// ```
///   0        4        5          7                  15
///   +--------+--------+----------+------------------+---------------------------+
///   | length |  kind  |   type   |    request id    | payload (length - 11 B)   |
///   | u32 BE |   u8   |  u16 BE  |      u64 BE      |                           |
///   +--------+--------+----------+------------------+---------------------------+
///   length counts everything after itself: 11 header bytes + the payload.
/// ```
///
/// The length comes first so a reader can refuse an oversized frame from four bytes, before it
/// buffers or allocates anything for the body (`FrameDecoder`). The request id multiplexes many
/// requests over one connection: a response or error frame carries the id of its request.
/// `docs/protocol.md` lists every kind and message type.
public struct Frame: Hashable, Sendable {
    /// What a frame is for; the message type says what its payload holds.
    public enum Kind: UInt8, Hashable, Sendable, CaseIterable {
        /// Expects exactly one `response` or `error` frame with the same request id.
        case request = 1
        /// The answer to the request with the same id.
        case response = 2
        /// No answer expected; request id 0.
        case oneWay = 3
        /// The request with the same id failed at the receiver (payload: `ErrorReply`).
        case error = 4
        /// The opening exchange of a connection (`Handshake`); request id 0.
        case handshake = 5
    }

    /// Bytes after the length field that every frame has: kind, type, request id.
    public static let headerBytesAfterLength = 11
    /// The length field itself.
    public static let lengthFieldBytes = 4

    public var kind: Kind
    public var messageType: UInt16
    public var requestID: UInt64
    public var payload: ByteBuffer

    public init(kind: Kind, messageType: UInt16, requestID: UInt64, payload: ByteBuffer) {
        self.kind = kind
        self.messageType = messageType
        self.requestID = requestID
        self.payload = payload
    }

    /// The value of the length field: header bytes after the length plus the payload.
    public var lengthFieldValue: Int { Frame.headerBytesAfterLength + payload.readableBytes }

    /// Bytes the frame takes on the wire.
    public var wireBytes: Int { Frame.lengthFieldBytes + lengthFieldValue }
}

extension WireMessage {
    /// The frame kind this message travels in: `.request`, `.response` or `.oneWay`.
    public var frameKind: Frame.Kind {
        switch role {
        case .request: .request
        case .response: .response
        case .oneWay: .oneWay
        }
    }
}
