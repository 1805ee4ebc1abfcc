import NIOCore

extension RESPValue {
    /// Writes the value as `version` encodes it.
    ///
    /// A simple string or an error message never holds CR or LF on the wire: each is written as
    /// a space, so a message cannot break the framing (messages come from Cairn, never from
    /// stored data, but a key named in one could hold any byte).
    public func encode(into buffer: inout ByteBuffer, version: RESPVersion) {
        switch self {
        case .simpleString(let text):
            buffer.writeInteger(UInt8(ascii: "+"))
            Self.writeLine(text, into: &buffer)
        case .error(let error):
            buffer.writeInteger(UInt8(ascii: "-"))
            Self.writeLine(error.code.rawValue + " " + error.message, into: &buffer)
        case .integer(let value):
            buffer.writeInteger(UInt8(ascii: ":"))
            buffer.writeString(String(value))
            buffer.writeStaticString("\r\n")
        case .bulk(let bytes):
            buffer.writeInteger(UInt8(ascii: "$"))
            buffer.writeString(String(bytes.count))
            buffer.writeStaticString("\r\n")
            buffer.writeBytes(bytes)
            buffer.writeStaticString("\r\n")
        case .null:
            switch version {
            case .resp2: buffer.writeStaticString("$-1\r\n")
            case .resp3: buffer.writeStaticString("_\r\n")
            }
        case .array(let elements):
            buffer.writeInteger(UInt8(ascii: "*"))
            buffer.writeString(String(elements.count))
            buffer.writeStaticString("\r\n")
            for element in elements { element.encode(into: &buffer, version: version) }
        case .map(let pairs):
            switch version {
            case .resp2:
                buffer.writeInteger(UInt8(ascii: "*"))
                buffer.writeString(String(pairs.count * 2))
            case .resp3:
                buffer.writeInteger(UInt8(ascii: "%"))
                buffer.writeString(String(pairs.count))
            }
            buffer.writeStaticString("\r\n")
            for (key, value) in pairs {
                key.encode(into: &buffer, version: version)
                value.encode(into: &buffer, version: version)
            }
        }
    }

    /// The bytes `encode(into:version:)` writes (for tests and sizing).
    public func encoded(version: RESPVersion = .resp2) -> [UInt8] {
        var buffer = ByteBufferAllocator().buffer(capacity: 64)
        encode(into: &buffer, version: version)
        return Array(buffer.readableBytesView)
    }

    private static func writeLine(_ text: String, into buffer: inout ByteBuffer) {
        if text.utf8.contains(where: { $0 == 13 || $0 == 10 }) {
            buffer.writeBytes(text.utf8.map { $0 == 13 || $0 == 10 ? UInt8(ascii: " ") : $0 })
        } else {
            buffer.writeString(text)
        }
        buffer.writeStaticString("\r\n")
    }
}
