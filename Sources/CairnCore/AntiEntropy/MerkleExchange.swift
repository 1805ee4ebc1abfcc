/// One side of a Merkle exchange: finds the segments where two replicas' trees differ by
/// asking the other side for node hashes level by level and descending only into nodes that
/// differ (DESIGN.md §2, anti-entropy).
///
/// A pure state machine in the shell/instance style of STYLE.md: `start()` returns the first
/// request, `receive(_:)` takes the other side's answer and returns the next step. The shell
/// carries requests over the network and answers the other side's requests with
/// `MerkleTree.hashes(level:indices:)`. Round trips: one per level (levels + 1), each carrying
/// only the children of differing nodes.
public struct MerkleExchange: Sendable {
    /// What to ask the other side for: the hashes of `indices` at `level`.
    public struct Request: Sendable, Equatable {
        public var level: Int
        public var indices: [Int]

        public init(level: Int, indices: [Int]) {
            self.level = level
            self.indices = indices
        }
    }

    public enum Step: Sendable, Equatable {
        /// Ask the other side for these node hashes.
        case request(Request)
        /// The exchange is over: the segments whose contents differ (empty when in sync).
        case done(differingSegments: [Int])
    }

    /// A malformed answer from the other side (wrong count, or a different tree shape).
    public struct ProtocolError: Error, Sendable, Equatable {
        public var message: String
    }

    private let local: MerkleTree
    /// The request awaiting its answer; `nil` once done. A shell matches answers to it, so a
    /// duplicated or late answer to an earlier request is dropped rather than misread.
    public private(set) var pending: Request?

    public init(local: MerkleTree) { self.local = local }

    public mutating func start() -> Step {
        let request = Request(level: 0, indices: [0])
        pending = request
        return .request(request)
    }

    /// Takes the remote hashes for the pending request; returns the next step.
    public mutating func receive(_ remote: [UInt64]) throws -> Step {
        guard let request = pending else { throw ProtocolError(message: "answer without a pending request") }
        guard remote.count == request.indices.count else {
            throw ProtocolError(message: "expected \(request.indices.count) hashes at level \(request.level), got \(remote.count)")
        }
        let mine = local.hashes(level: request.level, indices: request.indices)
        let differing = zip(request.indices, zip(mine, remote)).filter { $0.1.0 != $0.1.1 }.map(\.0)
        if request.level == local.levels || differing.isEmpty {
            pending = nil
            return .done(differingSegments: request.level == local.levels ? differing : [])
        }
        let next = Request(level: request.level + 1, indices: differing.flatMap { local.children(of: $0) })
        pending = next
        return .request(next)
    }
}
