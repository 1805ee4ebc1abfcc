import Testing

@testable import CairnHTTP

/// The strict JSON reader and the canonical writer.
@Suite struct JSONTests {
    static let accepted: [(String, JSONValue)] = [
        ("null", .null),
        (" true ", true),
        ("false", false),
        ("0", 0),
        ("-0", 0),
        ("9223372036854775807", .integer(Int64.max)),
        ("-9223372036854775808", .integer(Int64.min)),
        ("9223372036854775808", .number(9223372036854775808)),
        ("1.5", .number(1.5)),
        ("-2e3", .number(-2000)),
        ("1E+2", .number(100)),
        (#""""#, ""),
        (#""a\"b\\c\/d\b\f\n\r\t""#, "a\"b\\c/d\u{8}\u{c}\n\r\t"),
        (#""\u00e9\u20AC\ud83d\ude00""#, "é€😀"),
        (#""é€😀""#, "é€😀"),
        ("[]", []),
        ("[1, [2, {}]]", [1, [2, [:]]]),
        (#"{"a": 1, "b": [true, null], "c": {"d": "e"}}"#, ["a": 1, "b": [true, nil], "c": ["d": "e"]]),
        ("\t\r\n{ }\n", [:]),
    ]

    @Test(arguments: accepted)
    func acceptsValidDocuments(_ text: String, expected: JSONValue) throws {
        #expect(try JSONParser.parse(Array(text.utf8)) == expected)
    }

    static let rejected: [String] = [
        "", " ", "nul", "True", "01", "-", "1.", ".5", "1e", "+1", "0x10", "NaN", "Infinity", "1e999",
        #""abc"#, #""\x""#, #""\u12""#, #""\ud800""#, #""\udc00""#, #""\ud800\u0041""#, "\"a\u{1}b\"",
        "[1,]", "[1 2]", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "{\"a\":1,\"a\":2}", "[1]]", "{} {}", "'a'",
        String(repeating: "[", count: 33) + String(repeating: "]", count: 33),
    ]

    @Test(arguments: rejected)
    func rejectsInvalidDocuments(_ text: String) {
        #expect(throws: JSONParser.Error.self) { try JSONParser.parse(Array(text.utf8)) }
    }

    @Test func rejectsInvalidUTF8AndReportsTheOffset() {
        #expect(throws: JSONParser.Error.self) { try JSONParser.parse([0x22, 0xFF, 0x22]) }
        #expect(throws: JSONParser.Error.self) { try JSONParser.parse([0x22, 0xED, 0xA0, 0x80, 0x22]) }
        do {
            _ = try JSONParser.parse(Array(#"{"a": tru}"#.utf8))
            Issue.record("parsed")
        } catch {
            #expect(error.offset == 6)
        }
    }

    @Test func nestingUpToTheLimitIsAccepted() throws {
        let text = String(repeating: "[", count: 32) + String(repeating: "]", count: 32)
        _ = try JSONParser.parse(Array(text.utf8))
    }

    @Test func renderingIsCompactSortedAndEscaped() {
        let value: JSONValue = ["b": [1, -2, 0.5, nil, true], "a": "q\"\\\n\u{1}é", "c": [:]]
        #expect(String(decoding: value.rendered(), as: UTF8.self) == #"{"a":"q\"\\\n\u0001é","b":[1,-2,0.5,null,true],"c":{}}"#)
        #expect(JSONValue.number(.infinity).rendered() == Array("null".utf8))
    }

    @Test func renderedDocumentsParseBackToThemselves() throws {
        for (_, value) in Self.accepted {
            #expect(try JSONParser.parse(value.rendered()) == value)
        }
        var controls = ""
        for scalar in 0..<0x20 { controls.unicodeScalars.append(Unicode.Scalar(UInt8(scalar))) }
        #expect(try JSONParser.parse(JSONValue.string(controls).rendered()) == .string(controls))
    }
}

/// Base64 in both forms and percent-encoding: round trips and strict rejection.
@Suite struct EncodingTests {
    @Test func base64MatchesRFC4648Vectors() {
        let vectors = ["": "", "f": "Zg==", "fo": "Zm8=", "foo": "Zm9v", "foob": "Zm9vYg==", "fooba": "Zm9vYmE=", "foobar": "Zm9vYmFy"]
        for (plain, encoded) in vectors {
            #expect(Base64.encode(Array(plain.utf8), .standard) == encoded)
            #expect(Base64.decode(encoded.utf8, .standard) == Array(plain.utf8))
            let url = String(encoded.filter { $0 != "=" })
            #expect(Base64.encode(Array(plain.utf8), .url) == url)
            #expect(Base64.decode(url.utf8, .url) == Array(plain.utf8))
        }
        #expect(Base64.encode([0xFB, 0xFF], .standard) == "+/8=")
        #expect(Base64.encode([0xFB, 0xFF], .url) == "-_8")
    }

    @Test func base64RoundTripsEveryLengthAndByte() {
        for length in 0..<70 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ length) }
            for form in [Base64.Form.standard, .url] {
                #expect(Base64.decode(Base64.encode(bytes, form).utf8, form) == bytes)
            }
        }
    }

    @Test(arguments: ["Zg", "Zg=", "Zh==", "Z===", "Zm9v\n", " Zm9v", "Zm9v====", "Zm-v", "Z", "Zm9vY", "=Zg="])
    func base64StandardRejectsNonCanonicalText(_ text: String) {
        #expect(Base64.decode(text.utf8, .standard) == nil)
    }

    @Test(arguments: ["Zg==", "Zh", "Zm+v", "Z", "Zm9vY", "Zm9v\n"])
    func base64URLRejectsNonCanonicalText(_ text: String) {
        #expect(Base64.decode(text.utf8, .url) == nil)
    }

    @Test func percentEncodingRoundTripsEveryByte() throws {
        let all = (0...255).map { UInt8($0) }
        let encoded = PercentEncoding.encode(all)
        #expect(try PercentEncoding.decode(encoded.utf8, as: .pathSegment) == all)
        #expect(try PercentEncoding.decode(encoded.utf8, as: .queryValue) == all)
        #expect(PercentEncoding.encode(Array("a-b.c_d~e/f g".utf8)) == "a-b.c_d~e%2Ff%20g")
    }

    @Test func percentDecodingIsStrict() {
        #expect(throws: PercentEncoding.Failure.badEscape(offset: 1)) { try PercentEncoding.decode("a%4".utf8, as: .pathSegment) }
        #expect(throws: PercentEncoding.Failure.badEscape(offset: 0)) { try PercentEncoding.decode("%g0".utf8, as: .queryValue) }
        #expect(throws: PercentEncoding.Failure.disallowedCharacter(offset: 1)) { try PercentEncoding.decode("a/b".utf8, as: .pathSegment) }
        #expect(throws: PercentEncoding.Failure.disallowedCharacter(offset: 1)) { try PercentEncoding.decode("a&b".utf8, as: .queryValue) }
        #expect(throws: PercentEncoding.Failure.disallowedCharacter(offset: 0)) { try PercentEncoding.decode("\"".utf8, as: .queryValue) }
        #expect((try? PercentEncoding.decode("a/b?c+".utf8, as: .queryValue)) == Array("a/b?c+".utf8))
    }
}
