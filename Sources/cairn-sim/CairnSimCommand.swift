import ArgumentParser
import CairnSim
import Dispatch
import Synchronization

/// Runs many seeds of the cluster simulation and reports every failing one with the command
/// that replays it exactly.
@main
struct CairnSimCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cairn-sim",
        abstract: "Run seeded simulations of a whole Cairn cluster and check its invariants.",
        discussion: """
            Each seed forms a 5-node cluster in virtual time, runs a workload under crashes, \
            partitions, message loss and duplication, heals, and checks: no acknowledged write \
            lost, nothing deleted or expired returned, replicas converged, CAS histories \
            linearizable, every request served after healing. A failing seed is printed with \
            the command that replays it.
            """)

    @Option(help: "Workload: set, cas, plain or all.")
    var workload: String = "all"

    @Option(help: "How many seeds to run per workload.")
    var seeds: Int = 100

    @Option(help: "Run only this seed (replay).")
    var seed: UInt64?

    @Option(help: "The first seed of the range.")
    var firstSeed: UInt64 = 1

    @Option(help: "Worker threads.")
    var jobs: Int = 2

    @Option(help: ArgumentHelp(
        "Switch on a deliberately broken behaviour.",
        discussion: "One of: " + SimOptions.Broken.allCases.map(\.rawValue).joined(separator: ", ") + "."))
    var broken: String?

    @Option(help: "Node core instances per node (1...8); without it each node runs 1 to 3, drawn per node.")
    var shards: Int?

    @Option(help: "With --seed: print every step that touches this key.")
    var traceKey: Int?

    @Flag(help: "Print every seed's result, not only failures.")
    var verbose = false

    func validate() throws {
        guard seeds >= 1 else { throw ValidationError("--seeds must be at least 1") }
        guard jobs >= 1 && jobs <= 64 else { throw ValidationError("--jobs must be in 1...64") }
        if let shards, !(1...8).contains(shards) { throw ValidationError("--shards must be in 1...8") }
        guard workload == "all" || SimOptions.Workload(rawValue: workload) != nil else {
            throw ValidationError("--workload must be set, cas, plain or all")
        }
        if let broken, SimOptions.Broken(rawValue: broken) == nil {
            throw ValidationError("--broken must be one of \(SimOptions.Broken.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() throws {
        let workloads = workload == "all" ? SimOptions.Workload.allCases : [SimOptions.Workload(rawValue: workload)!]
        let seedList: [UInt64] = seed.map { [$0] } ?? (0..<UInt64(seeds)).map { firstSeed &+ $0 }
        var anyFailed = false
        for workload in workloads {
            var options = SimOptions(workload: workload)
            options.broken = broken.flatMap(SimOptions.Broken.init(rawValue:))
            options.shards = shards
            let started = ContinuousClock.now
            let results = runSeeds(seedList, options: options)
            let elapsed = ContinuousClock.now - started
            let failed = results.filter { !$0.passed }
            anyFailed = anyFailed || !failed.isEmpty
            let events = results.reduce(0) { $0 + $1.events }
            let operations = results.reduce(0) { $0 + $1.stats.operations }
            let acknowledged = results.reduce(0) { $0 + $1.stats.acknowledged }
            let crashes = results.reduce(0) { $0 + $1.stats.crashes }
            let unsyncedLost = results.reduce(0) { $0 + $1.stats.unsyncedWritesLost }
            let partitions = results.reduce(0) { $0 + $1.stats.partitions }
            let disks = results.reduce(0) { $0 + $1.stats.disksLost }
            let hintsStored = results.reduce(0) { $0 + $1.stats.hintsStored }
            let hintsDelivered = results.reduce(0) { $0 + $1.stats.hintsDelivered }
            let readRepairs = results.reduce(0) { $0 + $1.stats.readRepairs }
            let exchangeRepairs = results.reduce(0) { $0 + $1.stats.repairedByExchange }
            let scanned = results.reduce(0) { $0 + $1.stats.scannedKeys }
            let reaped = results.reduce(0) { $0 + $1.stats.reaped }
            let dropped = results.reduce(0) { $0 + $1.stats.orphansDropped }
            let collected = results.reduce(0) { $0 + $1.stats.acceptorsCollected }
            let handedOver = results.reduce(0) { $0 + $1.stats.casStatesHandedOver }
            let joins = results.reduce(0) { $0 + $1.stats.joins }
            let leaves = results.reduce(0) { $0 + $1.stats.leaves }
            let removes = results.reduce(0) { $0 + $1.stats.removes }
            let transfers = results.reduce(0) { $0 + $1.stats.transfers }
            let clockSteps = results.reduce(0) { $0 + $1.stats.clockSteps }
            let sharded = results.reduce(0) { $0 + $1.stats.shardedNodes }
            let shardMessages = results.reduce(0) { $0 + $1.stats.shardMessages }
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            print("""
                \(workload.rawValue): \(results.count - failed.count) passed, \(failed.count) failed \
                in \((seconds * 10).rounded() / 10) s (\(events) events, \(operations) client operations, \
                \(acknowledged) acknowledged, \(crashes) crashes, \(unsyncedLost) unsynced writes lost to them, \(disks) disks lost, \(partitions) partitions, \
                \(joins) joins, \(leaves) leaves, \(removes) removes, \(transfers) transfers, \(clockSteps) clock steps, \
                \(sharded) nodes with several core instances, \(shardMessages) messages between instances, \
                \(hintsStored) hints stored, \(hintsDelivered) delivered, \(readRepairs) read repairs, \
                \(exchangeRepairs) objects repaired by anti-entropy, \(scanned) keys scanned, \(reaped) dead keys reaped, \(dropped) former replicas' copies dropped, \(collected) acceptor states collected, \(handedOver) partitions' acceptor states gathered)
                """)
        }
        if anyFailed { throw ExitCode(1) }
    }

    /// Runs the seeds on `jobs` threads; prints failures as they happen.
    func runSeeds(_ seeds: [UInt64], options: SimOptions) -> [SimResult] {
        let next = Atomic<Int>(0)
        let results = Mutex<[SimResult]>([])
        let verbose = self.verbose
        let traceKey = seeds.count == 1 ? self.traceKey : nil
        DispatchQueue.concurrentPerform(iterations: min(jobs, seeds.count)) { _ in
            while true {
                let index = next.add(1, ordering: .relaxed).oldValue
                guard index < seeds.count else { return }
                let simulation = Simulation(seed: seeds[index], options: options)
                simulation.traceKey = traceKey
                let result = simulation.run()
                if traceKey != nil { print(simulation.traceLog.joined(separator: "\n")) }
                if !result.passed {
                    var replay = "swift run -c release cairn-sim --workload \(options.workload.rawValue) --seed \(result.seed)"
                    if let broken = options.broken { replay += " --broken \(broken.rawValue)" }
                    print("FAIL \(options.workload.rawValue) seed \(result.seed):\n  "
                          + result.failures.joined(separator: "\n  ") + "\n  replay: \(replay)")
                } else if verbose {
                    print("ok \(options.workload.rawValue) seed \(result.seed): \(result.summary); "
                          + "\(result.stats.operations) ops, \(result.stats.crashes) crashes, "
                          + "\(result.stats.partitions) partitions, converged in \(result.stats.convergenceMilliseconds) ms")
                }
                results.withLock { $0.append(result) }
            }
        }
        return results.withLock { $0 }.sorted { $0.seed < $1.seed }
    }
}
