/// Percent-encoding (RFC 3986 §2.1) of keys in paths and of query values.
///
/// Keys are byte strings, so the API speaks of them percent-encoded: every byte outside the
/// unreserved set travels as `%XX`. Decoding is strict: a `%` must be followed by two hex
/// digits, and a character that RFC 3986 does not allow where it stands is refused rather than
/// guessed at. `+` is a literal plus (RFC 3986), not a space (HTML forms).
///
/// Public so that clients (CairnClient) write keys exactly as the server reads them.
public enum PercentEncoding {
    /// Where the text stands decides which characters may appear without encoding.
    public enum Component: Hashable, Sendable {
        /// A path segment: `pchar` (RFC 3986 §3.3).
        case pathSegment
        /// A query name or value: `pchar`, `/` and `?` (§3.4), except `&` and `=` that delimit it.
        case queryValue
    }

    /// Why a component did not decode.
    public enum Failure: Error, Hashable, Sendable {
        /// A `%` not followed by two hex digits, at this byte offset of the component.
        case badEscape(offset: Int)
        /// A character that must be percent-encoded here, at this byte offset.
        case disallowedCharacter(offset: Int)
    }

    /// RFC 3986 §2.3 unreserved characters (`A–Z a–z 0–9 - . _ ~`), never encoded.
    public static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
            UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    private static func isAllowedRaw(_ byte: UInt8, in component: Component) -> Bool {
        if isUnreserved(byte) { return true }
        switch byte {
        case UInt8(ascii: "!"), UInt8(ascii: "$"), UInt8(ascii: "'"), UInt8(ascii: "("), UInt8(ascii: ")"),
            UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: ":"),
            UInt8(ascii: "@"):
            return true
        case UInt8(ascii: "&"), UInt8(ascii: "="):
            return component == .pathSegment
        case UInt8(ascii: "/"), UInt8(ascii: "?"):
            return component == .queryValue
        default:
            return false
        }
    }

    /// The bytes `text` stands for.
    public static func decode(_ text: some Collection<UInt8>, as component: Component) throws(Failure) -> [UInt8] {
        let text = Array(text)
        var output: [UInt8] = []
        output.reserveCapacity(text.count)
        var index = 0
        while index < text.count {
            let byte = text[index]
            if byte == UInt8(ascii: "%") {
                guard index + 2 < text.count,
                    let high = JSONParser.hexValue(text[index + 1]),
                    let low = JSONParser.hexValue(text[index + 2])
                else { throw .badEscape(offset: index) }
                output.append(high << 4 | low)
                index += 3
            } else {
                guard isAllowedRaw(byte, in: component) else { throw .disallowedCharacter(offset: index) }
                output.append(byte)
                index += 1
            }
        }
        return output
    }

    private static let upperHex = Array("0123456789ABCDEF".utf8)

    /// `bytes` with every byte outside the unreserved set as `%XX`: safe in a path segment and
    /// in a query value alike.
    public static func encode(_ bytes: [UInt8]) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        for byte in bytes {
            if isUnreserved(byte) {
                output.append(byte)
            } else {
                output.append(UInt8(ascii: "%"))
                output.append(upperHex[Int(byte >> 4)])
                output.append(upperHex[Int(byte & 0x0F)])
            }
        }
        return String(decoding: output, as: UTF8.self)
    }
}
