import CairnCore
import NIOHTTP1

/// The checks of one request's parts, used by `APIRequest.parse` once the route and method are
/// known. Each throws the `APIError` a client sees.
struct RequestParser {
    let headers: HTTPHeaders
    let body: [UInt8]
    let limits: APILimits
    let parameters: QueryParameters

    enum MediaType: Hashable {
        case json, octetStream
        /// `application/x-www-form-urlencoded`: what `curl -d value=…` sends (etcd v2's idiom).
        case form
    }

    // MARK: Path and query

    /// The key a path segment names: percent-decoded, 1…`maxKeyBytes` bytes.
    func key(_ segment: ArraySlice<UInt8>) throws(APIError) -> [UInt8] {
        let key: [UInt8]
        do {
            key = try PercentEncoding.decode(segment, as: .pathSegment)
        } catch {
            throw APIError(.invalidURI, "the key is not validly percent-encoded (\(error))")
        }
        guard !key.isEmpty else { throw APIError(.emptyKey, "the key is empty; keys are 1 to \(limits.maxKeyBytes) bytes") }
        guard key.count <= limits.maxKeyBytes else {
            throw APIError(
                .keyTooLong, "the key is \(key.count) bytes; keys are at most \(limits.maxKeyBytes) bytes",
                detail: ["limit": .integer(Int64(limits.maxKeyBytes)), "size": .integer(Int64(key.count))])
        }
        return key
    }

    /// `r` or `w`: absent, or an integer in `1...replicationFactor`.
    func quorum(_ name: String, replicationFactor: Int) throws(APIError) -> Int? {
        guard let text = parameters[name] else { return nil }
        guard let value = Self.decimal(text), (1...Int64(replicationFactor)).contains(value) else {
            throw APIError(
                .invalidParameter, "\(name) must be an integer in 1...\(replicationFactor) (N)",
                detail: ["parameter": .string(name), "min": 1, "max": .integer(Int64(replicationFactor))])
        }
        return Int(value)
    }

