/// One answer of the Redis protocol, before it is encoded.
///
/// RESP2 (the Redis serialization protocol every client speaks) has five types: simple
/// strings, errors, integers, bulk strings and arrays, with a null bulk string for "no value".
/// RESP3 (which a client asks for with `HELLO 3`) adds, among others, a null of its own and
/// maps; `encode(into:protocol:)` writes a map as a flat array of keys and values, and either
/// null as the null bulk string, for a RESP2 client. The types follow the Redis protocol
/// specification ("Redis serialization protocol specification", redis.io docs).
public indirect enum RESPValue: Hashable, Sendable {
    /// `+OK`: a short status line without CR or LF.
    case simpleString(String)
    /// `-CODE message`: a failure the client is told about (`RESPError`).
    case error(RESPError)
    /// `:42`.
    case integer(Int64)
    /// `$3\r\nfoo`: binary-safe bytes.
    case bulk([UInt8])
    /// No value: `$-1` in RESP2, `_` in RESP3 (a missing key's GET).
    case null
    /// `*2 …`.
    case array([RESPValue])
    /// `%1 …` in RESP3; a flat array of alternating keys and values in RESP2 (as Redis sends
    /// `HELLO`'s and `CONFIG GET`'s answers).
    case map([(RESPValue, RESPValue)])

    /// The `+OK` most writes answer.
    public static let ok = RESPValue.simpleString("OK")

    /// A bulk string of UTF-8 text.
    public static func bulk(_ text: String) -> RESPValue { .bulk(Array(text.utf8)) }

    /// An array of bulk strings.
    public static func bulks(_ values: [[UInt8]]) -> RESPValue { .array(values.map(RESPValue.bulk)) }

    public static func == (a: RESPValue, b: RESPValue) -> Bool {
        switch (a, b) {
        case (.simpleString(let x), .simpleString(let y)): x == y
        case (.error(let x), .error(let y)): x == y
        case (.integer(let x), .integer(let y)): x == y
        case (.bulk(let x), .bulk(let y)): x == y
        case (.null, .null): true
        case (.array(let x), .array(let y)): x == y
        case (.map(let x), .map(let y)): x.map(\.0) == y.map(\.0) && x.map(\.1) == y.map(\.1)
        default: false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .simpleString(let text): hasher.combine(0); hasher.combine(text)
        case .error(let error): hasher.combine(1); hasher.combine(error)
        case .integer(let value): hasher.combine(2); hasher.combine(value)
        case .bulk(let bytes): hasher.combine(3); hasher.combine(bytes)
        case .null: hasher.combine(4)
        case .array(let elements): hasher.combine(5); hasher.combine(elements)
        case .map(let pairs):
            hasher.combine(6)
            for (key, value) in pairs {
                hasher.combine(key)
                hasher.combine(value)
            }
        }
    }
}

/// The protocol version a connection speaks: 2 until the client says `HELLO 3`.
public enum RESPVersion: Int, Hashable, Sendable {
    case resp2 = 2
    case resp3 = 3
}
