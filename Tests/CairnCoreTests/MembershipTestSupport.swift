@testable import CairnCore

/// A deterministic in-memory cluster of membership instances: a manual clock, a seeded RNG that
/// orders deliveries and drops messages. A failing seed replays exactly.
struct MembershipSim {
    var random: SplitMix64
    var nodes: [String: Membership.Instance] = [:]
    var addresses: [String] = []
    var inFlight: [(to: String, message: Membership.Message)] = []
    var now: UInt64 = 0
    let dropPercent: UInt64
    /// Every directive each node returned, for assertions.
    var log: [String: [Membership.Effect]] = [:]

    init(seed: UInt64, dropPercent: UInt64) {
        random = SplitMix64(seed: seed)
        self.dropPercent = dropPercent
    }

    mutating func add(_ instance: Membership.Instance) {
        nodes[instance.address] = instance
        addresses.append(instance.address)
    }

    mutating func below(_ n: Int) -> Int { Int(random.next() % UInt64(n)) }

    mutating func record(_ directives: [Membership.Effect], at address: String) {
        log[address, default: []] += directives
        for case .send(let to, let message) in directives { inFlight.append((to, message)) }
    }

    /// Advances the clock one gossip interval, ticks every node in random order, then delivers
    /// messages in random order (replies included), dropping each with `dropPercent` chance.
    mutating func round(intervalMilliseconds: UInt64 = 1_000) {
        now += intervalMilliseconds
        var order = addresses
        order.shuffle(using: &random)
        for address in order {
            let directives = nodes[address]!.onTick(now: MonotonicTime(milliseconds: now), random: random.next())
            record(directives, at: address)
        }
        var budget = 10_000
        while !inFlight.isEmpty && budget > 0 {
            budget -= 1
            let (to, message) = inFlight.remove(at: below(inFlight.count))
            if random.next() % 100 < dropPercent { continue }
            guard nodes[to] != nil else { continue }
            let directives = nodes[to]!.onMessage(message, now: MonotonicTime(milliseconds: now))
            record(directives, at: to)
        }
    }

    /// Whether every node holds the same members and ring, and the ring's members are exactly
    /// the valid members.
    var converged: Bool {
        let states = addresses.map { nodes[$0]!.state }
        guard let first = states.first, let ring = first.ring else { return false }
        return states.allSatisfy { $0 == first } && ring.ring.members == first.owners
    }
}
