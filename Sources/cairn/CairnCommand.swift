import ArgumentParser
import Foundation
import Logging

/// The `cairn` command-line tool. Data and cluster commands join `bench` as subcommands here.
@main
struct CairnCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cairn",
        abstract: "Command-line tool for the Cairn key-value store.",
        subcommands: [BenchCommand.self]
    )
}

/// Sends library logs to stderr at `level` (warnings and worse by default, so tool output
/// stays clean; `CAIRN_LOG_LEVEL=info` or `debug` shows more). Only executables bootstrap.
func bootstrapLogging(default level: Logger.Level = .warning) {
    let chosen = ProcessInfo.processInfo.environment["CAIRN_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? level
    LoggingSystem.bootstrap { label in
        var handler = StreamLogHandler.standardError(label: label)
        handler.logLevel = chosen
        return handler
    }
}
