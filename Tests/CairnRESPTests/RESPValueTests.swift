import Testing

@testable import CairnRESP

/// Answers to bytes, in both protocol versions.
@Suite struct RESPValueTests {
    static func text(_ value: RESPValue, _ version: RESPVersion = .resp2) -> String {
        String(decoding: value.encoded(version: version), as: UTF8.self)
    }

    @Test func resp2() {
        #expect(Self.text(.ok) == "+OK\r\n")
        #expect(Self.text(.error(RESPError("bad"))) == "-ERR bad\r\n")
        #expect(Self.text(.error(RESPError(code: .noQuorum, "1 of 2\r\nreplicas"))) == "-NOQUORUM 1 of 2  replicas\r\n")
        #expect(Self.text(.integer(-42)) == ":-42\r\n")
        #expect(Self.text(.bulk([0, 13, 10])) == "$3\r\n\u{0}\r\n\r\n")
        #expect(Self.text(.bulk([])) == "$0\r\n\r\n")
        #expect(Self.text(.null) == "$-1\r\n")
        #expect(Self.text(.array([.integer(1), .null])) == "*2\r\n:1\r\n$-1\r\n")
        #expect(Self.text(.map([(.bulk("a"), .integer(1))])) == "*2\r\n$1\r\na\r\n:1\r\n")
    }

    @Test func resp3HasItsOwnNullAndMaps() {
        #expect(Self.text(.null, .resp3) == "_\r\n")
        #expect(Self.text(.map([(.bulk("a"), .integer(1))]), .resp3) == "%1\r\n$1\r\na\r\n:1\r\n")
        #expect(Self.text(.array([.null]), .resp3) == "*1\r\n_\r\n")
    }
}
