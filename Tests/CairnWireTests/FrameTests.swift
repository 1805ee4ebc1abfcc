import CairnCore
import CairnWire
import NIOCore
import NIOEmbedded
import NIOTestUtils
import Testing

@Suite("Frames")
struct FrameTests {
    static func bytes(of frame: Frame, max: Int = WireLimits.defaultMaxFrameBytes) throws -> ByteBuffer {
        var out = ByteBuffer()
        try FrameEncoder.encode(frame, into: &out, maxFrameBytes: max)
        return out
    }

    static func frame(_ kind: Frame.Kind, type: UInt16, id: UInt64, payload: [UInt8]) -> Frame {
        Frame(kind: kind, messageType: type, requestID: id, payload: ByteBuffer(bytes: payload))
    }

    @Test("the header is length, kind, type and request id, big-endian")
    func layout() throws {
        let bytes = try Self.bytes(of: Self.frame(.response, type: 0x0201, id: 0x0102_0304_0506_0708, payload: [0xaa, 0xbb]))
        #expect(Array(bytes.readableBytesView) == [
            0, 0, 0, 13, 2, 0x02, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 0xaa, 0xbb,
        ])
    }

    @Test("the decoder passes NIO's verifier: bytes one at a time, in batches, many frames per buffer")
    func verifier() throws {
        let frames = [
            Self.frame(.request, type: 1, id: 1, payload: []),
            Self.frame(.response, type: 0x0202, id: 1, payload: Array(0..<200)),
            Self.frame(.oneWay, type: 0x0104, id: 0, payload: [7]),
            Self.frame(.error, type: 0, id: UInt64.max, payload: [0, 3, 0, 0]),
            Self.frame(.handshake, type: 1, id: 0, payload: Array(repeating: 0x5a, count: 1000)),
        ]
        let pairs = try frames.map { (try Self.bytes(of: $0), [$0]) }
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) { FrameDecoder(maxFrameBytes: 4096) }
    }

    @Test("an oversized length is refused from the four header bytes, before any body arrives")
    func oversizedFromHeader() throws {
        let channel = EmbeddedChannel()
        let decoder = FrameDecoder(maxFrameBytes: 1024)
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(decoder, maximumBufferSize: decoder.maximumBufferSize))
        var header = ByteBuffer()
        header.writeInteger(UInt32(1025))
        #expect {
            try channel.writeInbound(header)
        } throws: { error in
            (error as? WireError)?.code == .tooLarge && (error as? WireError)?.limit == 1024
        }
        #expect(try channel.readInbound(as: Frame.self) == nil)
        _ = try? channel.finish()
    }

    @Test("a length of exactly the limit is accepted")
    func lengthAtLimit() throws {
        let frame = Self.frame(.request, type: 1, id: 9, payload: Array(repeating: 1, count: 1024 - Frame.headerBytesAfterLength))
        var bytes = try Self.bytes(of: frame, max: 1024)
        #expect(try FrameDecoder.decodeFrame(from: &bytes, maxFrameBytes: 1024) == frame)
        #expect(bytes.readableBytes == 0)
    }

    @Test("a length below the header and an unknown kind are refused")
    func malformedHeaders() throws {
        var short = ByteBuffer()
        short.writeInteger(UInt32(10))
        #expect(throws: WireError.self) { try FrameDecoder.decodeFrame(from: &short, maxFrameBytes: 100) }
        var unknownKind = ByteBuffer()
        unknownKind.writeInteger(UInt32(11))
        unknownKind.writeInteger(UInt8(9))
        #expect {
            try FrameDecoder.decodeFrame(from: &unknownKind, maxFrameBytes: 100)
        } throws: { ($0 as? WireError)?.code == .unknownFrameKind }
    }

    @Test("a partial frame consumes nothing")
    func partial() throws {
        var bytes = try Self.bytes(of: Self.frame(.request, type: 1, id: 1, payload: [1, 2, 3]))
        var partial = bytes.readSlice(length: bytes.readableBytes - 1)!
        #expect(try FrameDecoder.decodeFrame(from: &partial, maxFrameBytes: 100) == nil)
        #expect(partial.readableBytes == 17)
    }

    @Test("the encoder refuses a frame above its limit")
    func encoderLimit() {
        var out = ByteBuffer()
        #expect {
            try FrameEncoder.encode(Self.frame(.request, type: 1, id: 1, payload: Array(repeating: 0, count: 90)), into: &out, maxFrameBytes: 100)
        } throws: { ($0 as? WireError)?.code == .tooLarge }
        #expect(out.readableBytes == 0)
    }

    @Test("frames written through an EmbeddedChannel come back out of its decoder")
    func embeddedRoundTrip() throws {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandlers([
            ByteToMessageHandler(FrameDecoder()), MessageToByteHandler(FrameEncoder()),
        ])
        let frames = WireSamples.messages.enumerated().map { $0.element.frame(requestID: UInt64($0.offset)) }
        for frame in frames { try channel.writeOutbound(frame) }
        var wire = ByteBuffer()
        while var chunk = try channel.readOutbound(as: ByteBuffer.self) { wire.writeBuffer(&chunk) }
        try channel.writeInbound(wire)
        for frame in frames { #expect(try channel.readInbound(as: Frame.self) == frame) }
        #expect(try channel.finish().isClean)
    }

    @Test("random byte streams split into frames or fail with a WireError, never trap")
    func randomStreams() {
        var random = SplitMix64(seed: 0x5eed)
        var framesSeen = 0
        for _ in 0..<2000 {
            var bytes = ByteBuffer(bytes: (0..<Int(random.next() % 64)).map { _ in UInt8(truncatingIfNeeded: random.next()) })
            // Small lengths are common enough that some streams hold whole frames.
            if random.next() % 2 == 0, bytes.readableBytes >= 5 {
                bytes.setInteger(UInt32(11 + random.next() % 20), at: 0)
                bytes.setInteger(UInt8(1 + random.next() % 5), at: 4)
            }
            do {
                while let _ = try FrameDecoder.decodeFrame(from: &bytes, maxFrameBytes: 1024) { framesSeen += 1 }
            } catch {
                // Typed throws: a WireError.
            }
        }
        #expect(framesSeen > 0)
    }

    @Test("random handshake payloads decode or become a refusal, never trap")
    func randomHandshakes() {
        var random = SplitMix64(seed: 0x4a11)
        let hello = Handshake.Message.hello(Handshake.Hello(
            clusterName: "alpha", node: WireSamples.a, listenAddress: "127.0.0.1:1", nonce: Array(repeating: 9, count: 32),
            requiresProof: true)).frame()
        let good = Array(hello.payload.readableBytesView)
        for _ in 0..<3000 {
            var bytes = good
            switch random.next() % 3 {
            case 0: bytes = Array(bytes[..<Int(random.next() % UInt64(bytes.count))])
            case 1: bytes[Int(random.next() % UInt64(bytes.count))] ^= UInt8(1) << UInt8(random.next() % 8)
            default: bytes = (0..<Int(random.next() % 80)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            }
            let frame = Frame(kind: .handshake, messageType: UInt16(1 + random.next() % 3), requestID: 0, payload: ByteBuffer(bytes: bytes))
            _ = try? Handshake.Message(frame: frame)
        }
    }
}
