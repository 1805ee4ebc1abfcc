/// Claim: the deterministic functions that decide which member owns each partition.
///
/// Two goals, in this order (DESIGN.md §2):
///
/// 1. **Balance.** With S members and Q partitions every member owns ⌊Q/S⌋ or ⌈Q/S⌉.
/// 2. **Spacing.** Any N consecutive partitions (wrapping) have N distinct owners, so that the
///    owners of a key's N consecutive partitions are N different machines. Equivalently, two
///    partitions of one member are at least N apart around the ring.
///
/// Spacing is not always achievable. With S == N it forces the owners to repeat with period
/// N, which needs N to divide Q — never the case for N = 3 and a power-of-two Q, so a 3-node
/// cluster with N = 3 always has a few short windows with a repeated owner (Riak has the same
/// limit). Claim then keeps the repeats to the minimum its layout allows (two windows per
/// partition a member is short of a full lap), and the preference list skips repeated owners
/// (``Ring/preferenceList(for:n:)``), so every key still gets N distinct replicas.
///
/// **Canonical layout** (`canonical`): walk the sorted members round and round, m = ⌈Q/S⌉ laps,
/// skipping k = m·S − Q member slots, each skip on a different member and spread evenly over
/// the laps. Members skipped own m − 1 partitions, the rest m: balanced. Any window of N
/// consecutive partitions advances fewer than S places around the member cycle unless it
/// crosses too many skips, so owners are distinct whenever S > N and the skips are sparse
/// enough (the tests check every S ≤ 12 for N = 2…5 and Q = 64, 256, and N = 3 for Q = 8). This
/// is Riak's "sequential claim" with the remainder spread instead of bunched at the wrap point.
///
/// **Successor** (`successor`): after a membership change, the canonical layout of the new
/// members would move almost every partition. Instead, in the manner of Riak's claim v2/v3,
/// start from the previous owners and move only what balance forces: partitions of departed
/// members and the excess of members above their new target go to members below theirs,
/// each move chosen to keep spacing (taking first the partitions that currently break it, then
/// from the most-loaded owners, then the place farthest from the taker's other partitions).
/// A final pass swaps pairs of owners while that removes spacing violations, and if violations
/// remain where the canonical layout has none, the canonical layout is used, rotated and
/// relabelled to overlap the previous ring as much as possible. Every choice ends in a tie-break
/// on partition index and member order, so the result is a function of (previous ring, member
/// set) alone.
///
/// Cost, measured by `RingClaimPropertyTests` (numbers in `docs/ring.md`): a join moves exactly
/// the ⌊Q/(S+1)⌋ partitions balance forces and a leave about the leaver's partitions, except
/// for changes *into* S = N or S = N + 1. There spacing leaves few layouts (with S = N + 1 each
/// window's successor is one of two members), so the swap repair or the canonical fallback can
/// move up to about four times the balance minimum.
public enum Claim {
    /// The canonical ownership array for sorted, distinct `members`.
    static func canonical(members: [NodeID], partitionCount: Int, targetReplicas: Int) -> [NodeID] {
        let indices = canonicalIndices(
            order: Array(members.indices), partitionCount: partitionCount, targetReplicas: targetReplicas
        )
        return indices.map { members[$0] }
    }

    /// The ownership array that follows `previous` when the sorted, distinct member list becomes
    /// `members`; see the type's documentation for the algorithm.
    static func successor(of previous: [NodeID], members: [NodeID], targetReplicas: Int) -> [NodeID] {
        let partitionCount = previous.count
        var memberIndex = [NodeID: Int]()
        for (index, member) in members.enumerated() { memberIndex[member] = index }
        let previousOwners = previous.map { memberIndex[$0] ?? State.unowned }

        // With fewer members than N every preference list already holds every member, so
        // spacing buys nothing and only balance constrains the moves.
        var state = State(
            owners: previousOwners,
            memberCount: members.count,
            window: members.count < targetReplicas ? 1 : targetReplicas
        )
        state.fillVacancies()
        state.rebalance()
        // Repair even where spacing cannot fully hold (S == N, N not dividing Q): fewer repeats
        // cost a few moves now but leave a near-canonical ring with fewer long preference-list
        // walks. Measured in the property test with free swaps only at S == N instead: joins into
        // S = N became minimal, but the next join (to S = N + 1, where spacing is rigid) exceeded
        // minimum + N in 14 rather than 2 cases at Q = 64 (15 rather than 24 at Q = 256).
        state.repair(previous: previousOwners)

        if state.conflictPairs() > 0 && spacingIsAchievable(
            memberCount: members.count, partitionCount: partitionCount, targetReplicas: targetReplicas
        ) {
            let fallback = bestCanonical(
                previous: previousOwners, memberCount: members.count,
                partitionCount: partitionCount, targetReplicas: targetReplicas
            )
            if fallback.conflicts == 0 { return fallback.owners.map { members[$0] } }
        }
        return state.owners.map { members[$0] }
    }

