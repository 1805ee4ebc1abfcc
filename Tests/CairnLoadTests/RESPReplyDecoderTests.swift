import NIOCore
import NIOTestUtils
import Testing

@testable import CairnLoad

/// The RESP2 reply decoder, fed by NIO's verifier one byte at a time and in every batching, and
/// refusing what is not RESP2.
@Suite struct RESPReplyDecoderTests {
    @Test func decodesEveryReplyTypeHoweverTheBytesAreSplit() throws {
        let pairs: [(String, [RESPValue])] = [
            ("+OK\r\n", [.simpleString("OK")]),
            ("-ERR unknown command\r\n", [.error("ERR unknown command")]),
            (":42\r\n:-7\r\n", [.integer(42), .integer(-7)]),
            ("$5\r\nhello\r\n", [.bulkString(Array("hello".utf8))]),
            ("$0\r\n\r\n", [.bulkString([])]),
            ("$-1\r\n", [.bulkString(nil)]),
            ("$4\r\na\r\nb\r\n", [.bulkString(Array("a\r\nb".utf8))]),
            ("*2\r\n$1\r\na\r\n*1\r\n:1\r\n", [.array([.bulkString([97]), .array([.integer(1)])])]),
            ("*0\r\n*-1\r\n", [.array([]), .array(nil)]),
        ]
        try ByteToMessageDecoderVerifier.verifyDecoder(stringInputOutputPairs: pairs) { RESPReplyDecoder() }
    }

    @Test func anIncompleteReplyConsumesNothing() throws {
        let decoder = RESPReplyDecoder()
        for partial in ["", "$", "$5", "$5\r", "$5\r\nhel", "$5\r\nhello", "$5\r\nhello\r", "*2\r\n:1\r\n", ":12"] {
            var buffer = ByteBuffer(string: partial)
            #expect(try decoder.next(&buffer) == nil, "\(partial.debugDescription)")
            #expect(buffer.readableBytes == partial.utf8.count, "\(partial.debugDescription)")
        }
    }

    @Test func whatIsNotRESP2IsRefused() {
        var small = RESPReplyDecoder()
        small.maxBulkBytes = 10
        small.maxElements = 3
        small.maxDepth = 2
        small.maxLineBytes = 16
        for bad in [
            "?what\r\n", "$5\r\nhelloXX", "$11\r\n", "$-2\r\n", "*4\r\n", "*1\r\n*1\r\n*1\r\n:1\r\n", ":12a\r\n", ":\r\n",
            "+OK\rX", ":99999999999999999999\r\n", "+" + String(repeating: "x", count: 40),
        ] {
            var buffer = ByteBuffer(string: bad)
            #expect(throws: RESPReplyDecoder.ProtocolError.self, "\(bad.debugDescription)") { try small.next(&buffer) }
        }
    }

    @Test func commandsAreArraysOfBulkStrings() {
        var buffer = ByteBuffer()
        RESPValue.encode(command: [Array("SET".utf8), Array("k".utf8), [0, 13, 10]], into: &buffer)
        #expect(Array(buffer.readableBytesView) == Array("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\n".utf8) + [0, 13, 10, 13, 10])
    }
}
