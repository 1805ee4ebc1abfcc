import Foundation
import Testing

/// The data model as a user of a plain REST API meets it, through curl against real `cairnd`
/// processes: a PUT overwrites, a DELETE deletes, a TTL applies to the key.
@Suite(.serialized) struct DataModelTests {
    @Test func plainPutsOverwriteAndAPlainDeleteDeletesOnEveryNode() throws {
        let cluster = try NodeClusterTests.threeNodes("plain", portOffset: 90)
        defer { cluster.stopAll() }

        // PUT, PUT through another node, GET through every node: the last value, no siblings.
        let first = cluster.put(1, "colour", "red")
        #expect(first.status == 200, "\(first.body)\n\(cluster.logs())")
        #expect(first.headers["x-cairn-context"] != nil, "a PUT answers with the new context")
        #expect(cluster.put(2, "colour", "blue").status == 200)
        for node in 1...3 {
            let read = cluster.get(node, "colour")
            #expect(read.status == 200 && NodeClusterTests.value(read) == "blue", "node \(node): \(read.status) \(read.body)")
        }

        // Far more plain PUTs than the sibling limit (64): still one value, never a 409.
        for round in 0..<80 {
            let put = cluster.put(1 + round % 3, "counter", "\(round)")
            guard put.status == 200 else {
                Issue.record("plain PUT \(round) answered \(put.status): \(put.body)")
                break
            }
        }
        let counter = cluster.get(2, "counter", query: "?r=3")
        #expect(counter.status == 200 && NodeClusterTests.value(counter) == "79", "\(counter.status) \(counter.body)")

        // A PUT's context is enough for the next write of a read-modify-write loop.
        let context = try #require(cluster.put(3, "colour", "green").headers["x-cairn-context"])
        #expect(cluster.put(1, "colour", "green and gold", context: context).status == 200)
        #expect(NodeClusterTests.value(cluster.get(2, "colour", query: "?r=3")) == "green and gold")

        // A plain DELETE deletes, on every node; deleting again is no error.
        let deleted = cluster.request("DELETE", 3, "/v1/keys/colour")
        #expect(deleted.status == 200, "\(deleted.body)")
        for node in 1...3 {
            #expect(cluster.get(node, "colour").status == 404, "node \(node) still has the deleted key")
        }
        #expect(cluster.request("DELETE", 1, "/v1/keys/colour").status == 200)
        #expect(cluster.request("DELETE", 2, "/v1/keys/never-written").status == 200)

        // A plain PUT with a TTL after one without: the key expires.
        #expect(cluster.put(1, "session", "forever?").status == 200)
        #expect(cluster.put(2, "session", "for a second", query: "?ttl=1").status == 200)
        #expect(NodeClusterTests.value(cluster.get(3, "session")) == "for a second")
        Thread.sleep(forTimeInterval: 1.3)
        for node in 1...3 {
            let read = cluster.get(node, "session")
            #expect(read.status == 404, "node \(node): \(read.status) \(read.body)")
        }

        // Dynamo's blind write stays available: it supersedes nothing.
        #expect(cluster.put(1, "cart", "apples").status == 200)
        #expect(cluster.put(2, "cart", "pears", query: "?blind=true").status == 200)
        let both = cluster.get(3, "cart", query: "?r=3")
        #expect(both.status == 300 && both.body.contains("apples") && both.body.contains("pears"), "\(both.status) \(both.body)")
        #expect(cluster.put(3, "cart", "x", query: "?blind=true", context: both.headers["x-cairn-context"]).status == 400,
                "blind with a context is refused")
    }
}
