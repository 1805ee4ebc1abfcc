import NIOCore

/// Splits the byte stream into `Frame`s, refusing an oversized frame from its header alone.
///
/// The length field is checked against `maxFrameBytes` as soon as its four bytes have
/// arrived: a peer that announces a frame above the limit gets a `WireError` (`.tooLarge`)
/// before one byte of its body is buffered, so a hostile length cannot make the node allocate.
/// The error travels up the pipeline (`errorCaught`); the connection handlers close the
/// connection on it, because after a bad header the stream cannot be resynchronised.
/// A length below the fixed header and an unknown frame kind are refused the same way.
public struct FrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = Frame

    public let maxFrameBytes: Int

    public init(maxFrameBytes: Int = WireLimits.defaultMaxFrameBytes) {
        precondition(maxFrameBytes >= Frame.headerBytesAfterLength, "frame limit \(maxFrameBytes) below the header")
        self.maxFrameBytes = maxFrameBytes
    }

    /// The `maximumBufferSize` to give `ByteToMessageHandler`: one whole frame. A second line of
    /// defence; the header check refuses oversized frames long before.
    public var maximumBufferSize: Int { Frame.lengthFieldBytes + maxFrameBytes }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try Self.decodeFrame(from: &buffer, maxFrameBytes: maxFrameBytes) else { return .needMoreData }
        context.fireChannelRead(wrapInboundOut(frame))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }

    /// Reads one frame if the buffer holds a whole one; `nil` (and nothing consumed) when more
    /// bytes are needed. Throws as soon as the header shows the frame is unacceptable.
    public static func decodeFrame(from buffer: inout ByteBuffer, maxFrameBytes: Int) throws(WireError) -> Frame? {
        let start = buffer.readerIndex
        guard let length = buffer.getInteger(at: start, as: UInt32.self) else { return nil }
        guard length <= maxFrameBytes else {
            throw WireError(.tooLarge, "frame length \(length)", offset: start, limit: maxFrameBytes)
        }
        guard length >= Frame.headerBytesAfterLength else {
            throw WireError(.malformed, "frame length \(length) below the \(Frame.headerBytesAfterLength)-byte header", offset: start)
        }
        if buffer.readableBytes >= Frame.lengthFieldBytes + 1,
           let kindByte = buffer.getInteger(at: start + Frame.lengthFieldBytes, as: UInt8.self),
           Frame.Kind(rawValue: kindByte) == nil {
            throw WireError(.unknownFrameKind, "frame kind \(kindByte)", offset: start + Frame.lengthFieldBytes)
        }
        guard buffer.readableBytes >= Frame.lengthFieldBytes + Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: Frame.lengthFieldBytes)
        let kind = Frame.Kind(rawValue: buffer.readInteger(as: UInt8.self)!)!
        let type = buffer.readInteger(as: UInt16.self)!
        let requestID = buffer.readInteger(as: UInt64.self)!
        let payload = buffer.readSlice(length: Int(length) - Frame.headerBytesAfterLength)!
        return Frame(kind: kind, messageType: type, requestID: requestID, payload: payload)
    }
}

/// Writes `Frame`s as the header followed by the payload.
///
/// A frame above `maxFrameBytes` fails its write with `WireError.tooLarge` instead of being
/// sent: the peer would refuse it and close the connection, failing every other request on it.
/// Senders check sizes before they get here (`WirePeer`), so this is the last guard.
public struct FrameEncoder: MessageToByteEncoder {
    public typealias OutboundIn = Frame

    public let maxFrameBytes: Int

    public init(maxFrameBytes: Int = WireLimits.defaultMaxFrameBytes) {
        self.maxFrameBytes = maxFrameBytes
    }

    public func encode(data frame: Frame, out: inout ByteBuffer) throws {
        try Self.encode(frame, into: &out, maxFrameBytes: maxFrameBytes)
    }

    public static func encode(_ frame: Frame, into out: inout ByteBuffer, maxFrameBytes: Int) throws(WireError) {
        let length = frame.lengthFieldValue
        guard length <= maxFrameBytes else {
            throw WireError(.tooLarge, "frame length \(length) (message type \(frame.messageType))", limit: maxFrameBytes)
        }
        out.reserveCapacity(minimumWritableBytes: Frame.lengthFieldBytes + length)
        out.writeInteger(UInt32(length))
        out.writeInteger(frame.kind.rawValue)
        out.writeInteger(frame.messageType)
        out.writeInteger(frame.requestID)
        var payload = frame.payload
        out.writeBuffer(&payload)
    }
}
