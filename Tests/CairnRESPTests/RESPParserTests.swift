import CairnHTTP
import NIOCore
import Testing

@testable import CairnRESP

/// The parser as a pure machine: bytes in, outcomes out, with no channel.
@Suite struct RESPParserTests {
    static let limits = RESPLimits(
        api: APILimits(maxKeyBytes: 16, maxValueBytes: 64), maxArguments: 8, maxBulkBytes: 64, maxCommandBytes: 100,
        maxInlineBytes: 32, maxKeysPerCommand: 4)

    /// Every outcome `bytes` give when fed in pieces of `chunk` bytes (0: all at once), and
    /// whether the parser ended between commands.
    static func outcomes(_ bytes: [UInt8], chunk: Int = 0, limits: RESPLimits = limits) -> ([RESPParser.Outcome], midCommand: Bool) {
        var parser = RESPParser(limits: limits)
        var buffer = ByteBuffer()
        var outcomes: [RESPParser.Outcome] = []
        var offset = 0
        repeat {
            let end = chunk == 0 ? bytes.count : min(bytes.count, offset + chunk)
            buffer.writeBytes(bytes[offset..<end])
            offset = end
            while let outcome = parser.next(&buffer) { outcomes.append(outcome) }
        } while offset < bytes.count
        return (outcomes, parser.isMidCommand || buffer.readableBytes > 0)
    }

    static func commands(_ outcomes: [RESPParser.Outcome]) -> [[String]] {
        outcomes.compactMap {
            if case .command(let arguments) = $0 { arguments.map { String(decoding: $0, as: UTF8.self) } } else { nil }
        }
    }

    static func refusals(_ outcomes: [RESPParser.Outcome]) -> [String] {
        outcomes.compactMap { if case .refused(let error) = $0 { error.message } else { nil } }
    }

    @Test func arraysOfBulkStringsPipelinedAndSplitAnywhereGiveTheSameCommands() {
        let bytes = command("SET", "k", "v") + command("GET", "k") + command("ECHO", "") + command("MSET", "a\r\nb", "\u{0}\u{1}")
        let expected = [["SET", "k", "v"], ["GET", "k"], ["ECHO", ""], ["MSET", "a\r\nb", "\u{0}\u{1}"]]
        for chunk in [0, 1, 2, 3, 5, 7, 13] {
            let (outcomes, midCommand) = Self.outcomes(bytes, chunk: chunk)
            #expect(Self.commands(outcomes) == expected, "chunk \(chunk)")
            #expect(outcomes.count == expected.count)
            #expect(!midCommand)
        }
    }

    @Test func inlineCommandsSplitOnBlanksWithRedisQuoting() {
        let cases: [(String, [[String]])] = [
            ("PING\r\n", [["PING"]]),
            ("set  k   v\n", [["set", "k", "v"]]),
            ("\r\n\r\nGET k\r\n", [["GET", "k"]]),
            ("SET k \"hello world\"\r\n", [["SET", "k", "hello world"]]),
            ("SET k \"a\\\"b\\n\\x41\"\r\n", [["SET", "k", "a\"b\nA"]]),
            ("SET k 'it\\'s'\r\n", [["SET", "k", "it's"]]),
            ("SET k \"\"\r\n", [["SET", "k", ""]]),
        ]
        for (text, expected) in cases {
            for chunk in [0, 1, 4] {
                let (outcomes, midCommand) = Self.outcomes(Array(text.utf8), chunk: chunk)
                #expect(Self.commands(outcomes) == expected, "\(text.debugDescription) chunk \(chunk)")
                #expect(!midCommand)
            }
        }
        #expect(Self.refusals(Self.outcomes(Array("SET k \"open\r\n".utf8)).0) == ["Protocol error: unbalanced quotes in request"])
        #expect(Self.refusals(Self.outcomes(Array("SET k \"a\"b\r\n".utf8)).0) == ["Protocol error: unbalanced quotes in request"])
    }

    @Test func emptyArraysAreNoCommands() {
        let (outcomes, _) = Self.outcomes(Array("*0\r\n*-1\r\n".utf8) + command("PING"))
        #expect(Self.commands(outcomes) == [["PING"]])
        #expect(outcomes.count == 1)
    }

    @Test func tooManyArgumentsIsRefusedAndSkippedWithoutKeepingThem() {
        // Nine arguments against a limit of 8: refused at the header, the elements skipped.
        let big = command((0..<9).map { Array("arg\($0)".utf8) })
        for chunk in [0, 1, 6] {
            let (outcomes, midCommand) = Self.outcomes(big + command("PING"), chunk: chunk)
            #expect(Self.refusals(outcomes) == ["Protocol error: 9 arguments is more than the limit of 8"])
            #expect(Self.commands(outcomes) == [["PING"]], "chunk \(chunk)")
            #expect(!midCommand)
        }
    }

    @Test func anArrayOfAMillionElementsCostsOneRefusal() {
        // Only the header and what has arrived are ever looked at; the parser waits mid-skip.
        var parser = RESPParser(limits: Self.limits)
        var buffer = ByteBuffer(string: "*1000000\r\n$1\r\na\r\n$1\r\nb\r\n")
        #expect(parser.next(&buffer) == .refused(RESPError("Protocol error: 1000000 arguments is more than the limit of 8")))
        #expect(parser.next(&buffer) == nil)
        #expect(parser.isMidCommand)
        #expect(buffer.readableBytes == 0)
    }

