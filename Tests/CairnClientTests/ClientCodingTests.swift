import CairnHTTP
import NIOHTTP1
import Testing

@testable import CairnClient

/// The pure halves of the client: addresses, request encoding, response decoding.
@Suite struct ClientCodingTests {
    @Test(arguments: [
        ("127.0.0.1:7080", NodeAddress(host: "127.0.0.1", port: 7080)),
        ("localhost:1", NodeAddress(host: "localhost", port: 1)),
        ("[::1]:65535", NodeAddress(host: "::1", port: 65535)),
        ("node-3.example:8080", NodeAddress(host: "node-3.example", port: 8080)),
    ])
    func addressesParse(_ text: String, expected: NodeAddress) {
        #expect(NodeAddress(parsing: text) == expected)
        #expect(NodeAddress(parsing: text)?.description == text)
    }

    @Test(arguments: ["127.0.0.1", ":7080", "host:", "host:0", "host:65536", "host:-1", "::1:7080", "[::1]7080", "[::1", "a b:1", "host:7080x", "host:+80"])
    func nonAddressesAreRefused(_ text: String) {
        #expect(NodeAddress(parsing: text) == nil)
    }

    @Test func aClientNeedsAnAddressAndAPositiveTimeout() {
        #expect(throws: CairnClientError.self) { try CairnClient(node: "nowhere") }
        #expect(throws: CairnClientError.self) { try CairnClient(node: "127.0.0.1:7080", timeout: .zero) }
    }

    @Test func requestsEncodeKeysParametersAndBodies() throws {
        let get = ClientRequest.get(key: [0x61, 0x2F, 0x20, 0xFF], r: 2)
        #expect(get.method == .GET)
        #expect(get.target == "/v1/keys/a%2F%20%FF?r=2")
        #expect(get.header("Accept") == "application/octet-stream")

        let put = try ClientRequest.put(key: "k".bytes, value: [0, 1], ttlSeconds: 60, context: "AbC-_9", blind: false, w: 3)
        #expect(put.method == .PUT)
        #expect(put.target == "/v1/keys/k?ttl=60&w=3")
        #expect(put.header("Content-Type") == "application/octet-stream")
        #expect(put.header("X-Cairn-Context") == "AbC-_9")
        #expect(put.body == [0, 1])

        let plainPut = try ClientRequest.put(key: "k".bytes, value: [], ttlSeconds: nil, context: nil, blind: false, w: nil)
        #expect(plainPut.target == "/v1/keys/k")
        #expect(plainPut.header("X-Cairn-Context") == nil)

        let blindPut = try ClientRequest.put(key: "k".bytes, value: [], ttlSeconds: nil, context: nil, blind: true, w: nil)
        #expect(blindPut.target == "/v1/keys/k?blind=true")

        #expect(try ClientRequest.delete(key: "k".bytes, context: nil, w: 1).target == "/v1/keys/k?w=1")
        #expect(ClientRequest.scan(prefix: "user/".bytes, limit: 10, after: "user/9".bytes).target == "/v1/keys?prefix=user%2F&limit=10&after=user%2F9")
        #expect(ClientRequest.scan(prefix: [], limit: nil, after: nil).target == "/v1/keys")

        let cas = ClientRequest.cas(key: "k".bytes, expected: nil, new: [0xFF])
        #expect(cas.target == "/v1/keys/k/cas")
        #expect(try JSONParser.parse(cas.body) == ["expected": nil, "value_base64": "/w=="])
        #expect(try JSONParser.parse(ClientRequest.cas(key: [1], expected: "a".bytes, new: nil).body) == ["expected": "a", "value": nil])
        #expect(try JSONParser.parse(ClientRequest.cas(key: [1], expected: nil, new: "b".bytes, force: true).body)
                == ["force": true, "value": "b"])
        #expect(ClientRequest.get(key: "k".bytes, r: nil, consistency: "serial").target == "/v1/keys/k?consistency=serial")
        #expect(ClientRequest.get(key: "k".bytes, r: nil, consistency: "replica").target == "/v1/keys/k?consistency=replica")

