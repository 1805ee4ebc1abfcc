import ArgumentParser

/// `cairn bench`: benchmarks. `engine` measures the storage engine on its own; `load` drives a
/// cluster with a workload (throughput and latency percentiles, open or closed loop); `requests`,
/// `scan` and `cas` measure one kind of request each; `plot` draws `load`'s percentile files;
/// `seal` measures what sealing contexts costs.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Run benchmarks.",
        subcommands: [
            BenchLoadCommand.self, BenchEngineCommand.self, BenchRequestsCommand.self, BenchScanCommand.self, BenchCASCommand.self,
            BenchPlotCommand.self, BenchSealCommand.self,
        ]
    )
}
