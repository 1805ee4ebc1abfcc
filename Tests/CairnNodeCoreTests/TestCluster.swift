import CairnCore
import CairnNodeCore
import Testing

/// A few cores on a tiny network: every request, response and one-way message (gossip
/// included) goes through one FIFO queue that `run()` delivers until it is empty. Storage
/// completes at once. Every node starts from the same membership state (all members valid,
/// one ring), so no ring change and no handoff happens; one membership tick starts each
/// node's failure detector, and no timer fires after that unless a test fires it.
struct TestCluster {
    enum Delivery {
        case request(from: Int, to: Int, call: UInt64, WireMessage)
        case response(to: Int, call: UInt64, WireMessage)
        case oneWay(from: Int, to: Int, WireMessage)
    }

    var nodes: [CoreHarness]
    private var queue: [Delivery] = []
    /// Per node, the peer requests it must answer: reply ticket → (asking node, its call).
    private var replyRoutes: [[UInt64: (node: Int, call: UInt64)]]
    private var nextTicket: UInt64 = 1_000

    init(size: Int, settings: NodeCore.Settings) {
        let ids = (1...UInt64(size)).map(NodeID.test)
        let members = ids.map { Membership.Member(id: $0, address: NodeID.address($0.low), status: .valid, incarnation: 1) }
        let ring = Membership.VersionedRing(
            version: 1, ring: Ring(members: ids, partitionCount: 64, targetReplicas: settings.replicas))
        let state = Membership.State(clusterName: "test", members: members, ring: ring)
        nodes = ids.map { id in
            let membership = Membership.Instance(restoring: state, me: id, address: NodeID.address(id.low), seeds: [])
            var node = CoreHarness(core: CoreHarness.makeCore(id: id, settings: settings, membership: membership))
            node.completesStorageAtOnce = true
            return node
        }
        replyRoutes = Array(repeating: [:], count: size)
        for index in nodes.indices {
            nodes[index].start()
            nodes[index].fire(.membership)
        }
        run()
    }

    func index(of id: NodeID) -> Int { Int(id.low) - 1 }

    func index(ofAddress address: String) -> Int? { nodes.firstIndex { NodeID.address($0.core.id.low) == address } }

    // MARK: client requests

    mutating func write(at node: Int, client: UInt64, key: [UInt8], value: [UInt8], supersedes: Supersedes = .nothing)
        -> ClientWriteResult?
    {
        _ = nodes[node].write(client, key: key, value: value, supersedes: supersedes)
        run()
        return nodes[node].log.writeReplies.last { $0.client == client }?.result
    }

    mutating func delete(at node: Int, client: UInt64, key: [UInt8], supersedes: Supersedes = .current) -> ClientWriteResult? {
        _ = nodes[node].delete(client, key: key, supersedes: supersedes)
        run()
        return nodes[node].log.writeReplies.last { $0.client == client }?.result
    }

    mutating func read(at node: Int, client: UInt64, key: [UInt8]) -> ClientReadResult? {
        _ = nodes[node].read(client, key: key)
        run()
        return nodes[node].log.readReplies.last { $0.client == client }?.result
    }

    mutating func cas(at node: Int, client: UInt64, key: [UInt8], _ operation: CAS.Proposer.Operation)
        -> Result<CAS.Proposer.Outcome, RequestFailure>?
    {
        _ = nodes[node].cas(client, key: key, operation)
        run()
        return nodes[node].log.casReplies.last { $0.client == client }?.result
    }

    // MARK: the network

    /// Delivers messages until none is left (at most `limit`, against a loop of messages).
    mutating func run(limit: Int = 10_000) {
        var delivered = 0
        collect()
        while !queue.isEmpty {
            guard delivered < limit else {
                Issue.record("the network did not settle after \(limit) messages")
                return
            }
            deliver(queue.removeFirst())
            delivered += 1
            collect()
        }
    }

    private mutating func deliver(_ delivery: Delivery) {
        switch delivery {
        case .request(let from, let to, let call, let message):
            let ticket = nextTicket
            nextTicket += 1
            replyRoutes[to][ticket] = (from, call)
            _ = nodes[to].peerRequest(from: nodes[from].core.id, reply: ticket, message)
        case .response(let to, let call, let message):
            nodes[to].response(call: call, message)
        case .oneWay(let from, let to, let message):
            nodes[to].peerMessage(from: nodes[from].core.id, message)
        }
    }

    /// Moves every node's outbox onto the queue.
    private mutating func collect() {
        for from in nodes.indices {
            let outbox = nodes[from].outbox
            nodes[from].outbox = []
            for command in outbox {
                switch command {
                case .request(let call, let to, let message, _):
                    queue.append(.request(from: from, to: index(of: to), call: call, message))
                case .respond(let reply, let message):
                    guard let route = replyRoutes[from].removeValue(forKey: reply) else { continue }
                    queue.append(.response(to: route.node, call: route.call, message))
                case .send(let to, let message):
                    queue.append(.oneWay(from: from, to: index(of: to), message))
                case .sendTo(let address, let message):
                    guard let to = index(ofAddress: address) else { continue }
                    queue.append(.oneWay(from: from, to: to, message))
                default:
                    continue
                }
            }
        }
    }
}