    @Test func anOversizedBulkStringIsRefusedFromItsHeaderAndItsBytesAreSkipped() {
        let value = [UInt8](repeating: UInt8(ascii: "x"), count: 65)
        let bytes = command([Array("SET".utf8), Array("k".utf8), value]) + command("GET", "k")
        for chunk in [0, 1, 9] {
            let (outcomes, midCommand) = Self.outcomes(bytes, chunk: chunk)
            #expect(Self.refusals(outcomes) == ["Protocol error: a bulk string of 65 bytes is over the limit of 64"], "chunk \(chunk)")
            #expect(Self.commands(outcomes) == [["GET", "k"]])
            #expect(!midCommand)
        }
        // A gigabyte announced: refused at once, nothing of it buffered.
        var parser = RESPParser(limits: Self.limits)
        var buffer = ByteBuffer(string: "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1073741824\r\nxxxx")
        #expect(parser.next(&buffer) == .refused(RESPError("Protocol error: a bulk string of 1073741824 bytes is over the limit of 64")))
        #expect(parser.next(&buffer) == nil)
        #expect(buffer.readableBytes == 0)
        #expect(parser.isMidCommand)
    }

    @Test func argumentsAddingUpPastTheCommandLimitAreRefused() {
        let value = [UInt8](repeating: UInt8(ascii: "x"), count: 60)
        let bytes = command([Array("MSET".utf8), Array("a".utf8), value, Array("b".utf8), value]) + command("PING")
        let (outcomes, midCommand) = Self.outcomes(bytes)
        #expect(Self.refusals(outcomes) == ["Protocol error: the command's arguments add up to more than 100 bytes"])
        #expect(Self.commands(outcomes) == [["PING"]])
        #expect(!midCommand)
    }

    @Test func brokenFramingIsRefusedAndParsingResumesAtTheNextLine() {
        let cases: [(String, String)] = [
            ("*x\r\n", "Protocol error: invalid multibulk length"),
            ("*1\n", "Protocol error: invalid multibulk length"),
            ("*+1\r\n", "Protocol error: invalid multibulk length"),
            ("*2\r\n$3\r\nGET\r\n:1\r\n", "Protocol error: expected '$', got ':'"),
            ("*1\r\n$x\r\n", "Protocol error: invalid bulk length"),
            ("*1\r\n$-1\r\n", "Protocol error: invalid bulk length -1"),
            ("*1\r\n$3\r\nGETxx\r\n", "Protocol error: a bulk string does not end with CRLF"),
            ("*1234567890123456789012345678901234567890\r\n", "Protocol error: a length line longer than 32 bytes"),
            ("GET aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n", "Protocol error: an inline command longer than 32 bytes"),
        ]
        for (text, error) in cases {
            for chunk in [0, 1] {
                let (outcomes, midCommand) = Self.outcomes(Array(text.utf8) + command("PING"), chunk: chunk)
                #expect(Self.refusals(outcomes) == [error], "\(text.debugDescription) chunk \(chunk)")
                #expect(Self.commands(outcomes).last == ["PING"], "\(text.debugDescription) chunk \(chunk)")
                #expect(!midCommand)
            }
        }
    }

    @Test func anHTTPRequestIsAForeignProtocol() {
        let (post, _) = Self.outcomes(Array("POST / HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        #expect(post.first == .foreignProtocol)
        let (get, _) = Self.outcomes(Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        #expect(get == [.command([Array("GET".utf8), Array("/".utf8), Array("HTTP/1.1".utf8)]), .foreignProtocol])
    }

    /// Random commands of random bytes, encoded as clients do and fed in random pieces, come
    /// back exactly (the parser against the simplest model: the commands themselves).
    @Test func randomCommandsRoundTripThroughAnySplit() {
        var random = SystemRandomNumberGenerator()
        for _ in 0..<300 {
            let commands: [[[UInt8]]] = (0..<Int.random(in: 1...6, using: &random)).map { _ in
                (0..<Int.random(in: 1...5, using: &random)).map { _ in
                    (0..<Int.random(in: 0...12, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
                }
            }
            let bytes = commands.flatMap(command)
            let (outcomes, midCommand) = Self.outcomes(bytes, chunk: Int.random(in: 0...9, using: &random))
            #expect(outcomes == commands.map(RESPParser.Outcome.command))
            #expect(!midCommand)
        }
    }

    /// Random byte strings, fed in random pieces, never trap the parser, and a well-formed
    /// command after a garbage line is still read.
    @Test func randomGarbageNeverTraps() {
        var random = SystemRandomNumberGenerator()
        let alphabet = Array("*$:+-\r\n0123456789abc \"'\\".utf8)
        for _ in 0..<2_000 {
            let garbage = (0..<Int.random(in: 0...60, using: &random)).map { _ in alphabet.randomElement(using: &random)! }
            _ = Self.outcomes(garbage, chunk: Int.random(in: 0...7, using: &random))
        }
    }

    @Test func integersAreStrict() {
        #expect(RESPParser.integer(Array("0".utf8)) == 0)
        #expect(RESPParser.integer(Array("-12".utf8)) == -12)
        #expect(RESPParser.integer(Array("".utf8)) == nil)
        #expect(RESPParser.integer(Array("-".utf8)) == nil)
        #expect(RESPParser.integer(Array(" 1".utf8)) == nil)
        #expect(RESPParser.integer(Array("1234567890123456789".utf8)) == nil)
    }
}
