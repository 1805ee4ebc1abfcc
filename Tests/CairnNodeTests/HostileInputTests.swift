import CairnCore
import CairnHTTP
import Foundation
import Testing

/// A real node against a hostile client: what it refuses, and that it keeps serving after.
@Suite(.serialized) struct HostileInputTests {
    /// Contexts are sealed under a key from the cluster secret: made-up ones (thousands of
    /// writers), altered ones and ones sealed without the secret get `400`, and the key stays
    /// readable and writable with the context a read returned.
    @Test func forgedContextsAreRefusedAndTheKeyStaysReadable() throws {
        let cluster = try LocalCluster(name: "hostile", internodePort: 7376, httpPort: 7386)
        defer { cluster.stopAll() }
        let secretFile = cluster.directory + "/secret"
        try Data("a secret of more than 16 bytes, for the test".utf8).write(to: URL(fileURLWithPath: secretFile))
        try cluster.start(9, seed: nil, environment: ["CAIRN_N": "1", "CAIRN_SECRET_FILE": secretFile])
        #expect(cluster.put(9, "k", "v1").status == 200)
        let read = cluster.get(9, "k")
        let token = try #require(read.headers["x-cairn-context"])

        let writers = Dictionary(uniqueKeysWithValues: (0..<3_000).map {
            (ReplicaActor(node: NodeID(high: 0xBAD, low: UInt64($0)), epoch: 0), UInt64(1))
        })
        let madeUp = CausalContext(writers)
        var altered = Array(token.utf8)
        altered[altered.count / 2] = altered[altered.count / 2] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        let forged: [(String, String)] = [
            ("made up, unsealed", Base64.encode(madeUp.encode(), .url)),
            ("made up, sealed without the secret", ContextSeal(secret: nil, clusterName: cluster.cluster).token(madeUp)),
            ("made up, sealed by the name of the default cluster", ContextSeal.unconfigured.token(madeUp)),
            ("a real token altered", String(decoding: altered, as: UTF8.self)),
        ]
        for (what, context) in forged {
            for _ in 0..<2 {
                let put = cluster.put(9, "k", "forged", context: context)
                #expect(put.status == 400 && put.body.contains("invalid_context"), "\(what): \(put.status) \(put.body)")
            }
        }
        let after = cluster.get(9, "k")
        #expect(after.status == 200 && NodeClusterTests.value(after) == "v1", "\(after.status) \(after.body)")
        let overwrite = cluster.put(9, "k", "v2", context: token)
        #expect(overwrite.status == 200, "the real token still works: \(overwrite.body)")
        #expect(NodeClusterTests.value(cluster.get(9, "k")) == "v2")
        #expect(cluster.request("GET", 9, "/health").status == 200)
    }
}
