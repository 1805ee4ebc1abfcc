import ArgumentParser

/// `cairn bench`: benchmarks. `engine` measures the storage engine on its own; cluster
/// benchmarks through a node will sit beside it.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Run benchmarks.",
        subcommands: [BenchEngineCommand.self, BenchRequestsCommand.self, BenchScanCommand.self, BenchCASCommand.self]
    )
}
