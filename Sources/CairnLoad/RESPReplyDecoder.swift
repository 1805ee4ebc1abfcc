import NIOCore

/// Decodes RESP2 replies from a byte stream, one `RESPValue` per complete reply, however the
/// bytes are split.
///
/// A reply is only consumed once it is whole: parsing runs on a copy of the buffer and the
/// copy replaces it on success, so a partial reply waits for more bytes. Everything is
/// bounded, the server being as hostile as any peer: a line (type byte to CRLF) of at most
/// `maxLineBytes`, a bulk string of at most `maxBulkBytes`, an array of at most `maxElements`
/// nested at most `maxDepth` deep.
struct RESPReplyDecoder: ByteToMessageDecoder {
    typealias InboundOut = RESPValue

    /// Why a stream is not RESP2; the connection is closed.
    struct ProtocolError: Error, Hashable, CustomStringConvertible {
        var message: String
        var description: String { "not a RESP2 reply: \(message)" }
    }

    var maxLineBytes = 64 << 10
    var maxBulkBytes = 64 << 20
    var maxElements = 1 << 20
    var maxDepth = 8

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let value = try next(&buffer) else { return .needMoreData }
        context.fireChannelRead(wrapInboundOut(value))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }

    /// The next whole reply, consumed from `buffer`; `nil` (nothing consumed) when the bytes
    /// so far end inside it.
    func next(_ buffer: inout ByteBuffer) throws(ProtocolError) -> RESPValue? {
        var copy = buffer
        guard let value = try parse(&copy, depth: 0) else { return nil }
        buffer = copy
        return value
    }

    private func parse(_ buffer: inout ByteBuffer, depth: Int) throws(ProtocolError) -> RESPValue? {
        guard let type = buffer.readInteger(as: UInt8.self) else { return nil }
        guard let line = try readLine(&buffer) else { return nil }
        switch type {
        case UInt8(ascii: "+"):
            return .simpleString(String(decoding: line, as: UTF8.self))
        case UInt8(ascii: "-"):
            return .error(String(decoding: line, as: UTF8.self))
        case UInt8(ascii: ":"):
            return .integer(try integer(line))
        case UInt8(ascii: "$"):
            let length = try integer(line)
            if length == -1 { return .bulkString(nil) }
            guard length >= 0, length <= maxBulkBytes else { throw ProtocolError(message: "bulk string length \(length)") }
            guard buffer.readableBytes >= Int(length) + 2, let bytes = buffer.readBytes(length: Int(length)) else { return nil }
            guard buffer.readBytes(length: 2) == [13, 10] else { throw ProtocolError(message: "bulk string not followed by CRLF") }
            return .bulkString(bytes)
        case UInt8(ascii: "*"):
            let count = try integer(line)
            if count == -1 { return .array(nil) }
            guard count >= 0, count <= maxElements else { throw ProtocolError(message: "array of \(count) elements") }
            guard depth < maxDepth else { throw ProtocolError(message: "arrays nested deeper than \(maxDepth)") }
            var elements: [RESPValue] = []
            elements.reserveCapacity(Int(Swift.min(count, 1024)))
            for _ in 0..<count {
                guard let element = try parse(&buffer, depth: depth + 1) else { return nil }
                elements.append(element)
            }
            return .array(elements)
        default:
            throw ProtocolError(message: "unknown type byte \(type)")
        }
    }

    /// The bytes up to the next CRLF, which is consumed too; `nil` when it has not arrived.
    private func readLine(_ buffer: inout ByteBuffer) throws(ProtocolError) -> [UInt8]? {
        let view = buffer.readableBytesView
        guard let cr = view.firstIndex(of: 13) else {
            guard view.count <= maxLineBytes else { throw ProtocolError(message: "a line longer than \(maxLineBytes) bytes") }
            return nil
        }
        let length = cr - view.startIndex
        guard length <= maxLineBytes else { throw ProtocolError(message: "a line longer than \(maxLineBytes) bytes") }
        guard view.count > length + 1 else { return nil }
        guard view[cr + 1] == 10 else { throw ProtocolError(message: "CR not followed by LF") }
        let line = buffer.readBytes(length: length) ?? []
        buffer.moveReaderIndex(forwardBy: 2)
        return line
    }

    /// A decimal integer of at most 19 digits, with an optional minus sign.
    private func integer(_ line: [UInt8]) throws(ProtocolError) -> Int64 {
        let digits = line.first == UInt8(ascii: "-") ? line.dropFirst() : line[...]
        guard (1...19).contains(digits.count), digits.allSatisfy({ (48...57).contains($0) }),
            let value = Int64(String(decoding: line, as: UTF8.self))
        else { throw ProtocolError(message: "'\(String(decoding: line.prefix(40), as: UTF8.self))' is not an integer") }
        return value
    }
}
