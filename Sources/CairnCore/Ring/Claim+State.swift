extension Claim {
    /// The working state of one claim: owners as member indices, and each member's count and
    /// target.
    ///
    /// Member indices (positions in the sorted member list) instead of `NodeID`s keep the inner
    /// loops on plain integers; every tie-break on an index is therefore a tie-break on `NodeID`
    /// order, which is what makes the result independent of input order.
    struct State {
        /// Marks a partition whose previous owner is no longer a member.
        static let unowned = -1

        var owners: [Int]
        let memberCount: Int
        /// Partitions of one member must be at least this far apart (N, or S when S < N).
        let window: Int
        private(set) var counts: [Int]
        /// ⌊Q/S⌋ or ⌈Q/S⌉ per member. The ⌈⌉ targets go to the members that own most now, which
        /// minimises the partitions that must move (ties to the lower member index).
        let targets: [Int]

        init(owners: [Int], memberCount: Int, window: Int) {
            self.owners = owners
            self.memberCount = memberCount
            self.window = window
            var counts = [Int](repeating: 0, count: memberCount)
            for owner in owners where owner != State.unowned { counts[owner] += 1 }
            self.counts = counts
            let order = (0..<memberCount).sorted { (-counts[$0], $0) < (-counts[$1], $1) }
            var targets = [Int](repeating: owners.count / memberCount, count: memberCount)
            for member in order.prefix(owners.count % memberCount) { targets[member] += 1 }
            self.targets = targets
        }

        var partitionCount: Int { owners.count }

        /// How many partitions within `window - 1` places of `partition` (either side, excluding
        /// it) `member` owns: the spacing violations placing `member` there would have.
        func conflicts(_ member: Int, at partition: Int) -> Int {
            var found = 0
            for offset in 1..<max(window, 1) {
                if owners[(partition + offset) % partitionCount] == member { found += 1 }
                if owners[(partition - offset % partitionCount + partitionCount) % partitionCount] == member { found += 1 }
            }
            return found
        }

        /// Pairs of partitions with one owner closer than `window`: zero means spacing holds.
        func conflictPairs() -> Int {
            var pairs = 0
            for partition in 0..<partitionCount {
                for offset in 1..<max(window, 1) where owners[partition] == owners[(partition + offset) % partitionCount] {
                    pairs += 1
                }
            }
            return pairs
        }

        /// Distance from `partition` to the nearest other partition of `member`, capped at a
        /// radius that is enough to prefer even spread without scanning the whole ring.
        func spacing(_ member: Int, at partition: Int) -> Int {
            let radius = min(partitionCount / 2, max(4 * window, 2 * partitionCount / max(memberCount, 1)))
            var distance = 1
            while distance <= radius {
                if owners[(partition + distance) % partitionCount] == member { return distance }
                if owners[(partition - distance % partitionCount + partitionCount) % partitionCount] == member { return distance }
                distance += 1
            }
            return radius + 1
        }

        private func deficit(_ member: Int) -> Int { targets[member] - counts[member] }

        private mutating func assign(_ partition: Int, to member: Int) {
            let previous = owners[partition]
            if previous != State.unowned { counts[previous] -= 1 }
            owners[partition] = member
            counts[member] += 1
        }

        /// Gives every partition of a departed member to a member below its target.
        ///
        /// Most constrained vacancy first (fewest members that could take it without a spacing
        /// violation), to the member furthest below target, then the one whose other partitions
        /// are farthest away.
        mutating func fillVacancies() {
            var vacancies = owners.indices.filter { owners[$0] == State.unowned }
            while !vacancies.isEmpty {
                let takers = (0..<memberCount).filter { deficit($0) > 0 }
                precondition(!takers.isEmpty, "\(vacancies.count) vacant partitions but no member below target \(targets)")
                var best: (key: (Int, Int, Int, Int, Int, Int), slot: Int, member: Int)?
                for (slot, partition) in vacancies.enumerated() {
                    let options = takers.count { conflicts($0, at: partition) == 0 }
                    for member in takers {
                        let key = (
                            conflicts(member, at: partition), options, -deficit(member),
                            -spacing(member, at: partition), partition, member
                        )
                        if best == nil || key < best!.key { best = (key, slot, member) }
                    }
                }
                let choice = best!
                assign(vacancies[choice.slot], to: choice.member)
                vacancies.remove(at: choice.slot)
            }
        }

        /// Moves partitions from members above target to members below it until all are on target.
        ///
        /// Riak claim v2's "take from the most loaded", with spacing first: a move that creates no
        /// violation beats one that does; among those, taking a partition that currently breaks
        /// spacing beats one that does not; then the most loaded giver, the most needy taker, and
        /// the widest gap for the taker.
        mutating func rebalance() {
            while true {
                let takers = (0..<memberCount).filter { deficit($0) > 0 }
                if takers.isEmpty { return }
                var best: (key: (Int, Int, Int, Int, Int, Int), partition: Int, member: Int)?
                for partition in 0..<partitionCount {
                    let giver = owners[partition]
                    guard deficit(giver) < 0 else { continue }
                    let fixes = conflicts(giver, at: partition) > 0 ? 0 : 1
                    for member in takers {
                        let key = (
                            conflicts(member, at: partition), fixes, deficit(giver), -deficit(member),
                            -spacing(member, at: partition), partition * memberCount + member
                        )
                        if best == nil || key < best!.key { best = (key, partition, member) }
                    }
                }
                guard let choice = best else {
                    preconditionFailure("members \(takers) below target \(targets) but none above: counts \(counts)")
                }
                assign(choice.partition, to: choice.member)
            }
        }

        /// Swaps the owners of two partitions while that lowers the number of spacing violations.
        ///
        /// Swaps keep every count, so balance holds. Among equally good swaps, the one that moves
        /// fewer partitions away from `previous` wins. Bounded: each swap removes at least one
        /// violating pair, and there are fewer than Q·N of them.
        mutating func repair(previous: [Int]?) {
            while true {
                var best: (key: (Int, Int, Int, Int), p: Int, q: Int)?
                for p in 0..<partitionCount where conflicts(owners[p], at: p) > 0 {
                    let a = owners[p]
                    for q in 0..<partitionCount where owners[q] != a {
                        let b = owners[q]
                        let before = conflicts(a, at: p) + conflicts(b, at: q)
                        owners[p] = b
                        owners[q] = a
                        let after = conflicts(b, at: p) + conflicts(a, at: q)
                        owners[p] = a
                        owners[q] = b
                        var moves = 0
                        if let previous {
                            moves = (previous[p] == a ? 1 : 0) + (previous[q] == b ? 1 : 0)
                                - (previous[p] == b ? 1 : 0) - (previous[q] == a ? 1 : 0)
                        }
                        let key = (after - before, moves, p, q)
                        if best == nil || key < best!.key { best = (key, p, q) }
                    }
                }
                guard let swap = best, swap.key.0 < 0 else { return }
                owners.swapAt(swap.p, swap.q)
            }
        }
    }
}