    /// The digits of a non-negative decimal integer that fits comfortably in 64 bits.
    static func decimal(_ text: [UInt8]) -> Int64? {
        guard (1...18).contains(text.count),
            text.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) })
        else { return nil }
        return text.reduce(Int64(0)) { $0 * 10 + Int64($1 - UInt8(ascii: "0")) }
    }

    func scan() throws(APIError) -> APIRequest {
        let prefix = parameters["prefix"] ?? []
        guard prefix.count <= limits.maxKeyBytes else {
            throw APIError(
                .invalidParameter, "prefix is \(prefix.count) bytes; keys are at most \(limits.maxKeyBytes) bytes",
                detail: ["parameter": "prefix", "limit": .integer(Int64(limits.maxKeyBytes))])
        }
        var limit = limits.defaultScanLimit
        if let text = parameters["limit"] {
            guard let value = Self.decimal(text), (1...Int64(limits.maxScanLimit)).contains(value) else {
                throw APIError(
                    .invalidParameter, "limit must be an integer in 1...\(limits.maxScanLimit)",
                    detail: ["parameter": "limit", "min": 1, "max": .integer(Int64(limits.maxScanLimit))])
            }
            limit = Int(value)
        }
        let after = parameters["after"]
        if let after, after.isEmpty || after.count > limits.maxKeyBytes {
            throw APIError(
                .invalidParameter, "after must be a key of 1 to \(limits.maxKeyBytes) bytes",
                detail: ["parameter": "after"])
        }
        return .scan(prefix: prefix, limit: limit, after: after, values: try boolean("values") ?? false)
    }

    enum Consistency {
        /// A linearizable read through Paxos.
        case serial
        /// This node's own copy, without a quorum or repair (an operator's or checker's view).
        case replica
    }

    /// `consistency=serial` or `consistency=replica`; nil when absent (a quorum read). Not
    /// with `r`, which neither takes.
    func consistency() throws(APIError) -> Consistency? {
        guard let text = parameters["consistency"] else { return nil }
        let consistency: Consistency
        switch String(decoding: text, as: UTF8.self) {
        case "serial": consistency = .serial
        case "replica": consistency = .replica
        default:
            throw APIError(.invalidParameter, "consistency must be serial or replica (or left out for a quorum read)",
                           detail: ["parameter": "consistency"])
        }
        guard parameters["r"] == nil else {
            let why = consistency == .serial ? "a serial read runs Paxos among the key's replicas" : "a replica read reads this node's copy"
            throw APIError(.invalidParameter, "\(why); it takes no r", detail: ["parameter": "r"])
        }
        return consistency
    }

    /// A `true`/`false` query parameter; nil when absent.
    func boolean(_ name: String) throws(APIError) -> Bool? {
        guard let text = parameters[name] else { return nil }
        switch String(decoding: text, as: UTF8.self) {
        case "true": return true
        case "false": return false
        default: throw APIError(.invalidParameter, "\(name) must be true or false", detail: ["parameter": .string(name)])
        }
    }

    // MARK: Headers

    /// The one value of header `name`, `nil` when absent; given twice is an error.
    func single(_ name: String) throws(APIError) -> String? {
        let values = headers[name]
        guard values.count <= 1 else {
            throw APIError(.invalidHeader, "header \(name) given \(values.count) times", detail: ["header": .string(name)])
        }
        return values.first
    }

    /// What a PUT or DELETE supersedes, and on what condition. It carries at most one of:
    /// `X-Cairn-Context` (what that context covers), `If-Match: <context>` (the same, provided
    /// the context is still current), `If-Match: *` (what a read quorum holds, provided it holds
    /// a live value), `If-None-Match: *` (PUT only: provided it holds none) and `blind=true`
    /// (PUT only: nothing). With none of them it is a plain write: what a read quorum holds.
    func supersedes(method: HTTPMethod) throws(APIError) -> Supersedes {
        var given: [(name: String, supersedes: Supersedes)] = []
        if try boolean("blind") == true { given.append(("blind=true", .nothing)) }
        if let context = try context(header: APIRequest.contextHeader) { given.append((APIRequest.contextHeader, .context(context))) }
        if let condition = try ifMatch() { given.append(("If-Match", condition)) }
        if try ifNoneMatch(method: method) { given.append(("If-None-Match", .currentIfAbsent)) }
        guard given.count <= 1 else {
            let names = given.map(\.name)
            throw APIError(
                given[0].name == "blind=true" ? .invalidParameter : .invalidHeader,
                "\(names.joined(separator: " and ")) each say what the write supersedes; give one of them",
                detail: given[0].name == "blind=true" ? ["parameter": "blind"] : ["header": .string(names[1])])
        }
        return given.first?.supersedes ?? .current
    }

    /// `If-Match`: `*` (`.currentIfLive`) or one causal context, bare or as an entity tag in
    /// double quotes (`.contextIfCurrent`); nil when absent. A weak tag (`W/"…"`) or a list is
    /// refused: a context matches strongly, and a write carries one.
    private func ifMatch() throws(APIError) -> Supersedes? {
        guard let text = try single("If-Match") else { return nil }
        if text == "*" { return .currentIfLive }
        guard !text.hasPrefix("W/") else {
            throw APIError(.invalidHeader, "If-Match takes a context, not a weak entity tag", detail: ["header": "If-Match"])
        }
        guard !text.contains(",") else {
            throw APIError(.invalidHeader, "If-Match takes one context (or *), not a list", detail: ["header": "If-Match"])
        }
        var token = Substring(text)
        if token.count >= 2, token.first == "\"", token.last == "\"" { token = token.dropFirst().dropLast() }
        return .contextIfCurrent(try context(String(token), header: "If-Match"))
    }

    /// `If-None-Match: *` (create only: PUT only); false when absent. An entity tag there is
    /// refused: a context says what a write supersedes, which If-Match carries.
    private func ifNoneMatch(method: HTTPMethod) throws(APIError) -> Bool {
        guard let text = try single("If-None-Match") else { return false }
        guard method == .PUT else {
            throw APIError(
                .invalidHeader, "If-None-Match: * makes a PUT create only; a DELETE takes If-Match or X-Cairn-Context",
                detail: ["header": "If-None-Match"])
        }
        guard text == "*" else {
            throw APIError(
                .invalidHeader, "If-None-Match takes only * (create the key only if it holds no value)",
                detail: ["header": "If-None-Match"])
        }
        return true
    }

    /// The causal context in header `header`; nil when the header is absent.
    func context(header: String) throws(APIError) -> CausalContext? {
        guard let text = try single(header) else { return nil }
        return try context(text, header: header)
    }

    /// The causal context `text` encodes, as header `header` carried it.
    private func context(_ text: String, header name: String) throws(APIError) -> CausalContext {
        guard !text.isEmpty else {
            throw APIError(.invalidContext, "\(name) is empty; leave the header out for a write without a context")
        }
        guard text.utf8.count <= limits.maxContextHeaderBytes else {
            throw APIError(
                .invalidContext, "\(name) is longer than \(limits.maxContextHeaderBytes) characters",
                detail: ["limit": .integer(Int64(limits.maxContextHeaderBytes))])
        }
        do {
            return try ContextSeal.current.open(text.utf8)
        } catch {
            switch error {
            case .notBase64:
                throw APIError(.invalidContext, "\(name) is not unpadded base64url; send back the value a read returned")
            case .forged:
                throw APIError(
                    .invalidContext, "\(name) was not made by this cluster (its seal does not match); send back the value a read returned")
            case .invalid(let error):
                throw APIError(
                    .invalidContext, "\(name) is not a causal context this node accepts (\(error)); send back the value a read returned")
            }
        }
    }

    /// The body's media type from `Content-Type`, JSON when absent. Parameters such as
    /// `charset` are ignored; JSON is UTF-8 by definition (RFC 8259 §8.1).
    static func mediaType(_ headers: HTTPHeaders) throws(APIError) -> MediaType {
        let values = headers["content-type"]
        guard values.count <= 1 else {
            throw APIError(.invalidHeader, "header Content-Type given \(values.count) times", detail: ["header": "Content-Type"])
        }
        guard let value = values.first else { return .json }
        let essence = value.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        switch essence.trimmingSpaces.lowercased() {
        case "application/json": return .json
        case "application/octet-stream": return .octetStream
        case "application/x-www-form-urlencoded": return .form
        default:
            throw APIError(
                .unsupportedMediaType,
                "Content-Type must be application/json, application/octet-stream or application/x-www-form-urlencoded",
                detail: ["supported": ["application/json", "application/octet-stream", "application/x-www-form-urlencoded"]])
        }
    }

    /// Raw bytes when `Accept` prefers `application/octet-stream` to `application/json`: by a
    /// higher weight, or at the same weight by naming it first; JSON otherwise, JSON being the
    /// default. A weight (`q`) of 0 means "not acceptable" (RFC 9110 §12.4.2); an item whose
    /// weight is not a number in 0...1 is passed over. Other media ranges are not looked at.
    func valueFormat() -> APIRequest.ValueFormat {
        var raw: (weight: Double, position: Int)?
        var json: (weight: Double, position: Int)?
        var position = 0
        for value in headers["accept"] {
            for item in value.split(separator: ",") {
                position += 1
                let parts = item.split(separator: ";")
                let essence = (parts.first ?? "").trimmingSpaces.lowercased()
                guard essence == "application/octet-stream" || essence == "application/json" else { continue }
                guard let weight = Self.weight(parameters: parts.dropFirst()) else { continue }
                if essence == "application/octet-stream" {
                    if raw == nil { raw = (weight, position) }
                } else if json == nil {
                    json = (weight, position)
                }
            }
        }
        guard let raw, raw.weight > 0 else { return .json }
        guard let json, json.weight > 0 else { return .raw }
        return raw.weight > json.weight || (raw.weight == json.weight && raw.position < json.position) ? .raw : .json
    }

    /// The weight the `q` parameter among `parameters` gives (1 without one); nil when it is not
    /// a number in 0...1.
    private static func weight(parameters: ArraySlice<Substring>) -> Double? {
        for parameter in parameters {
            let pair = parameter.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard pair.count == 2, pair[0].trimmingSpaces.lowercased() == "q" else { continue }
            guard let weight = Double(pair[1].trimmingSpaces), (0...1).contains(weight) else { return nil }
            return weight
        }
        return 1
    }

    // MARK: Bodies

    func expectNoBody() throws(APIError) {
        guard body.isEmpty else {
            throw APIError(.unexpectedBody, "this request takes no body; it had \(body.count) bytes")
        }
    }

    /// The value and TTL of a PUT: a JSON object, or the raw body with `?ttl=`.
    func putBody() throws(APIError) -> (value: [UInt8], ttlSeconds: Int64?) {
        switch try Self.mediaType(headers) {
        case .octetStream:
            try checkValueSize(body.count)
            var ttlSeconds: Int64?
            if let text = parameters["ttl"] {
                guard let value = Self.decimal(text) else { throw ttlError() }
                ttlSeconds = try checkTTL(value)
            }
            return (body, ttlSeconds)
        case .form:
            guard parameters["ttl"] == nil else {
                throw APIError(.invalidTTL, "with a form body the TTL goes in the form's ttl field, not in the query")
            }
            let fields = try formFields(allowed: ["value", "ttl"])
            guard let value = fields["value"] else {
                throw APIError(.invalidBody, "a form body needs a value field: -d value=…")
            }
            try checkValueSize(value.count)
            var ttlSeconds: Int64?
            if let text = fields["ttl"] {
                guard let seconds = Self.decimal(text) else { throw ttlError() }
                ttlSeconds = try checkTTL(seconds)
            }
            return (value, ttlSeconds)
        case .json:
            guard parameters["ttl"] == nil else {
                throw APIError(.invalidTTL, "with a JSON body the TTL goes in the body's \"ttl\" member, not in the query")
            }
            let object = try jsonObject(allowed: ["value", "value_base64", "ttl"])
            guard let value = try valueMember(object, text: "value", base64: "value_base64", nullable: false) else {
                throw APIError(.invalidBody, "\"value\" must be a string")
            }
            var ttlSeconds: Int64?
            switch object["ttl"] {
            case nil, .null?: break
            case .integer(let seconds)?: ttlSeconds = try checkTTL(seconds)
            default: throw ttlError()
            }
            return (value, ttlSeconds)
        }
    }

    /// The fields of an `application/x-www-form-urlencoded` body (WHATWG URL, "urlencoded
    /// parsing": `&`-separated `name=value`, `+` for a space, `%XX` escapes), each at most once
    /// and each one of `allowed`.
    private func formFields(allowed: Set<String>) throws(APIError) -> [String: [UInt8]] {
        var fields: [String: [UInt8]] = [:]
        for part in body.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let equals = part.firstIndex(of: UInt8(ascii: "=")) ?? part.endIndex
            let name = String(decoding: try Self.formDecode(part[..<equals]), as: UTF8.self)
            guard allowed.contains(name) else {
                throw APIError(.invalidBody, """
                    unknown form field; a form body (curl -d) takes \(allowed.sorted().joined(separator: " and ")), \
                    as in -d value=hello; to store the body as it is, send Content-Type: application/octet-stream
                    """)
            }
            guard fields[name] == nil else { throw APIError(.invalidBody, "form field \(name) given twice") }
            fields[name] = try Self.formDecode(equals == part.endIndex ? [] : part[(equals + 1)...])
        }
        return fields
    }

    private static func formDecode(_ text: ArraySlice<UInt8>) throws(APIError) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(text.count)
        var index = text.startIndex
        while index < text.endIndex {
            let byte = text[index]
            if byte == UInt8(ascii: "+") {
                output.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%") {
                guard text.distance(from: index, to: text.endIndex) >= 3,
                      let high = hexDigit(text[index + 1]), let low = hexDigit(text[index + 2]) else {
                    throw APIError(.invalidBody, "a form body has a '%' not followed by two hex digits")
                }
                output.append(high << 4 | low)
                index += 2
            } else {
                output.append(byte)
            }
            index += 1
        }
        return output
    }

    private static func hexDigit(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// A CAS body: the expected and new values (`nil` stands for absent), or, with
    /// `"force": true` and no expected value, an unconditional linearizable write.
    func casRequest(key: [UInt8]) throws(APIError) -> APIRequest {
        guard try Self.mediaType(headers) == .json else {
            throw APIError(.unsupportedMediaType, "a CAS body is JSON", detail: ["supported": ["application/json"]])
        }
        let object = try jsonObject(allowed: ["expected", "expected_base64", "value", "value_base64", "force"])
        let force: Bool
        switch object["force"] {
        case nil, .bool(false)?: force = false
        case .bool(true)?: force = true
        default: throw APIError(.invalidBody, "\"force\" must be true or false", detail: ["member": "force"])
        }
        let new = try valueMember(object, text: "value", base64: "value_base64", nullable: true)
        if force {
            guard object["expected"] == nil, object["expected_base64"] == nil else {
                throw APIError(.invalidBody, "a forced CAS writes whatever the key holds: leave \"expected\" out", detail: ["member": "force"])
            }
            return .casWrite(key: key, new: new)
        }
        let expected = try valueMember(object, text: "expected", base64: "expected_base64", nullable: true)
        return .cas(key: key, expected: expected, new: new)
    }

    /// The most bytes a node name in an admin body may have. A node id is 32 hex digits and a
    /// `host:port` is rarely longer than 60, so anything past this is a mistake, not a node.
    static let maxNodeNameBytes = 256

    func jsonObject(allowed: Set<String>) throws(APIError) -> [String: JSONValue] {
        let document: JSONValue
        do {
            document = try JSONParser.parse(body)
        } catch {
            throw APIError(.invalidJSON, "the body is not valid JSON: \(error)", detail: ["offset": .integer(Int64(error.offset))])
        }
        guard case .object(let members) = document else {
            throw APIError(.invalidBody, "the body must be a JSON object")
        }
        if let unknown = members.keys.sorted().first(where: { !allowed.contains($0) }) {
            let name = String(unknown.prefix(64))
            throw APIError(
                .invalidBody, "unknown member \"\(name)\"; the body takes \(allowed.sorted().joined(separator: ", "))",
                detail: ["member": .string(name)])
        }
        return members
    }

    /// A value given as text (`text`, UTF-8) or as standard base64 (`base64`): exactly one of
    /// them; `null` means absent where `nullable`.
    private func valueMember(
        _ object: [String: JSONValue], text: String, base64: String, nullable: Bool
    ) throws(APIError) -> [UInt8]? {
        let bytes: [UInt8]?
        switch (object[text], object[base64]) {
        case (nil, nil):
            throw APIError(.invalidBody, "the body needs \"\(text)\" or \"\(base64)\"", detail: ["member": .string(text)])
        case (.some, .some):
            throw APIError(.invalidBody, "give \"\(text)\" or \"\(base64)\", not both", detail: ["member": .string(text)])
        case (.string(let string)?, nil):
            bytes = Array(string.utf8)
        case (nil, .string(let string)?):
            guard let decoded = Base64.decode(string.utf8, .standard) else {
                throw APIError(
                    .invalidBase64, "\"\(base64)\" is not padded standard base64 (RFC 4648 §4)",
                    detail: ["member": .string(base64)])
            }
            bytes = decoded
        case (.null?, nil) where nullable, (nil, .null?) where nullable:
            bytes = nil
        default:
            let name = object[text] != nil ? text : base64
            throw APIError(
                .invalidBody, "\"\(name)\" must be a string\(nullable ? " or null" : "")", detail: ["member": .string(name)])
        }
        if let bytes { try checkValueSize(bytes.count) }
        return bytes
    }

    private func checkValueSize(_ size: Int) throws(APIError) {
        guard size <= limits.maxValueBytes else {
            throw APIError(
                .valueTooLarge, "the value is \(size) bytes; values are at most \(limits.maxValueBytes) bytes",
                detail: ["limit": .integer(Int64(limits.maxValueBytes)), "size": .integer(Int64(size))])
        }
    }

    private func checkTTL(_ seconds: Int64) throws(APIError) -> Int64 {
        guard (1...limits.maxTTLSeconds).contains(seconds) else { throw ttlError() }
        return seconds
    }

    private func ttlError() -> APIError {
        APIError(
            .invalidTTL, "ttl must be an integer number of seconds in 1...\(limits.maxTTLSeconds)",
            detail: ["min": 1, "max": .integer(limits.maxTTLSeconds)])
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs (HTTP's optional whitespace).
    var trimmingSpaces: Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        let string = Substring(self)
        guard let first = string.firstIndex(where: { !isSpace($0) }), let last = string.lastIndex(where: { !isSpace($0) })
        else { return "" }
        return string[first...last]
    }
}