        #expect(ClientRequest.leave(node: nil).body.isEmpty)
        #expect(try JSONParser.parse(ClientRequest.leave(node: "n2").body) == ["node": "n2"])
        #expect(try JSONParser.parse(ClientRequest.remove(node: "[::1]:7081").body) == ["node": "[::1]:7081"])
    }

    @Test(arguments: ["", "a=", "a b", "a\r\nb", "a+b", "é"])
    func contextsWithForeignCharactersAreRefused(_ context: String) {
        #expect(throws: CairnClientError.self) { try ClientRequest.contextHeader(context) }
    }

    static let context = [ClientRequest.Header(name: "X-Cairn-Context", value: "CTX")]
    static let jsonType = [ClientRequest.Header(name: "Content-Type", value: "application/json")]

    @Test func readsDecodeEveryShapeTheAPISends() throws {
        let raw = ClientResponse(
            status: 200, headers: Self.context + [.init(name: "Content-Type", value: "Application/Octet-Stream; x=1")], body: [0, 0xFF])
        #expect(try raw.read() == CairnClient.Read(siblings: [[0, 0xFF]], context: "CTX"))

        let json = ClientResponse(status: 200, headers: Self.jsonType, body: Array(#"{"value":"hé","context":"BODY"}"#.utf8))
        #expect(try json.read() == CairnClient.Read(siblings: ["hé".bytes], context: "BODY"))

        let siblings = ClientResponse(
            status: 300, headers: Self.context + Self.jsonType,
            body: Array(#"{"siblings":[{"value":"a"},{"value_base64":"/wA="}],"context":"CTX"}"#.utf8))
        #expect(try siblings.read() == CairnClient.Read(siblings: ["a".bytes, [0xFF, 0]], context: "CTX"))

        let absent = ClientResponse(status: 404, body: Array(#"{"error":{"code":"key_not_found","message":"the key has no value"}}"#.utf8))
        #expect(try absent.read() == CairnClient.Read(siblings: [], context: nil))
    }

    @Test func aReadThatIsNotTheAPIIsAnError() {
        let noEndpoint = ClientResponse(status: 404, body: Array(#"{"error":{"code":"not_found","message":"no endpoint"}}"#.utf8))
        #expect(throws: CairnClientError.http(status: 404, code: "not_found", message: "no endpoint")) { try noEndpoint.read() }
        let badSiblings = ClientResponse(status: 300, body: Array(#"{"siblings":[{"value":1}]}"#.utf8))
        #expect(throws: CairnClientError.self) { try badSiblings.read() }
        let notJSON = ClientResponse(status: 200, body: Array("<html>".utf8))
        #expect(throws: CairnClientError.self) { try notJSON.read() }
        let badBase64 = ClientResponse(status: 300, body: Array(#"{"siblings":[{"value_base64":"$$"}]}"#.utf8))
        #expect(throws: CairnClientError.self) { try badBase64.read() }
    }

    @Test func errorsWithoutTheAPIBodyKeepTheStatusAndAnExcerpt() {
        let proxy = ClientResponse(status: 502, body: Array("<h1>Bad\u{1}Gateway</h1>".utf8))
        #expect(proxy.apiError() == .http(status: 502, code: "", message: "<h1>Bad Gateway</h1>"))
        #expect(proxy.apiError().description == "HTTP 502: <h1>Bad Gateway</h1>")
        let empty = ClientResponse(status: 503)
        #expect(empty.apiError() == .http(status: 503, code: "", message: "no Cairn error body"))
    }

    @Test func scanCASAndHealthDecode() throws {
        let page = ClientResponse(status: 200, body: Array(#"{"keys":[{"key":"a"},{"key_base64":"/w=="}],"next":"a%2F%FF"}"#.utf8))
        #expect(try page.keyPage() == CairnClient.KeyPage(keys: ["a".bytes, [0xFF]], next: [0x61, 0x2F, 0xFF]))
        let last = ClientResponse(status: 200, body: Array(#"{"keys":[],"next":null}"#.utf8))
        #expect(try last.keyPage() == CairnClient.KeyPage(keys: [], next: nil))

        #expect(try ClientResponse(status: 200, body: Array(#"{"applied":true}"#.utf8)).casResult() == .applied)
        #expect(try ClientResponse(status: 412, body: Array(#"{"applied":false,"current":null}"#.utf8)).casResult() == .failed(current: nil))
        #expect(
            try ClientResponse(status: 412, body: Array(#"{"applied":false,"current":{"value_base64":"AA=="}}"#.utf8)).casResult()
                == .failed(current: [0]))
        let unknown = ClientResponse(status: 504, body: Array(#"{"error":{"code":"outcome_unknown","message":"may have applied"}}"#.utf8))
        #expect(throws: CairnClientError.http(status: 504, code: "outcome_unknown", message: "may have applied")) { try unknown.casResult() }

        let sick = ClientResponse(status: 503, body: Array(#"{"status":"unhealthy","details":{"disk":"full"}}"#.utf8))
        #expect(try sick.health() == CairnClient.Health(isHealthy: false, details: ["disk": "full"]))
    }

    @Test func clusterStatusKeepsWhatItDoesNotKnowAndRefusesWrongTypes() throws {
        let body = Array(
            #"{"node":"n1","members":[{"node":"n1","status":"valid","reachable":true,"partitions":3,"zone":"a"},{"address":"h:1"}],"epoch":9}"#.utf8)
        let status = try ClusterStatus(raw: body)
        #expect(status.node == "n1")
        #expect(status.members.count == 2)
        #expect(status.members[0].extra == ["zone": "a"])
        #expect(status.members[1].node == nil)
        #expect(status.members[1].address == "h:1")
        #expect(status.json["epoch"] == 9)
        #expect(status.transfers.isEmpty)
        #expect(status.ring.isEmpty)
        #expect(status.raw == body)

        for bad in [#"[]"#, #"{"members":{}}"#, #"{"members":[{"reachable":"yes"}]}"#, #"{"transfers":3}"#, "not json"] {
            #expect(throws: CairnClientError.self, "\(bad)") { try ClusterStatus(raw: Array(bad.utf8)) }
        }
    }

    @Test(arguments: [(Duration.seconds(10), "10 s"), (.milliseconds(1500), "1.5 s"), (.milliseconds(250), "0.25 s")])
    func durationsReadAsSeconds(_ duration: Duration, text: String) {
        #expect(CairnClientError.seconds(duration) == text)
    }
}
