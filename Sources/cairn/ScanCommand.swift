import ArgumentParser

/// `cairn scan [PREFIX]`: keys across the whole cluster, through any node.
struct ScanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan",
        abstract: "List keys by prefix, in byte order, one page at a time.",
        discussion: """
            The node the CLI talks to asks one replica of every partition and merges their \
            answers in key order, so the listing covers the whole cluster, also with a node \
            down. Deleted and expired keys are not listed. Prints one key per line (with \
            --values, the key, a tab and its value, or its sibling count); when more remain, \
            says on stderr how to continue with --after, unless --all follows every page.
            """
    )

    @Argument(help: ArgumentHelp("List the keys starting with this text (default: all keys).", valueName: "prefix"))
    var prefixArgument: String?

    @Option(name: .customLong("prefix"), help: ArgumentHelp("The same as the PREFIX argument.", valueName: "prefix"))
    var prefixOption: String?

    @Option(help: "Keys per page, 1...1000 (default: the node's, 100).")
    var limit: Int?

    @Option(help: ArgumentHelp("Continue after this key (the last one of the previous page).", valueName: "key"))
    var after: String?

    @Flag(help: "Also print each key's value (or its number of siblings).")
    var values = false

    @Flag(help: "Follow every page to the end of the listing.")
    var all = false

    @OptionGroup(title: "Global options") var options: NodeOptions

    /// `--json`: `{"keys": [{"key"|"key_base64"}], "next": key | null}`, one line per page.
    @OptionGroup(title: "Global options") var output: OutputOptions

    /// The prefix, given as the argument (`cairn scan user/`) or with `--prefix` (both, if
    /// they agree); empty lists every key.
    var prefix: String { prefixArgument ?? prefixOption ?? "" }

    func validate() throws {
        if let prefixArgument, let prefixOption, prefixArgument != prefixOption {
            throw ValidationError("give the prefix once: as the PREFIX argument or with --prefix")
        }
        if let limit, !(1...1000).contains(limit) { throw ValidationError("--limit must be in 1...1000") }
        if let after { _ = try keyBytes(after) }
    }

    func run() async throws {
        let prefix = Array(prefix.utf8)
        var after = self.after.map { Array($0.utf8) }
        repeat {
            let page = try await options.withClient { client in
                try await client.scan(prefix: prefix, limit: limit, after: after, values: values)
            }
            if output.json {
                print(Output.keysJSON(page))
            } else if !page.keys.isEmpty {
                print(Output.keys(page))
            }
            after = page.next
            if !all, !output.json, let more = Output.moreKeys(page) { printError(more) }
        } while all && after != nil
    }
}