    /// Whether claim can give S members distinct owners in every window of N partitions.
    ///
    /// True exactly when the canonical layout achieves it; for N = 3 and power-of-two Q ≥ 8 that
    /// is every S ≥ 4 (S = 3 would need 3 to divide Q).
    public static func spacingIsAchievable(memberCount: Int, partitionCount: Int, targetReplicas: Int) -> Bool {
        guard memberCount >= targetReplicas else { return false }
        let owners = canonicalIndices(
            order: Array(0..<memberCount), partitionCount: partitionCount, targetReplicas: targetReplicas
        )
        return State(owners: owners, memberCount: memberCount, window: targetReplicas).conflictPairs() == 0
    }

    /// The walk with evenly spread skips, over member indices listed in `order`, then repaired.
    static func canonicalIndices(order: [Int], partitionCount: Int, targetReplicas: Int) -> [Int] {
        let memberCount = order.count
        let laps = (partitionCount + memberCount - 1) / memberCount
        let skips = laps * memberCount - partitionCount
        // Skip t falls in lap ⌊t·m/k⌋ on member slot ⌊t·S/k⌋: distinct members (S/k > 1), and
        // at most ⌈k/m⌉ skips per lap, spread across it.
        var skipped = [Bool](repeating: false, count: laps * memberCount)
        for t in 0..<skips {
            skipped[(t * laps / skips) * memberCount + t * memberCount / skips] = true
        }
        var owners: [Int] = []
        owners.reserveCapacity(partitionCount)
        for slot in skipped.indices where !skipped[slot] {
            owners.append(order[slot % memberCount])
        }
        precondition(owners.count == partitionCount, "canonical walk built \(owners.count) of \(partitionCount) partitions")
        var state = State(owners: owners, memberCount: memberCount, window: min(targetReplicas, memberCount))
        state.repair(previous: nil)
        return state.owners
    }

    /// The canonical layout, under two member orders and every rotation, that keeps the most
    /// partitions where `previous` had them.
    private static func bestCanonical(
        previous: [Int], memberCount: Int, partitionCount: Int, targetReplicas: Int
    ) -> (owners: [Int], conflicts: Int) {
        // Order members by where they first appear in the previous ring (newcomers last), so the
        // walk's cycle resembles the old one; the sorted order is the other candidate.
        var firstSeen = [Int](repeating: Int.max, count: memberCount)
        for (partition, owner) in previous.enumerated() where owner != State.unowned && firstSeen[owner] == Int.max {
            firstSeen[owner] = partition
        }
        let byAppearance = (0..<memberCount).sorted { (firstSeen[$0], $0) < (firstSeen[$1], $1) }
        var best: (owners: [Int], kept: Int) = ([], -1)
        for order in [Array(0..<memberCount), byAppearance] {
            let layout = canonicalIndices(order: order, partitionCount: partitionCount, targetReplicas: targetReplicas)
            for rotation in 0..<partitionCount {
                var kept = 0
                for partition in 0..<partitionCount where layout[(partition + rotation) % partitionCount] == previous[partition] {
                    kept += 1
                }
                if kept > best.kept {
                    best = ((0..<partitionCount).map { layout[($0 + rotation) % partitionCount] }, kept)
                }
            }
        }
        let state = State(owners: best.owners, memberCount: memberCount, window: min(targetReplicas, memberCount))
        return (state.owners, state.conflictPairs())
    }
}
