import CairnCore
import NIOHTTP1
import Testing

@testable import CairnHTTP

/// Table tests of `APIRequest.parse`: what each well-formed request becomes, and the code of
/// the 4xx every malformed one gets.
@Suite struct APIRequestParsingTests {
    static let limits = APILimits(maxKeyBytes: 8, maxValueBytes: 16, maxTTLSeconds: 1000, maxScanLimit: 50, defaultScanLimit: 10)

    static let context = CausalContext([ReplicaActor(node: NodeID(high: 1, low: 2), epoch: 3): 7])
    static let token = ContextSeal.current.token(context)

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var method: HTTPMethod
        var uri: String
        var headers: [(String, String)] = []
        var body: [UInt8] = []
        var testDescription: String { name }

        init(_ name: String, _ method: HTTPMethod, _ uri: String, headers: [(String, String)] = [], body: String = "") {
            self.name = name
            self.method = method
            self.uri = uri
            self.headers = headers
            self.body = Array(body.utf8)
        }

        init(_ name: String, _ method: HTTPMethod, _ uri: String, headers: [(String, String)] = [], bytes: [UInt8]) {
            self.init(name, method, uri, headers: headers)
            self.body = bytes
        }

        func parse() -> Result<APIRequest, APIError> {
            Result { () throws(APIError) in
                try APIRequest.parse(
                    method: method, uri: uri, headers: HTTPHeaders(headers), body: body, limits: APIRequestParsingTests.limits,
                    replicationFactor: 3)
            }
        }
    }

    static let json = [("Content-Type", "application/json")]
    static let raw = [("Content-Type", "application/octet-stream")]
    static let form = [("Content-Type", "application/x-www-form-urlencoded")]

    static let valid: [(Case, APIRequest)] = [
        (Case("get", .GET, "/v1/keys/abc"), .get(key: Array("abc".utf8), r: nil, format: .json)),
        (Case("get with r", .GET, "/v1/keys/abc?r=3"), .get(key: Array("abc".utf8), r: 3, format: .json)),
        (Case("serial get", .GET, "/v1/keys/abc?consistency=serial"), .serialGet(key: Array("abc".utf8), format: .json)),
        (Case("replica get", .GET, "/v1/keys/abc?consistency=replica"), .replicaGet(key: Array("abc".utf8), format: .json)),
        (
            Case("get raw", .GET, "/v1/keys/abc", headers: [("Accept", "application/octet-stream")]),
            .get(key: Array("abc".utf8), r: nil, format: .raw)
        ),
        (
            Case("get prefers json listed first", .GET, "/v1/keys/k", headers: [("Accept", "application/json, application/octet-stream")]),
            .get(key: Array("k".utf8), r: nil, format: .json)
        ),
        (
            Case("get raw preferred by weight", .GET, "/v1/keys/k", headers: [("Accept", "application/json;q=0.5, application/octet-stream")]),
            .get(key: Array("k".utf8), r: nil, format: .raw)
        ),
        (
            Case("get json preferred by weight", .GET, "/v1/keys/k", headers: [("Accept", "application/octet-stream; q=0.9, application/json")]),
            .get(key: Array("k".utf8), r: nil, format: .json)
        ),
        (
            Case("get octet-stream not acceptable", .GET, "/v1/keys/k", headers: [("Accept", "application/octet-stream;q=0")]),
            .get(key: Array("k".utf8), r: nil, format: .json)
        ),
        (
            Case("get json not acceptable", .GET, "/v1/keys/k", headers: [("Accept", "application/json;q=0.000, application/octet-stream;q=0.1")]),
            .get(key: Array("k".utf8), r: nil, format: .raw)
        ),
        (
            Case("get weight not a number", .GET, "/v1/keys/k", headers: [("Accept", "application/octet-stream;q=high")]),
            .get(key: Array("k".utf8), r: nil, format: .json)
        ),
        (Case("get any media type", .GET, "/v1/keys/k", headers: [("Accept", "*/*")]), .get(key: Array("k".utf8), r: nil, format: .json)),
        (Case("percent-decoded binary key", .GET, "/v1/keys/%00%FFa%2Fb"), .get(key: [0, 0xFF, 0x61, 0x2F, 0x62], r: nil, format: .json)),
        (Case("sub-delims in a key", .GET, "/v1/keys/a+b:c@"), .get(key: Array("a+b:c@".utf8), r: nil, format: .json)),
        (Case("key of exactly the limit", .GET, "/v1/keys/12345678"), .get(key: Array("12345678".utf8), r: nil, format: .json)),
        (Case("key named cas", .GET, "/v1/keys/cas"), .get(key: Array("cas".utf8), r: nil, format: .json)),
        (
            Case("put json", .PUT, "/v1/keys/k?w=1", headers: json, body: #"{"value": "hé\n", "ttl": 60}"#),
            .put(key: Array("k".utf8), value: Array("hé\n".utf8), ttlSeconds: 60, supersedes: .current, w: 1)
        ),
        (
            Case("put json without content type", .PUT, "/v1/keys/k", body: #"{"value":"v","ttl":null}"#),
            .put(key: Array("k".utf8), value: Array("v".utf8), ttlSeconds: nil, supersedes: .current, w: nil)
        ),
        (
            Case("put json with charset", .PUT, "/v1/keys/k", headers: [("Content-Type", "Application/JSON; charset=utf-8")], body: #"{"value":""}"#),
            .put(key: Array("k".utf8), value: [], ttlSeconds: nil, supersedes: .current, w: nil)
        ),
        (
            Case("put base64", .PUT, "/v1/keys/k", headers: json, body: #"{"value_base64":"AP8="}"#),
            .put(key: Array("k".utf8), value: [0, 0xFF], ttlSeconds: nil, supersedes: .current, w: nil)
        ),
        (
            Case("put with context", .PUT, "/v1/keys/k", headers: json + [("X-Cairn-Context", token)], body: #"{"value":"v"}"#),
            .put(key: Array("k".utf8), value: Array("v".utf8), ttlSeconds: nil, supersedes: .context(context), w: nil)
        ),
        (
            Case("put raw with ttl", .PUT, "/v1/keys/k?ttl=1000&w=3", headers: raw, bytes: [0, 1, 2]),
            .put(key: Array("k".utf8), value: [0, 1, 2], ttlSeconds: 1000, supersedes: .current, w: 3)
        ),
        (
            Case("put raw of exactly the limit", .PUT, "/v1/keys/k", headers: raw, bytes: Array(repeating: 7, count: 16)),
            .put(key: Array("k".utf8), value: Array(repeating: 7, count: 16), ttlSeconds: nil, supersedes: .current, w: nil)
        ),
        (
            Case("put form, as curl -d sends it", .PUT, "/v1/keys/k", headers: form, body: "value=hi you+2%21&ttl=30"),
            .put(key: Array("k".utf8), value: Array("hi you 2!".utf8), ttlSeconds: 30, supersedes: .current, w: nil)
        ),
        (
            Case("put form with an empty value", .PUT, "/v1/keys/k", headers: form, body: "value="),
            .put(key: Array("k".utf8), value: [], ttlSeconds: nil, supersedes: .current, w: nil)
        ),
        (
            Case("put blind", .PUT, "/v1/keys/k?blind=true", headers: json, body: #"{"value":"v"}"#),
            .put(key: Array("k".utf8), value: Array("v".utf8), ttlSeconds: nil, supersedes: .nothing, w: nil)
        ),
        (
            Case("put blind=false is plain", .PUT, "/v1/keys/k?blind=false", headers: json, body: #"{"value":"v"}"#),
            .put(key: Array("k".utf8), value: Array("v".utf8), ttlSeconds: nil, supersedes: .current, w: nil)
        ),
        (
            Case("put if-match a context", .PUT, "/v1/keys/k", headers: [("If-Match", token)], body: #"{"value":"v"}"#),
            .put(key: Array("k".utf8), value: Array("v".utf8), ttlSeconds: nil, supersedes: .contextIfCurrent(context), w: nil)
        ),
        (
            Case("put if-match a quoted context", .PUT, "/v1/keys/k", headers: [("if-match", "\"\(token)\"")], body: #"{"value":"v"}"#),
            .put(key: Array("k".utf8), value: Array("v".utf8), ttlSeconds: nil, supersedes: .contextIfCurrent(context), w: nil)
        ),
        (
            Case("put if-match any", .PUT, "/v1/keys/k", headers: raw + [("If-Match", "*")], bytes: [1]),
            .put(key: Array("k".utf8), value: [1], ttlSeconds: nil, supersedes: .currentIfLive, w: nil)
        ),
        (
            Case("put if-none-match any", .PUT, "/v1/keys/k?blind=false", headers: form + [("If-None-Match", "*")], body: "value=v"),
            .put(key: Array("k".utf8), value: Array("v".utf8), ttlSeconds: nil, supersedes: .currentIfAbsent, w: nil)
        ),
        (Case("plain delete", .DELETE, "/v1/keys/k"), .delete(key: Array("k".utf8), supersedes: .current, w: nil)),
        (
            Case("delete if-match a context", .DELETE, "/v1/keys/k", headers: [("If-Match", token)]),
            .delete(key: Array("k".utf8), supersedes: .contextIfCurrent(context), w: nil)
        ),
        (Case("delete if-match any", .DELETE, "/v1/keys/k", headers: [("If-Match", "*")]), .delete(key: Array("k".utf8), supersedes: .currentIfLive, w: nil)),
        (Case("if-none-match on a get is not a write's", .GET, "/v1/keys/k", headers: [("If-None-Match", "*")]), .get(key: Array("k".utf8), r: nil, format: .json)),
        (
            Case("delete", .DELETE, "/v1/keys/k?w=2", headers: [("x-cairn-context", token)]),
            .delete(key: Array("k".utf8), supersedes: .context(context), w: 2)
        ),
        (Case("scan defaults", .GET, "/v1/keys"), .scan(prefix: [], limit: 10, after: nil, values: false)),
        (Case("scan with values", .GET, "/v1/keys?values=true"), .scan(prefix: [], limit: 10, after: nil, values: true)),
        (
            Case("scan all parameters", .GET, "/v1/keys?prefix=us%2Fer+&limit=50&after=us%2Fa&"),
            .scan(prefix: Array("us/er+".utf8), limit: 50, after: Array("us/a".utf8), values: false)
        ),
        (
            Case("cas create if absent", .POST, "/v1/keys/k/cas", headers: json, body: #"{"expected":null,"value":"v"}"#),
            .cas(key: Array("k".utf8), expected: nil, new: Array("v".utf8))
        ),
        (
            Case("cas binary delete", .POST, "/v1/keys/k/cas", body: #"{"expected_base64":"AA==","value":null}"#),
            .cas(key: Array("k".utf8), expected: [0], new: nil)
        ),
        (Case("cluster", .GET, "/v1/cluster"), .clusterStatus),
        (Case("partitions", .GET, "/v1/cluster/partitions"), .clusterPartitions),
        (Case("status page", .GET, "/ui"), .statusPage),
        (Case("status page at the root", .GET, "/"), .statusPage),
        (Case("leave this node, no body", .POST, "/v1/cluster/leave"), .leave(node: nil)),
        (Case("leave this node, empty object", .POST, "/v1/cluster/leave", headers: json, body: "{}"), .leave(node: nil)),
        (Case("leave this node, null", .POST, "/v1/cluster/leave", body: #"{"node": null}"#), .leave(node: nil)),
        (Case("leave by address", .POST, "/v1/cluster/leave", headers: json, body: #"{"node":"10.0.0.2:7080"}"#), .leave(node: "10.0.0.2:7080")),
        (
            Case("remove by id", .POST, "/v1/cluster/remove", headers: json, body: #"{"node":"000000000000000a0000000000000001"}"#),
            .remove(node: "000000000000000a0000000000000001")
        ),
        (Case("remove by IPv6 address", .POST, "/v1/cluster/remove", body: #"{"node":"[::1]:7081"}"#), .remove(node: "[::1]:7081")),
        (Case("health", .GET, "/health"), .health),
        (Case("metrics", .GET, "/metrics"), .metrics),
    ]

    @Test(arguments: zip(valid.map(\.0), valid.map(\.1)))
    func wellFormedRequestsParse(_ testCase: Case, expected: APIRequest) throws {
        #expect(try testCase.parse().get() == expected)
    }

    static let malformed: [(Case, APIError.Code)] = [
        // Routing.
        (Case("unknown path", .GET, "/v2/keys/k"), .notFound),
        (Case("key with a slash", .GET, "/v1/keys/a/b"), .notFound),
        (Case("unknown path", .GET, "/v2"), .notFound),
        (Case("absolute form", .GET, "http://host/v1/keys/k"), .invalidURI),
        (Case("asterisk form", .OPTIONS, "*"), .invalidURI),
        (Case("wrong method on key", .POST, "/v1/keys/k"), .methodNotAllowed),
        (Case("wrong method on scan", .DELETE, "/v1/keys"), .methodNotAllowed),
        (Case("wrong method on cas", .GET, "/v1/keys/k/cas"), .methodNotAllowed),
        (Case("HEAD", .HEAD, "/health"), .methodNotAllowed),
        (Case("wrong method on metrics", .PUT, "/metrics", body: "{}"), .methodNotAllowed),
        // Keys.
        (Case("empty key", .GET, "/v1/keys/"), .emptyKey),
        (Case("empty key for cas", .POST, "/v1/keys//cas", body: #"{"expected":null,"value":"v"}"#), .emptyKey),
        (Case("oversize key", .GET, "/v1/keys/123456789"), .keyTooLong),
        (Case("oversize after decoding", .DELETE, "/v1/keys/%41%41%41%41%41%41%41%41%41"), .keyTooLong),
        (Case("truncated escape", .GET, "/v1/keys/ab%4"), .invalidURI),
        (Case("non-hex escape", .GET, "/v1/keys/ab%zz"), .invalidURI),
        (Case("lone percent", .GET, "/v1/keys/%"), .invalidURI),
        (Case("raw space", .GET, "/v1/keys/a b"), .invalidURI),
        (Case("raw non-ASCII", .GET, "/v1/keys/é"), .invalidURI),
        (Case("fragment", .GET, "/v1/keys/a#b"), .invalidURI),
        // Parameters.
        (Case("unknown parameter", .GET, "/v1/keys/k?x=1"), .unknownParameter),
        (Case("w on a read", .GET, "/v1/keys/k?w=1"), .unknownParameter),
        (Case("parameter on health", .GET, "/health?verbose=1"), .unknownParameter),
        (Case("duplicate parameter", .GET, "/v1/keys/k?r=1&r=2"), .duplicateParameter),
        (Case("parameter without value", .GET, "/v1/keys/k?r"), .invalidParameter),
        (Case("r zero", .GET, "/v1/keys/k?r=0"), .invalidParameter),
        (Case("r above N", .GET, "/v1/keys/k?r=4"), .invalidParameter),
        (Case("r negative", .GET, "/v1/keys/k?r=-1"), .invalidParameter),
        (Case("r not a number", .GET, "/v1/keys/k?r=two"), .invalidParameter),
        (Case("r empty", .GET, "/v1/keys/k?r="), .invalidParameter),
        (Case("w huge", .DELETE, "/v1/keys/k?w=99999999999999999999999"), .invalidParameter),
        (Case("scan limit zero", .GET, "/v1/keys?limit=0"), .invalidParameter),
        (Case("scan limit above max", .GET, "/v1/keys?limit=51"), .invalidParameter),
        (Case("scan prefix too long", .GET, "/v1/keys?prefix=123456789"), .invalidParameter),
        (Case("scan empty after", .GET, "/v1/keys?after="), .invalidParameter),
        (Case("bad escape in query", .GET, "/v1/keys?prefix=%G0"), .invalidURI),
        // TTL.
        (Case("ttl zero", .PUT, "/v1/keys/k", body: #"{"value":"v","ttl":0}"#), .invalidTTL),
        (Case("ttl negative", .PUT, "/v1/keys/k", body: #"{"value":"v","ttl":-5}"#), .invalidTTL),
        (Case("ttl above max", .PUT, "/v1/keys/k", body: #"{"value":"v","ttl":1001}"#), .invalidTTL),
        (Case("ttl huge", .PUT, "/v1/keys/k", body: #"{"value":"v","ttl":123456789012345678901234567890}"#), .invalidTTL),
        (Case("ttl fractional", .PUT, "/v1/keys/k", body: #"{"value":"v","ttl":1.5}"#), .invalidTTL),
        (Case("ttl exponent", .PUT, "/v1/keys/k", body: #"{"value":"v","ttl":1e2}"#), .invalidTTL),
        (Case("ttl string", .PUT, "/v1/keys/k", body: #"{"value":"v","ttl":"60"}"#), .invalidTTL),
        (Case("ttl boolean", .PUT, "/v1/keys/k", body: #"{"value":"v","ttl":true}"#), .invalidTTL),
        (Case("query ttl with json", .PUT, "/v1/keys/k?ttl=5", body: #"{"value":"v"}"#), .invalidTTL),
        (Case("raw ttl negative", .PUT, "/v1/keys/k?ttl=-1", headers: raw, body: "v"), .invalidTTL),
        (Case("raw ttl zero", .PUT, "/v1/keys/k?ttl=0", headers: raw, body: "v"), .invalidTTL),
        (Case("raw ttl huge", .PUT, "/v1/keys/k?ttl=99999999999999999999", headers: raw, body: "v"), .invalidTTL),
        // Context.
        (Case("empty context", .PUT, "/v1/keys/k", headers: [("X-Cairn-Context", "")], body: #"{"value":"v"}"#), .invalidContext),
        (Case("context not base64url", .PUT, "/v1/keys/k", headers: [("X-Cairn-Context", "a+b/")], body: #"{"value":"v"}"#), .invalidContext),
        (Case("context padded", .DELETE, "/v1/keys/k", headers: [("X-Cairn-Context", token + "=")]), .invalidContext),
        (Case("context not a context", .DELETE, "/v1/keys/k", headers: [("X-Cairn-Context", "AAAA")]), .invalidContext),
        (Case("context unsealed", .DELETE, "/v1/keys/k", headers: [("X-Cairn-Context", Base64.encode(context.encode(), .url))]), .invalidContext),
        (
            Case("context sealed by another cluster", .DELETE, "/v1/keys/k",
                 headers: [("X-Cairn-Context", ContextSeal(secret: Array(repeating: 7, count: 16), clusterName: "cairn").token(context))]),
            .invalidContext
        ),
        (
            Case("context truncated", .DELETE, "/v1/keys/k", headers: [("X-Cairn-Context", Base64.encode(Array(context.encode().dropLast()), .url))]),
            .invalidContext
        ),
        (
            Case("context given twice", .DELETE, "/v1/keys/k", headers: [("X-Cairn-Context", token), ("X-Cairn-Context", token)]),
            .invalidHeader
        ),
        (
            Case("context too long", .DELETE, "/v1/keys/k", headers: [("X-Cairn-Context", String(repeating: "A", count: 90_000))]),
            .invalidContext
        ),
        (Case("unknown consistency", .GET, "/v1/keys/k?consistency=quorum"), .invalidParameter),
        (Case("replica read with r", .GET, "/v1/keys/k?consistency=replica&r=1"), .invalidParameter),
        // Bodies.
        (Case("bad json", .PUT, "/v1/keys/k", headers: json, body: #"{"value": "v""#), .invalidJSON),
        (Case("empty json body", .PUT, "/v1/keys/k", headers: json), .invalidJSON),
        (Case("trailing garbage", .PUT, "/v1/keys/k", body: #"{"value":"v"} x"#), .invalidJSON),
        (Case("duplicate member", .PUT, "/v1/keys/k", body: #"{"value":"a","value":"b"}"#), .invalidJSON),
        (Case("lone surrogate", .PUT, "/v1/keys/k", body: #"{"value":"\ud800"}"#), .invalidJSON),
        (Case("invalid UTF-8", .PUT, "/v1/keys/k", bytes: Array(#"{"value":""#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8)), .invalidJSON),
        (Case("body not an object", .PUT, "/v1/keys/k", body: #"["v"]"#), .invalidBody),
        (Case("missing value", .PUT, "/v1/keys/k", body: #"{"ttl":5}"#), .invalidBody),
        (Case("form without value", .PUT, "/v1/keys/k", headers: form, body: "ttl=5"), .invalidBody),
        (Case("form with an unknown field", .PUT, "/v1/keys/k", headers: form, body: "value=a&colour=red"), .invalidBody),
        (Case("form field twice", .PUT, "/v1/keys/k", headers: form, body: "value=a&value=b"), .invalidBody),
        (Case("form with a bad escape", .PUT, "/v1/keys/k", headers: form, body: "value=%4"), .invalidBody),
        (Case("form ttl not a number", .PUT, "/v1/keys/k", headers: form, body: "value=a&ttl=soon"), .invalidTTL),
        (Case("form ttl in the query", .PUT, "/v1/keys/k?ttl=5", headers: form, body: "value=a"), .invalidTTL),
        (Case("values not a boolean", .GET, "/v1/keys?values=1"), .invalidParameter),
        (Case("blind not a boolean", .PUT, "/v1/keys/k?blind=yes", body: #"{"value":"v"}"#), .invalidParameter),
        (Case("blind with a context", .PUT, "/v1/keys/k?blind=true", headers: [("X-Cairn-Context", token)], body: #"{"value":"v"}"#), .invalidParameter),
        (Case("blind on a delete", .DELETE, "/v1/keys/k?blind=true"), .unknownParameter),
        // Conditions.
        (Case("if-match not a context", .PUT, "/v1/keys/k", headers: [("If-Match", "AAAA")], body: #"{"value":"v"}"#), .invalidContext),
        (Case("if-match empty", .DELETE, "/v1/keys/k", headers: [("If-Match", "")]), .invalidContext),
        (Case("if-match empty quotes", .DELETE, "/v1/keys/k", headers: [("If-Match", "\"\"")]), .invalidContext),
        (Case("if-match weak", .PUT, "/v1/keys/k", headers: [("If-Match", "W/\"\(token)\"")], body: #"{"value":"v"}"#), .invalidHeader),
        (Case("if-match a list", .PUT, "/v1/keys/k", headers: [("If-Match", "\"\(token)\", \"\(token)\"")], body: #"{"value":"v"}"#), .invalidHeader),
        (Case("if-match twice", .DELETE, "/v1/keys/k", headers: [("If-Match", "*"), ("If-Match", token)]), .invalidHeader),
        (Case("if-match with a context", .PUT, "/v1/keys/k", headers: [("If-Match", token), ("X-Cairn-Context", token)], body: #"{"value":"v"}"#), .invalidHeader),
        (Case("if-match and if-none-match", .PUT, "/v1/keys/k", headers: [("If-Match", "*"), ("If-None-Match", "*")], body: #"{"value":"v"}"#), .invalidHeader),
        (Case("if-none-match with a context", .PUT, "/v1/keys/k", headers: [("If-None-Match", "*"), ("X-Cairn-Context", token)], body: #"{"value":"v"}"#), .invalidHeader),
        (Case("blind with if-none-match", .PUT, "/v1/keys/k?blind=true", headers: [("If-None-Match", "*")], body: #"{"value":"v"}"#), .invalidParameter),
        (Case("if-none-match a context", .PUT, "/v1/keys/k", headers: [("If-None-Match", token)], body: #"{"value":"v"}"#), .invalidHeader),
        (Case("if-none-match on a delete", .DELETE, "/v1/keys/k", headers: [("If-None-Match", "*")]), .invalidHeader),
        (Case("both value forms", .PUT, "/v1/keys/k", body: #"{"value":"a","value_base64":"YQ=="}"#), .invalidBody),
        (Case("value not a string", .PUT, "/v1/keys/k", body: #"{"value":5}"#), .invalidBody),
        (Case("value null", .PUT, "/v1/keys/k", body: #"{"value":null}"#), .invalidBody),
        (Case("unknown member", .PUT, "/v1/keys/k", body: #"{"value":"v","tll":5}"#), .invalidBody),
        (Case("bad base64", .PUT, "/v1/keys/k", body: #"{"value_base64":"a$=="}"#), .invalidBase64),
        (Case("unpadded base64", .PUT, "/v1/keys/k", body: #"{"value_base64":"YQ"}"#), .invalidBase64),
        (Case("base64url in a body", .PUT, "/v1/keys/k", body: #"{"value_base64":"_w=="}"#), .invalidBase64),
        (Case("oversize json value", .PUT, "/v1/keys/k", body: #"{"value":"12345678901234567"}"#), .valueTooLarge),
        (Case("oversize base64 value", .PUT, "/v1/keys/k", body: #"{"value_base64":"\#(Base64.encode(Array(repeating: 1, count: 17), .standard))"}"#), .valueTooLarge),
        (Case("oversize raw value", .PUT, "/v1/keys/k", headers: raw, bytes: Array(repeating: 0, count: 17)), .valueTooLarge),
        (Case("text content type", .PUT, "/v1/keys/k", headers: [("Content-Type", "text/plain")], body: "value=v"), .unsupportedMediaType),
        (Case("two content types", .PUT, "/v1/keys/k", headers: json + raw, body: "{}"), .invalidHeader),
        (Case("raw cas body", .POST, "/v1/keys/k/cas", headers: raw, body: "v"), .unsupportedMediaType),
        (Case("cas without expected", .POST, "/v1/keys/k/cas", body: #"{"value":"v"}"#), .invalidBody),
        (Case("cas with ttl", .POST, "/v1/keys/k/cas", body: #"{"expected":null,"value":"v","ttl":5}"#), .invalidBody),
        (Case("body on a get", .GET, "/v1/keys/k", body: "x"), .unexpectedBody),
        (Case("body on a delete", .DELETE, "/v1/keys/k", body: "x"), .unexpectedBody),
        (Case("body on a scan", .GET, "/v1/keys", body: "x"), .unexpectedBody),
        // Cluster admin.
        (Case("get on leave", .GET, "/v1/cluster/leave"), .methodNotAllowed),
        (Case("delete on remove", .DELETE, "/v1/cluster/remove"), .methodNotAllowed),
        (Case("post on cluster status", .POST, "/v1/cluster", body: "{}"), .methodNotAllowed),
        (Case("unknown admin path", .POST, "/v1/cluster/join", body: "{}"), .notFound),
        (Case("parameter on leave", .POST, "/v1/cluster/leave?node=a"), .unknownParameter),
        (Case("remove without body", .POST, "/v1/cluster/remove"), .invalidBody),
        (Case("remove without node", .POST, "/v1/cluster/remove", body: "{}"), .invalidBody),
        (Case("remove of null", .POST, "/v1/cluster/remove", body: #"{"node":null}"#), .invalidBody),
        (Case("remove of a number", .POST, "/v1/cluster/remove", body: #"{"node":7}"#), .invalidBody),
        (Case("leave of a number", .POST, "/v1/cluster/leave", body: #"{"node":7}"#), .invalidBody),
        (Case("empty node", .POST, "/v1/cluster/leave", body: #"{"node":""}"#), .invalidBody),
        (Case("node with a space", .POST, "/v1/cluster/remove", body: #"{"node":"a b"}"#), .invalidBody),
        (Case("node with a control character", .POST, "/v1/cluster/remove", body: #"{"node":"a\u0001"}"#), .invalidBody),
        (Case("node too long", .POST, "/v1/cluster/remove", body: #"{"node":"\#(String(repeating: "a", count: 257))"}"#), .invalidBody),
        (Case("unknown admin member", .POST, "/v1/cluster/leave", body: #"{"nodes":"a"}"#), .invalidBody),
        (Case("admin body not JSON", .POST, "/v1/cluster/remove", body: "node=a"), .invalidJSON),
        (Case("raw admin body", .POST, "/v1/cluster/leave", headers: raw, body: "a"), .unsupportedMediaType),
    ]

    @Test(arguments: zip(malformed.map(\.0), malformed.map(\.1)))
    func malformedRequestsGetTheirCode(_ testCase: Case, expected: APIError.Code) {
        switch testCase.parse() {
        case .success(let request):
            Issue.record("parsed as \(request)")
        case .failure(let error):
            #expect(error.code == expected, "\(error)")
            #expect((400..<500).contains(error.status.code))
        }
    }

    @Test func methodNotAllowedListsTheAllowedMethods() {
        let result = Case("", .PATCH, "/v1/keys/k").parse()
        guard case .failure(let error) = result else { Issue.record("parsed"); return }
        #expect(error.status == .methodNotAllowed)
        #expect(error.headers.map(\.name) == ["Allow"])
        #expect(error.headers.map(\.value) == ["GET, PUT, DELETE"])
    }

    @Test func aNodeNameOfExactlyTheLimitIsAccepted() throws {
        let name = String(repeating: "a", count: RequestParser.maxNodeNameBytes)
        let parsed = try Case("", .POST, "/v1/cluster/remove", body: #"{"node":"\#(name)"}"#).parse().get()
        #expect(parsed == .remove(node: name))
    }

    @Test func bodyLimitsFollowTheMethodAndContentType() {
        let limits = Self.limits
        func limit(_ method: HTTPMethod, _ headers: [(String, String)]) -> APIRequest.BodyLimit {
            APIRequest.bodyLimit(for: HTTPRequestHead(version: .http1_1, method: method, uri: "/", headers: HTTPHeaders(headers)), limits: limits)
        }
        #expect(limit(.PUT, Self.raw) == .init(bytes: 16, isRawValue: true))
        #expect(limit(.PUT, Self.json) == .init(bytes: limits.maxJSONBodyBytes, isRawValue: false))
        #expect(limit(.PUT, []) == .init(bytes: limits.maxJSONBodyBytes, isRawValue: false))
        #expect(limit(.POST, Self.raw) == .init(bytes: limits.maxJSONBodyBytes, isRawValue: false))
        #expect(limit(.GET, Self.raw) == .init(bytes: limits.maxIgnoredBodyBytes, isRawValue: false))
        #expect(APILimits().maxJSONBodyBytes >= APILimits.base64Length(of: 4 << 20) + 20)
    }
}
