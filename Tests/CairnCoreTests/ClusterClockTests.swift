import Testing
@testable import CairnCore

/// The cluster clock's arithmetic: NTP's offset, the shortest-round-trip filter, a stepped
/// clock, and the median that corrects one node to the others.
@Suite struct ClusterClockTests {
    let ids = testNodes(4, seed: 5)

    func wall(_ ms: UInt64) -> WallClockTime { WallClockTime(millisecondsSince1970: ms) }

    @Test func theOffsetIsThePeersClockMinusTheMidpoint() {
        // Sent at 1000, the peer (30 s ahead) read 31_010 on arrival, answer back at 1020.
        #expect(ClusterClock.offset(sent: wall(1_000), peer: wall(31_010), received: wall(1_020)) == 30_000)
        #expect(ClusterClock.offset(sent: wall(50_000), peer: wall(20_004), received: wall(50_008)) == -30_000, "a peer 30 s behind")
        #expect(ClusterClock.offset(sent: wall(UInt64.max), peer: wall(0), received: wall(UInt64.max)) < 0, "no overflow trap")
    }

    @Test func theShortestRoundTripWinsAndAStepResetsTheHistory() {
        var clock = ClusterClock()
        clock.record(.init(offset: 30_040, roundTrip: 90, at: 1_000), from: ids[1])
        clock.record(.init(offset: 30_002, roundTrip: 6, at: 2_000), from: ids[1])
        clock.record(.init(offset: 30_020, roundTrip: 50, at: 3_000), from: ids[1])
        #expect(clock.estimate(of: ids[1], now: 3_000)?.offset == 30_002)
        // The peer's clock was stepped back 30 s: older samples no longer describe it.
        clock.record(.init(offset: 3, roundTrip: 40, at: 4_000), from: ids[1])
        #expect(clock.samples[ids[1]]?.count == 1)
        #expect(clock.estimate(of: ids[1], now: 4_000)?.offset == 3)
        // Only the last samplesKept stay; an estimate grows stale.
        for index in 0..<20 { clock.record(.init(offset: 3, roundTrip: 40, at: MonotonicTime(milliseconds: 5_000 + UInt64(index))), from: ids[1]) }
        #expect(clock.samples[ids[1]]?.count == ClusterClock.samplesKept)
        #expect(clock.estimate(of: ids[1], now: MonotonicTime(milliseconds: 5_019 + ClusterClock.maxSampleAgeMilliseconds + 1)) == nil)
    }

    @Test func theCorrectionIsTheMedianOfTheMembersClocks() {
        // This node is 30 s ahead of the two others: it corrects itself back.
        var fast = ClusterClock()
        fast.record(.init(offset: -30_000, roundTrip: 2, at: 10), from: ids[1])
        // One of two other clocks heard: {0, -30 s}, two clocks of three; any value between
        // them is a median, and the correction moves only as far as it must: not at all.
        #expect(fast.updateCorrection(peers: [ids[1], ids[2]], members: 3, now: 10) == 0)
        fast.record(.init(offset: -30_010, roundTrip: 2, at: 10), from: ids[2])
        #expect(fast.updateCorrection(peers: [ids[1], ids[2]], members: 3, now: 10) == -30_000)
        // One of the others sees the fast node +30 s and the third at 0: it stays.
        var other = ClusterClock()
        other.record(.init(offset: 30_000, roundTrip: 2, at: 10), from: ids[0])
        other.record(.init(offset: -10, roundTrip: 2, at: 10), from: ids[2])
        #expect(other.updateCorrection(peers: [ids[0], ids[2]], members: 3, now: 10) == 0)
        // With the third unreachable it sees {0, +30 s}: the clock nearer its own wins, it is
        // not dragged half way.
        #expect(other.updateCorrection(peers: [ids[0]], members: 3, now: 10) == 0)
        // One of the two others down: {0, -30 s} again, and the corrected node keeps -30 s.
        #expect(fast.updateCorrection(peers: [ids[1]], members: 3, now: 10) == -30_000)
        // Cut off from most of a five-node cluster, the fast node keeps its last correction.
        #expect(fast.updateCorrection(peers: [ids[1]], members: 5, now: 10) == -30_000)
        fast.forget(ids[1])
        #expect(fast.samples.count == 1)
    }

    @Test func wildOrHostileOffsetsAreDropped() {
        var clock = ClusterClock()
        // A reply claiming a clock at the end of time, then one at its start: no trap, no sample.
        let far = ClusterClock.offset(sent: wall(1_000), peer: wall(UInt64(Int64.max)), received: wall(1_002))
        let near = ClusterClock.offset(sent: wall(UInt64(Int64.max)), peer: wall(0), received: wall(UInt64(Int64.max)))
        let takenFar = clock.record(.init(offset: far, roundTrip: 2, at: 10), from: ids[1])
        let takenNear = clock.record(.init(offset: near, roundTrip: 2, at: 11), from: ids[1])
        #expect(!takenFar && !takenNear)
        let takenDay = clock.record(.init(offset: ClusterClock.maxOffsetMilliseconds, roundTrip: 2, at: 12), from: ids[1])
        let takenStep = clock.record(.init(offset: -ClusterClock.maxOffsetMilliseconds, roundTrip: 2, at: 13), from: ids[1])
        #expect(takenDay && takenStep, "a day either way is a clock; a step of two days resets")
        #expect(clock.samples[ids[1]]?.count == 1)
    }
}
