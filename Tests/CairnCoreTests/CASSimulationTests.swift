import Testing
@testable import CairnCore
import CairnCheck
import CairnSim

/// Concurrent proposers against three acceptors under seeded message reordering, drops,
/// duplicates and crash-restarts; every history must be linearizable. Plus proof that the
/// checker and the harness can fail.
@Suite struct CASSimulationTests {
    static let seeds: [UInt64] = Array(1...150)

    @Test(arguments: [2, 3, 4])
    func historiesAreLinearizable(proposers: Int) {
        var totals: [String: Int] = [:]
        for seed in Self.seeds {
            var simulation = CASSimulation(.init(seed: seed &* 7_919 &+ UInt64(proposers), proposers: proposers))
            let history = simulation.run()
            #expect(simulation.violations.isEmpty, "seed \(seed), \(proposers) proposers: \(simulation.violations)")
            let ok = (RegisterChecker.isLinearizable(history) == true)
            #expect(ok, "seed \(seed), \(proposers) proposers: not linearizable:\n\(history.map(\.description).joined(separator: "\n"))")
            for (key, count) in simulation.outcomes { totals[key, default: 0] += count }
            if !ok { break }
        }
        // The runs must exercise every kind of result, or they prove little.
        #expect(totals["applied", default: 0] > 100, "\(totals)")
        #expect(totals["failed", default: 0] > 10, "\(totals)")
        #expect(totals["read", default: 0] > 10, "\(totals)")
        #expect(totals["unknown", default: 0] > 0, "\(totals)")
    }

    @Test func brokenAcceptorThatForgetsPromisesIsCaught() {
        var caught: UInt64?
        for seed in Self.seeds {
            var settings = CASSimulation.Settings(seed: seed, proposers: 4)
            settings.forgetPromises = true
            var simulation = CASSimulation(settings)
            let history = simulation.run()
            if RegisterChecker.isLinearizable(history) == false { caught = seed; break }
        }
        #expect(caught != nil, "an acceptor that forgets its promises must produce a non-linearizable history")
    }

    @Test func handWrittenHistoriesAreJudgedCorrectly() {
        typealias Op = RegisterOp
        // Two creates-if-absent both applied, one after the other.
        let doubleCreate = [Op(kind: .cas(expected: nil, new: 1), result: .applied, call: 1, ret: 2),
                            Op(kind: .cas(expected: nil, new: 2), result: .applied, call: 3, ret: 4)]
        #expect(RegisterChecker.isLinearizable(doubleCreate) == false)
        // The same two overlapping: still only one may create.
        let overlapping = [Op(kind: .cas(expected: nil, new: 1), result: .applied, call: 1, ret: 4),
                           Op(kind: .cas(expected: nil, new: 2), result: .applied, call: 2, ret: 3)]
        #expect(RegisterChecker.isLinearizable(overlapping) == false)
        // A stale read after a write completed.
        let staleRead = [Op(kind: .cas(expected: nil, new: 1), result: .applied, call: 1, ret: 2),
                         Op(kind: .read, result: .read(nil), call: 3, ret: 4)]
        #expect(RegisterChecker.isLinearizable(staleRead) == false)
        // A failure reporting the very value it expected.
        let falseFailure = [Op(kind: .cas(expected: nil, new: 1), result: .failed(current: nil), call: 1, ret: 2)]
        #expect(RegisterChecker.isLinearizable(falseFailure) == false)
        // A read that sees a write concurrent with it, then one that sees the old value again.
        let flipFlop = [Op(kind: .cas(expected: nil, new: 1), result: .applied, call: 1, ret: 10),
                        Op(kind: .read, result: .read(1), call: 2, ret: 3),
                        Op(kind: .read, result: .read(nil), call: 4, ret: 5)]
        #expect(RegisterChecker.isLinearizable(flipFlop) == false)
        // Linearizable: concurrent creates, one wins; an unknown write seen later; an unknown never seen.
        let fine = [Op(kind: .cas(expected: nil, new: 1), result: .applied, call: 1, ret: 4),
                    Op(kind: .cas(expected: nil, new: 2), result: .failed(current: 1), call: 2, ret: 5),
                    Op(kind: .cas(expected: 1, new: 3), result: .unknown, call: 6, ret: Int.max),
                    Op(kind: .cas(expected: 1, new: 4), result: .unknown, call: 7, ret: Int.max),
                    Op(kind: .read, result: .read(1), call: 8, ret: 9),
                    Op(kind: .read, result: .read(3), call: 10, ret: 11)]
        #expect(RegisterChecker.isLinearizable(fine) == true)
        // A value that appears from nowhere (an "unavailable" write that did write) is rejected.
        let fromNowhere = [Op(kind: .read, result: .read(7), call: 1, ret: 2)]
        #expect(RegisterChecker.isLinearizable(fromNowhere) == false)
    }

    @Test func aFailingSeedReplaysExactly() {
        var first = CASSimulation(.init(seed: 99, proposers: 3))
        var second = CASSimulation(.init(seed: 99, proposers: 3))
        #expect(first.run().map(\.description) == second.run().map(\.description))
    }
}
