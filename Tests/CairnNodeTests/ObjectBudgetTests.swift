import Foundation
import Synchronization
import Testing

/// One size budget, so replicas always converge: concurrent large writes through different
/// coordinators merge into an object every replica path carries, and a write that would grow
/// an object past the budget is answered `409 object_too_large` on the client path instead.
@Suite struct ObjectBudgetTests {
    static func siblings(_ response: LocalCluster.Response) -> [String]? {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(response.body.utf8))) as? [String: Any] else { return nil }
        if let siblings = object["siblings"] as? [[String: Any]] {
            return siblings.map { ($0["value"] as? String) ?? ($0["value_base64"] as? String) ?? "" }
        }
        if let value = (object["value"] as? String) ?? (object["value_base64"] as? String) { return [value] }
        return nil
    }

    @Test func threeConcurrent4MiBWritesThroughThreeNodesConvergeAndAFourthIsRefused409() throws {
        let cluster = try NodeClusterTests.threeNodes("budget", portOffset: 140)
        defer { cluster.stopAll() }
        let size = 4 << 20
        let files = try (1...4).map { try cluster.writeFile("value\($0)", [UInt8](repeating: UInt8(0x40 + $0), count: size)) }
        let headers = ["Content-Type": "application/octet-stream"]

        // Three blind writes of 4 MiB, one through each node, at once: three siblings of 4 MiB,
        // a 12 MiB object, which every replica must store and every path carry.
        let statuses = Mutex<[Int: LocalCluster.Response]>([:])
        DispatchQueue.concurrentPerform(iterations: 3) { index in
            let response = cluster.request("PUT", index + 1, "/v1/keys/big?blind=true", headers: headers, bodyFile: files[index])
            statuses.withLock { $0[index + 1] = response }
        }
        for (node, response) in statuses.withLock({ $0 }) {
            #expect(response.status == 200, "node \(node): \(response.status) \(response.body.prefix(300))")
        }
        try cluster.waitUntil("every replica holds the three siblings", timeout: 60) {
            (1...3).allSatisfy { node in
                Self.siblings(cluster.request("GET", node, "/v1/keys/big?consistency=replica"))?.count == 3
            }
        }
        for node in 1...3 {
            let read = cluster.get(node, "big", query: "?r=3")
            #expect(read.status == 300 && Self.siblings(read)?.count == 3, "node \(node): \(read.status)")
        }

        // A fourth blind 4 MiB value would leave 16 MiB and history: over the budget.
        let fourth = cluster.request("PUT", 1, "/v1/keys/big?blind=true", headers: headers, bodyFile: files[3])
        #expect(fourth.status == 409 && fourth.body.contains("object_too_large"), "\(fourth.status) \(fourth.body.prefix(300))")

        // Resolving the siblings with the context of a read passes, and shrinks the object.
        let read = cluster.get(2, "big", query: "?r=3")
        let context = try #require(read.headers["x-cairn-context"])
        var resolveHeaders = headers
        resolveHeaders["X-Cairn-Context"] = context
        let resolved = cluster.request("PUT", 3, "/v1/keys/big", headers: resolveHeaders, bodyFile: files[3])
        #expect(resolved.status == 200, "\(resolved.status) \(resolved.body.prefix(300))")
        try cluster.waitUntil("every replica holds the one resolved value", timeout: 60) {
            (1...3).allSatisfy { node in
                Self.siblings(cluster.request("GET", node, "/v1/keys/big?consistency=replica"))?.count == 1
            }
        }
    }
}
