/// The error of the wire layer: a frame or a message that does not decode, or one that would
/// break a limit.
///
/// Operating errors, never traps (STYLE.md, "Errors and limits"): every byte string a peer
/// sends decodes to a value or to one of these, carrying where decoding stopped and which
/// limit was exceeded.
public struct WireError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Code: String, Hashable, Sendable {
        /// The input ends before the frame or message does.
        case truncated
        /// The bytes break the format: a bad flag or tag, unsorted or repeated entries, invalid
        /// UTF-8, an impossible value.
        case malformed
        /// A frame, count or length is larger than the configured limit allows.
        case tooLarge
        /// The frame kind byte is not one this build knows.
        case unknownFrameKind
        /// The message type is not one this build knows (or not valid for the frame kind).
        case unknownMessageType
        /// Bytes left over after the message ended.
        case trailingBytes
        /// An embedded object or context failed CairnCore's strict decoding.
        case badObject
    }

    public var code: Code
    public var message: String
    /// Offset in the payload (or stream) where decoding stopped, when decoding.
    public var offset: Int?
    /// The limit that was exceeded, when one was.
    public var limit: Int?

    public init(_ code: Code, _ message: String, offset: Int? = nil, limit: Int? = nil) {
        self.code = code
        self.message = message
        self.offset = offset
        self.limit = limit
    }

    public var description: String {
        var text = "\(code.rawValue): \(message)"
        if let offset { text += " @\(offset)" }
        if let limit { text += " (limit \(limit))" }
        return text
    }
}
