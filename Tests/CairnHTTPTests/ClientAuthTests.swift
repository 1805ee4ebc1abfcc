import Testing

@testable import CairnHTTP

/// Client tokens: the file format, roles, and which endpoints need which role.
@Suite struct ClientAuthUnitTests {
    @Test func theTokensFileIsParsedStrictly() throws {
        let auth = try ClientAuth(parsing: "# tokens\n\ndata  0123456789abcdef0\nadmin\tfedcba9876543210f # ops\n", path: "t")
        #expect(auth.role(of: Array("0123456789abcdef0".utf8)) == .data)
        #expect(auth.role(of: Array("fedcba9876543210f".utf8)) == .admin)
        #expect(auth.role(of: Array("0123456789abcdef".utf8)) == nil, "a prefix of a token is not the token")
        for bad in ["root 0123456789abcdef0", "data short", "data", "data a b", "", "# only a comment"] {
            #expect(throws: ClientAuth.FileError.self, "\(bad)") { try ClientAuth(parsing: bad, path: "t") }
        }
    }

    @Test func eachEndpointNeedsItsRole() throws {
        let auth = ClientAuth(tokens: [(Array("d-token-0123456789".utf8), .data), (Array("a-token-0123456789".utf8), .admin)])
        func answer(_ uri: String, _ token: String?) -> APIError.Code? {
            auth.check(HTTPRequestHeadView(uri: uri, authorization: token.map { ["Bearer \($0)"] } ?? []))?.code
        }
        #expect(answer("/health", nil) == nil)
        #expect(answer("/ui", nil) == nil && answer("/", nil) == nil, "the static status page needs no token")
        #expect(answer("/v1/cluster/partitions", nil) == .unauthorized, "what it polls does")
        #expect(answer("/v1/keys/k", nil) == .unauthorized)
        #expect(answer("/v1/keys/k?r=1", "d-token-0123456789") == nil)
        #expect(answer("/metrics", "wrong-token-0123456789") == .unauthorized)
        #expect(answer("/v1/cluster/remove", "d-token-0123456789") == .forbidden)
        #expect(answer("/v1/cluster/remove", "a-token-0123456789") == nil)
        #expect(answer("/v1/keys/k/cas", "a-token-0123456789") == nil, "admin includes data")
        #expect(answer("/nowhere", nil) == nil, "an unknown path is the parser's 404")
        #expect(auth.check(HTTPRequestHeadView(uri: "/v1/keys/k", authorization: ["Basic abc"]))?.code == .unauthorized)
        #expect(auth.check(HTTPRequestHeadView(uri: "/v1/keys/k", authorization: ["Bearer d-token-0123456789", "Bearer x"]))?.code
                == .unauthorized, "two Authorization headers")
    }
}
