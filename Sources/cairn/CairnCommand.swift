import ArgumentParser

/// The `cairn` command-line tool. Data and cluster commands join `bench` as subcommands here.
@main
struct CairnCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cairn",
        abstract: "Command-line tool for the Cairn key-value store.",
        subcommands: [BenchCommand.self]
    )
}
