import CairnCore
import CairnWire
import NIOCore
import Testing

@Suite("Wire messages")
struct WireMessageTests {
    static func roundTrip(_ message: WireMessage, limits: WireLimits = WireLimits()) throws -> WireMessage {
        let frame = message.frame(requestID: 5)
        var bytes = ByteBuffer()
        try FrameEncoder.encode(frame, into: &bytes, maxFrameBytes: limits.maxFrameBytes)
        let decoded = try #require(try FrameDecoder.decodeFrame(from: &bytes, maxFrameBytes: limits.maxFrameBytes))
        return try WireMessage(frame: decoded, limits: limits)
    }

    @Test("every sample message survives a round trip through a frame", arguments: WireSamples.messages)
    func roundTrips(_ message: WireMessage) throws {
        #expect(try Self.roundTrip(message) == message)
    }

    @Test("the samples cover every message type")
    func coverage() {
        let covered = Set(WireSamples.messages.map(\.messageType))
        #expect(covered == Set(WireMessage.MessageType.allCases))
    }

    @Test("error replies round-trip, unknown codes included")
    func errorReplies() throws {
        for reply in [ErrorReply(.overloaded, "42 requests in progress"), ErrorReply(.init(rawValue: 999), "")] {
            let frame = reply.frame(requestID: 3)
            #expect(frame.kind == .error)
            #expect(try ErrorReply(decoding: frame.payload) == reply)
        }
    }

