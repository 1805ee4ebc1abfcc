/// A JSON document: what the API reads from request bodies and writes in responses.
///
/// Cairn carries its own small JSON reader and writer instead of Foundation's: requests are
/// judged strictly (an integer is not a float and not a boolean, duplicate member names and lone
/// surrogates are refused, nesting is bounded), the output is canonical (members sorted by
/// name), and the node does not link Foundation for the sake of three fields.
public enum JSONValue: Hashable, Sendable {
    case null
    case bool(Bool)
    /// A number written without fraction or exponent that fits in 64 bits.
    case integer(Int64)
    /// Any other number. Rendering writes a non-finite one as `null`, which JSON cannot express.
    case number(Double)
    case string(String)
    case array([JSONValue])
    /// Members by name; rendered sorted by name, so equal objects render to equal bytes.
    case object([String: JSONValue])

    /// The member `name` of an object, `nil` for a missing member or a non-object.
    public subscript(name: String) -> JSONValue? {
        if case .object(let members) = self { return members[name] }
        return nil
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .integer(value) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(nilLiteral: ()) { self = .null }

    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        var members: [String: JSONValue] = [:]
        for (name, value) in elements {
            precondition(members[name] == nil, "duplicate JSON member \(name) in a literal")
            members[name] = value
        }
        self = .object(members)
    }
}
