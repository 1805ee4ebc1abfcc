import CairnCore
import Testing
@testable import CairnSim

/// Whole simulated clusters under faults: a few hundred seeds of each workload must pass every
/// checker, each deliberately broken behaviour must be caught, and a seed must replay exactly.
/// (`swift run -c release cairn-sim --seeds N` runs many more.)
@Suite struct SimulationTests {
    /// Seeds in chunks, so Swift Testing runs the chunks in parallel.
    static let chunks: [ClosedRange<UInt64>] = (0..<8).map { UInt64($0 * 25 + 1)...UInt64($0 * 25 + 25) }

    static func failures(_ workload: SimOptions.Workload, seeds: ClosedRange<UInt64>, broken: SimOptions.Broken? = nil) -> [SimResult] {
        var options = SimOptions(workload: workload)
        options.broken = broken
        return seeds.map { Simulation(seed: $0, options: options).run() }.filter { !$0.passed }
    }

    @Test(arguments: chunks) func setWorkloadLosesNothing(seeds: ClosedRange<UInt64>) {
        for failed in Self.failures(.set, seeds: seeds) {
            Issue.record("set seed \(failed.seed):\n\(failed.failures.joined(separator: "\n"))")
        }
    }

    @Test(arguments: chunks) func casWorkloadIsLinearizable(seeds: ClosedRange<UInt64>) {
        for failed in Self.failures(.cas, seeds: seeds) {
            Issue.record("cas seed \(failed.seed):\n\(failed.failures.joined(separator: "\n"))")
        }
    }

    @Test func lastWriterWinsIsCaughtAsLostWrites() {
        let failed = Self.failures(.set, seeds: 1...20, broken: .lastWriterWins)
        #expect(failed.count >= 10, "only \(failed.count) of 20 seeds caught replicas that overwrite instead of merging")
        #expect(failed.contains { $0.failures.contains { $0.contains("LOST") } })
    }

    @Test func aReadThatSkipsPaxosIsCaughtAsNonLinearizable() {
        let failed = Self.failures(.cas, seeds: 1...20, broken: .localCASRead)
        #expect(failed.count >= 10, "only \(failed.count) of 20 seeds caught a local CAS read")
        #expect(failed.contains { $0.failures.contains { $0.contains("not linearizable") } })
    }

    /// The Riak KV679 mistake: counting a key's dots from 1 again after the node dropped its
    /// copy (a delivered hint) reissues dots, and the writes they name are silently lost.
    @Test func reusingDotsAfterDroppingAKeyIsCaughtAsLostWrites() {
        let failed = Self.failures(.set, seeds: 1...100, broken: .fixedMintEpoch)
        #expect(!failed.isEmpty, "no seed caught dots minted twice")
        #expect(failed.allSatisfy { $0.failures.contains { $0.contains("LOST") } })
    }

    @Test(arguments: SimOptions.Workload.allCases) func aSeedReplaysExactly(workload: SimOptions.Workload) {
        let options = SimOptions(workload: workload)
        let first = Simulation(seed: 4_242, options: options).run()
        let second = Simulation(seed: 4_242, options: options).run()
        #expect(first.events == second.events && first.stats == second.stats && first.summary == second.summary)
        #expect(first.virtualMilliseconds == second.virtualMilliseconds)
        let other = Simulation(seed: 4_243, options: options).run()
        #expect(other.events != first.events || other.stats != first.stats, "different seeds, different runs")
    }

    /// Without faults every operation succeeds: the faults, not the harness, cause failures.
    @Test func aCalmClusterAcknowledgesEveryWrite() {
        var options = SimOptions(workload: .set)
        options.faults = false
        let result = Simulation(seed: 7, options: options).run()
        #expect(result.passed, "\(result.failures)")
        #expect(result.stats.crashes == 0 && result.stats.partitions == 0)
        #expect(result.stats.acknowledged > 100, "\(result.stats)")
        #expect(result.stats.hintsStored == 0, "no fallback is needed when every node is up")
    }
}
