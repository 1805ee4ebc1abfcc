import ArgumentParser
import CairnLoad
import Foundation

/// `cairn bench plot`: one SVG of several HdrHistogram percentile files, to compare runs.
struct BenchPlotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plot",
        abstract: "Plot HdrHistogram percentile files (.hgrm) as one SVG of latency by percentile.",
        discussion: """
            Reads each FILE (what 'cairn bench load --hgrm' writes, or wrk2 --latency, or any \
            HdrHistogram outputPercentileDistribution text; values in milliseconds) and draws \
            each as a line: latency against percentile, the percentile axis logarithmic so \
            99 %, 99.9 %, 99.99 % are evenly spaced. Each line is named after its file unless \
            --names says otherwise.
            """
    )

    @Argument(help: ArgumentHelp("Percentile files (.hgrm).", valueName: "file"))
    var files: [String]

    @Option(name: [.short, .long], help: ArgumentHelp("Where to write the SVG.", valueName: "path"))
    var output: String

    @Option(help: "The chart's title.")
    var title = "Latency by percentile"

    @Option(help: ArgumentHelp("The lines' names, comma-separated, in the order of the files.", valueName: "names"))
    var names: String?

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("name at least one .hgrm file") }
        guard files.count <= 16 else { throw ValidationError("at most 16 files in one plot") }
        if let names, names.split(separator: ",", omittingEmptySubsequences: false).count != files.count {
            throw ValidationError("--names must name each of the \(files.count) files")
        }
    }

    func run() throws {
        let labels = names.map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
            ?? files.map { URL(fileURLWithPath: $0).deletingPathExtension().lastPathComponent }
        var series: [PercentilePlot.Series] = []
        for (file, label) in zip(files, labels) {
            let text: String
            do {
                let data = try Data(contentsOf: URL(fileURLWithPath: file))
                guard data.count <= 64 << 20 else { throw CocoaError(.fileReadTooLarge) }
                text = String(decoding: data, as: UTF8.self)
            } catch {
                printError("cairn: cannot read \(file): \(error.localizedDescription)")
                throw ExitCode(ExitStatus.error)
            }
            do {
                series.append(.init(name: label, distribution: try PercentileDistribution(parsing: text)))
            } catch {
                printError("cairn: \(file) is not a percentile distribution: \(error)")
                throw ExitCode(ExitStatus.error)
            }
        }
        do {
            try Data(PercentilePlot(title: title, series: series).svg().utf8).write(to: URL(fileURLWithPath: output))
        } catch {
            printError("cairn: cannot write \(output): \(error.localizedDescription)")
            throw ExitCode(ExitStatus.error)
        }
    }
}
