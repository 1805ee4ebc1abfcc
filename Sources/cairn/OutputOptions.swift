import ArgumentParser

/// `--json`: compact JSON on stdout instead of text, for scripts: one document per command
/// (per page for `scan --all`), in the API's shapes where it has one. A global option like
/// `--node`: accepted before or after the command name, and taken by every command that prints
/// something. Errors stay one line on stderr; the exit status says what happened.
struct OutputOptions: ParsableArguments {
    @Flag(help: "Print JSON instead of text (one document; one per page for scan --all).")
    var json = false
}

/// A command that prints a result, and so takes `--json` (tests hold every such command to it).
protocol PrintingCommand {
    var output: OutputOptions { get }
}

extension PutCommand: PrintingCommand {}
extension GetCommand: PrintingCommand {}
extension DeleteCommand: PrintingCommand {}
extension ResolveCommand: PrintingCommand {}
extension ScanCommand: PrintingCommand {}
extension CASCommand: PrintingCommand {}
extension ClusterStatusCommand: PrintingCommand {}
extension ClusterLeaveCommand: PrintingCommand {}
extension ClusterRemoveCommand: PrintingCommand {}
extension ClusterTransfersCommand: PrintingCommand {}
extension ClusterAntiEntropyCommand: PrintingCommand {}
extension BenchEngineCommand: PrintingCommand {}
extension BenchRequestsCommand: PrintingCommand {}
extension BenchScanCommand: PrintingCommand {}
extension BenchCASCommand: PrintingCommand {}
extension BenchLoadCommand: PrintingCommand {}
