import CairnCore
import CairnNodeCore
import Testing

/// `ScanReply.merging`, the executor's half of a scan: listings merged in key order, records
/// read only as far as needed, and `through` exactly where the answer stops being complete.
@Suite("Scan merging")
struct ScanMergeTests {
    static let actor = ReplicaActor(node: NodeID(high: 1, low: 1))
    static let live = DVVSet<[UInt8]>.new(.value([1]), by: actor)
    static var dead: DVVSet<[UInt8]> { var object = live; object.delete(with: live.join(), by: actor); return object }

    func key(_ text: String) -> [UInt8] { Array(text.utf8) }

    func merge(_ listings: [[String]], limit: Int, examine: Int = 100, deadKeys: Set<String> = [], reads: inout [String]) -> ScanReply {
        ScanReply.merging(listings: listings.map { $0.map(key) }, limit: limit, examineLimit: examine, values: false,
                          wallNow: WallClockTime(millisecondsSince1970: 1)) { _, bytes in
            let name = String(decoding: bytes, as: UTF8.self)
            reads.append(name)
            return deadKeys.contains(name) ? Self.dead : Self.live
        }
    }

    @Test("complete listings: every live key in order, tombstones left out, nothing after")
    func completeListings() {
        var reads: [String] = []
        let reply = merge([["a", "d"], ["b", "c"]], limit: 10, deadKeys: ["c"], reads: &reads)
        #expect(reply.items.map(\.key) == ["a", "b", "d"].map(key))
        #expect(reply.through == nil)
        #expect(reads == ["a", "b", "c", "d"])
    }

    @Test("at the limit: the last key kept, and no record read past it")
    func atTheLimit() {
        var reads: [String] = []
        let reply = merge([["a", "c", "e"], ["b", "d", "f"]], limit: 2, reads: &reads)
        #expect(reply.items.map(\.key) == ["a", "b"].map(key))
        #expect(reply.through == key("b"))
        #expect(reads == ["a", "b"], "only as many records as the page needs")
    }

    @Test("a cut listing bounds the answer, even when the limit is not reached for dead keys")
    func cutListing() {
        var reads: [String] = []
        // The first listing was cut at limit + 1 = 3 keys: keys after "c" in it are unknown.
        let reply = merge([["a", "c", "x"], ["b", "d"]], limit: 2, deadKeys: ["a", "b"], reads: &reads)
        #expect(reply.items.map(\.key) == ["c"].map(key))
        #expect(reply.through == key("c"), "d may come after keys of the first partition not listed")
    }

    @Test("the examination budget stops the merge at the last key read")
    func budget() {
        var reads: [String] = []
        let reply = merge([["a", "b", "c", "d"]], limit: 5, examine: 2, deadKeys: ["a", "b", "c"], reads: &reads)
        #expect(reply.items.isEmpty)
        #expect(reply.through == key("b"))
        #expect(reads == ["a", "b"])
    }
}
