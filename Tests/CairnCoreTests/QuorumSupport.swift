@testable import CairnCore

/// Fixtures shared by the quorum coordinator tests.
enum QuorumFixture {
    typealias Object = DVVSet<[UInt8]>
    typealias Write = Quorum.WriteCoordinator<[UInt8]>
    typealias Read = Quorum.ReadCoordinator<[UInt8]>

    static func node(_ n: UInt64) -> NodeID { NodeID(high: 0, low: n) }

    /// Nodes 1...count, in extended-list order.
    static func nodes(_ count: Int) -> [NodeID] { (1...count).map { node(UInt64($0)) } }

    static let key = KeyHash(0xC0FFEE)

    static func writeRequest(
        extended: [NodeID], w: Int, n: Int = 3, sibling: Sibling<[UInt8]> = .value(Array("v".utf8)),
        context: CausalContext = CausalContext(), forwardedBy: NodeID? = nil
    ) -> Write.Request {
        Write.Request(
            keyHash: key, partition: 7, preferenceList: Array(extended.prefix(n)), extendedList: extended,
            context: context, sibling: sibling, w: w, n: n, timeoutMilliseconds: 500, forwardedBy: forwardedBy)
    }

    static func readRequest(extended: [NodeID], r: Int, n: Int = 3) -> Read.Request {
        Read.Request(
            keyHash: key, partition: 7, preferenceList: Array(extended.prefix(n)), extendedList: extended,
            r: r, n: n, timeoutMilliseconds: 500, repairWindowMilliseconds: 1_000)
    }

    static func actor(_ node: NodeID) -> ReplicaActor { ReplicaActor(node: node) }

    static func value(_ text: String) -> [UInt8] { Array(text.utf8) }

    static func reachable(except down: Set<NodeID>) -> (NodeID) -> Bool { { !down.contains($0) } }

    /// The repair effects among `effects`, as (node, hintFor).
    static func repairs(_ effects: [Read.Effect]) -> [NodeID: NodeID?] {
        var result: [NodeID: NodeID?] = [:]
        for case .repair(let to, _, let hintFor) in effects { result[to] = hintFor }
        return result
    }
}