    @Test("an unknown message type is a typed error")
    func unknownType() {
        #expect {
            try WireMessage(type: 0x7777, payload: ByteBuffer())
        } throws: { ($0 as? WireError)?.code == .unknownMessageType }
    }

    @Test("a message type in the wrong kind of frame is refused")
    func wrongKind() {
        var frame = WireMessage.read(ReadRequest(key: [1], partition: 0)).frame(requestID: 1)
        frame.kind = .response
        #expect {
            try WireMessage(frame: frame)
        } throws: { ($0 as? WireError)?.code == .unknownMessageType }
    }

    /// Each forged integer that once trapped a node (a `+ 1` past `UInt64.max`, a rounding past
    /// `Int64.max`) is refused by the decoder; one below the bound still decodes.
    @Test("logical clocks above 2^62 and instants after the year 9999 are refused when decoded")
    func forgedIntegersAreRefused() throws {
        let big = WireLimits.maxLogicalClock + 1
        let ring = Membership.VersionedRing(version: big, ring: Ring(members: [WireSamples.a], partitionCount: 8, targetReplicas: 1))
        let member = Membership.Member(id: WireSamples.a, address: "127.0.0.1:7070", status: .valid, incarnation: big)
        let late = WallClockTime(millisecondsSince1970: WallClockTime.maxMillisecondsSince1970 + 1)
        let forged: [(String, WireMessage)] = [
            ("ring version", .membership(.update(WireSamples.envelope, members: [], ring: ring))),
            ("incarnation", .membership(.update(WireSamples.envelope, members: [member], ring: nil))),
            ("ballot counter", .cas(key: WireSamples.key, .prepare(CAS.Ballot(counter: .max, node: WireSamples.b)))),
            ("expiry", .readRepair(Replicate(key: WireSamples.key, partition: 1, object: DVVSet.new(
                Sibling(.value([1]), expiry: late), by: WireSamples.actorA)))),
            ("proposal wall clock", .cas(key: WireSamples.key, .propose(CAS.Proposal(
                ballot: CAS.Ballot(counter: 3, node: WireSamples.b), value: [1], context: CausalContext(), wallTime: late)))),
            ("compare-and-set counter", .cas(key: WireSamples.key, .commit(CAS.Proposal(
                ballot: CAS.Ballot(counter: 3, node: WireSamples.b), value: [1],
                context: CausalContext([ReplicaActor.cas: Dot.maxCounter]), wallTime: WallClockTime(millisecondsSince1970: 1))))),
            ("clock probe time", .clockReply(sequence: 1, sentAt: late, receivedAt: WallClockTime(millisecondsSince1970: 1))),
            ("clock receipt time", .clockReply(sequence: 1, sentAt: WallClockTime(millisecondsSince1970: 1), receivedAt: late)),
        ]
        for (what, message) in forged {
            #expect(throws: (any Error).self, "a forged \(what) decodes") { try Self.roundTrip(message) }
        }
        var fine = member
        fine.incarnation = WireLimits.maxLogicalClock
        let bounded = WireMessage.membership(.update(WireSamples.envelope, members: [fine], ring: nil))
        #expect(try Self.roundTrip(bounded) == bounded)
    }

    @Test("trailing bytes are refused")
    func trailing() {
        var payload = WireMessage.membership(.heartbeat(WireSamples.envelope, sequence: 1)).encodedPayload()
        payload.writeInteger(UInt8(0))
        #expect {
            try WireMessage(type: WireMessage.MessageType.membershipHeartbeat.rawValue, payload: payload)
        } throws: { ($0 as? WireError)?.code == .trailingBytes }
    }

    @Test("a count above the bytes left is refused before anything is allocated")
    func hugeCount() {
        var payload = ByteBuffer()
        payload.writeInteger(UInt32(4000))  // 4000 hints claimed, none present
        #expect {
            try WireMessage(type: WireMessage.MessageType.hintBatch.rawValue, payload: payload)
        } throws: { ($0 as? WireError)?.code == .truncated }
        var merkle = ByteBuffer()
        merkle.writeInteger(UInt32(UInt32.max))  // 4 billion hashes
        #expect {
            try WireMessage(type: WireMessage.MessageType.merkleHashes.rawValue, payload: merkle)
        } throws: { ($0 as? WireError)?.code == .tooLarge }
    }

    @Test("keys over the limit and empty keys are refused")
    func keyLimits() throws {
        let long = WireMessage.read(ReadRequest(key: Array(repeating: 1, count: 1025), partition: 0))
        #expect {
            try Self.roundTrip(long)
        } throws: { ($0 as? WireError)?.code == .tooLarge && ($0 as? WireError)?.limit == 1024 }
        let empty = WireMessage.read(ReadRequest(key: [], partition: 0))
        #expect { try Self.roundTrip(empty) } throws: { ($0 as? WireError)?.code == .malformed }
        #expect(try Self.roundTrip(long, limits: WireLimits(maxKeyBytes: 2048)) == long)
    }

    @Test("a digest must list nodes in ascending order, once each")
    func digestOrder() throws {
        var payload = ByteBuffer()
        payload.writeImmediateEnvelope()
        payload.writeInteger(UInt32(2))
        let version = Membership.Member(id: WireSamples.a, address: "x", status: .valid, incarnation: 1).version
        for node in [WireSamples.b, WireSamples.a] {
            payload.writeBytes(node.bytes)
            payload.writeInteger(version.tombstone)
            payload.writeInteger(version.incarnation)
            payload.writeInteger(version.status.rawValue)
            payload.writeInteger(version.addressFingerprint)
            payload.writeInteger(version.proofFingerprint)
        }
        payload.writeInteger(UInt8(0))
        #expect {
            try WireMessage(type: WireMessage.MessageType.membershipDigest.rawValue, payload: payload)
        } throws: { ($0 as? WireError)?.code == .malformed }
    }

    @Test("text must be valid UTF-8")
    func invalidUTF8() {
        var payload = ByteBuffer()
        payload.writeInteger(UInt16(2))
        payload.writeBytes([0xc3, 0x28])
        #expect {
            try WireMessage(type: WireMessage.MessageType.nack.rawValue, payload: payload)
        } throws: { ($0 as? WireError)?.code == .malformed }
    }

    @Test("an object that CairnCore refuses is a badObject error")
    func badObject() {
        var payload = ByteBuffer()
        payload.writeInteger(UInt8(1))  // found
        payload.writeInteger(UInt32(6))
        payload.writeBytes([9, 1, 0, 0, 0, 0])  // unknown encoding version 9
        #expect {
            try WireMessage(type: WireMessage.MessageType.readReply.rawValue, payload: payload)
        } throws: { ($0 as? WireError)?.code == .badObject }
    }

    @Test("long free text is clipped on a character boundary, never refused")
    func clippedText() throws {
        let reason = String(repeating: "é", count: 3000)
        guard case .nack(let decoded) = try Self.roundTrip(.nack(reason: reason)) else {
            Issue.record("not a nack")
            return
        }
        #expect(decoded.utf8.count == 1024)
        #expect(reason.hasPrefix(decoded))
    }

    @Test("random bytes, truncations and bit flips decode cleanly or fail with a WireError", arguments: 0..<4)
    func fuzz(seed: UInt64) throws {
        var random = SplitMix64(seed: 0xf022 &+ seed &* 0x9E37_79B9_7F4A_7C15)
        let samples = WireSamples.messages
        var decodedCount = 0
        var failedCount = 0
        func attempt(type: UInt16, bytes: [UInt8]) {
            do {
                let message = try WireMessage(type: type, payload: ByteBuffer(bytes: bytes))
                decodedCount += 1
                // Whatever decodes re-encodes to a value that decodes to itself.
                let again = try WireMessage(type: message.messageType.rawValue, payload: message.encodedPayload())
                #expect(again == message, "seed \(seed): re-decoding changed \(message)")
            } catch {
                // Typed throws: the only error a decoder can throw is a WireError.
                failedCount += 1
            }
        }
        for message in samples {
            let type = message.messageType.rawValue
            let bytes = Array(message.encodedPayload().readableBytesView)
            // Every truncation.
            for length in 0..<bytes.count where length < 300 || length % 97 == 0 { attempt(type: type, bytes: Array(bytes[..<length])) }
            // Bit flips, one to three per try.
            for _ in 0..<200 where !bytes.isEmpty {
                var flipped = bytes
                for _ in 0...(random.next() % 3) {
                    let index = Int(random.next() % UInt64(flipped.count))
                    flipped[index] ^= UInt8(1) << UInt8(random.next() % 8)
                }
                attempt(type: type, bytes: flipped)
            }
            // Random bytes under this type.
            for _ in 0..<50 {
                let count = Int(random.next() % 64)
                attempt(type: type, bytes: (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next()) })
            }
        }
        // Random types, known and unknown.
        for _ in 0..<500 {
            let type = UInt16(truncatingIfNeeded: random.next())
            attempt(type: type, bytes: (0..<Int(random.next() % 32)).map { _ in UInt8(truncatingIfNeeded: random.next()) })
        }
        #expect(failedCount > 0 && decodedCount > 0, "seed \(seed): decoded \(decodedCount), failed \(failedCount)")
    }

    /// A trace context travels only on requests, bounded: a traced response or one-way type, too
    /// many headers, a repeated name or a non-printable value is refused.
    @Test func tracedRequestsAreBounded() throws {
        let read = WireMessage.read(ReadRequest(key: WireSamples.key, partition: 2))
        let traced = WireMessage.traced(context: ["traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"], read)
        #expect(try Self.roundTrip(traced) == traced)
        #expect(traced.untraced.message == read && traced.messageType == .read)
        func frame(type: UInt16, _ build: (inout ByteBuffer) -> Void) -> Frame {
            var payload = ByteBuffer()
            build(&payload)
            return Frame(kind: .request, messageType: type, requestID: 1, payload: payload)
        }
        func header(_ buffer: inout ByteBuffer, _ name: String, _ value: String) {
            buffer.writeInteger(UInt16(name.utf8.count))
            buffer.writeString(name)
            buffer.writeInteger(UInt16(value.utf8.count))
            buffer.writeString(value)
        }
        let readType = WireMessage.MessageType.read.rawValue | WireMessage.tracedTypeBit
        var body = ByteBuffer()
        read.encode(into: &body)
        let bad: [(String, Frame)] = [
            ("a traced ack", Frame(kind: .response, messageType: WireMessage.MessageType.ack.rawValue | WireMessage.tracedTypeBit,
                                   requestID: 1, payload: ByteBuffer(bytes: [0]))),
            ("nine headers", frame(type: readType) { buffer in
                buffer.writeInteger(UInt8(9))
                for index in 0..<9 { header(&buffer, "h\(index)", "v") }
                buffer.writeImmutableBuffer(body)
            }),
            ("a repeated name", frame(type: readType) { buffer in
                buffer.writeInteger(UInt8(2))
                header(&buffer, "traceparent", "a")
                header(&buffer, "traceparent", "b")
                buffer.writeImmutableBuffer(body)
            }),
            ("a line break", frame(type: readType) { buffer in
                buffer.writeInteger(UInt8(1))
                header(&buffer, "traceparent", "a\r\nb")
                buffer.writeImmutableBuffer(body)
            }),
        ]
        for (what, frame) in bad {
            #expect(throws: WireError.self, "\(what) decodes") { try WireMessage(frame: frame) }
        }
    }
}

extension ByteBuffer {
    /// The sample envelope, written by hand for hand-built payloads.
    mutating func writeImmediateEnvelope() {
        let envelope = WireSamples.envelope
        writeInteger(UInt16(envelope.clusterName.utf8.count))
        writeString(envelope.clusterName)
        writeBytes(envelope.from.bytes)
        writeInteger(UInt16(envelope.fromAddress.utf8.count))
        writeString(envelope.fromAddress)
    }
}
