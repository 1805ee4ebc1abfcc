import ArgumentParser

/// `cairn scan --prefix P`: one page of keys from the node the CLI talks to.
struct ScanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan",
        abstract: "List keys by prefix, in byte order, one page at a time.",
        discussion: """
            The scan is served by the node the CLI talks to, from the partitions it stores \
            itself: until the cluster-wide scan lands (DESIGN.md §2, "Prefix scans"; the \
            internode protocol has no scan message yet), a key whose replicas all live on other \
            nodes is not listed. To list everything, scan every node and merge. Prints one key \
            per line; when more remain, says on stderr how to continue with --after.
            """
    )

    @Option(help: "Keys starting with this text (default: all keys).")
    var prefix: String = ""

    @Option(help: "Keys per page, 1...1000 (default: the node's, 100).")
    var limit: Int?

    @Option(help: ArgumentHelp("Continue after this key (the last one of the previous page).", valueName: "key"))
    var after: String?

    @Flag(help: "Print JSON: {\"keys\": [{\"key\"|\"key_base64\"}], \"next\": key | null}.")
    var json = false

    @OptionGroup var options: NodeOptions

    func validate() throws {
        if let limit, !(1...1000).contains(limit) { throw ValidationError("--limit must be in 1...1000") }
        if let after { _ = try keyBytes(after) }
    }

    func run() async throws {
        let prefix = Array(prefix.utf8)
        let after = self.after.map { Array($0.utf8) }
        let page = try await options.withClient { client in
            try await client.scan(prefix: prefix, limit: limit, after: after)
        }
        if json {
            print(Output.keysJSON(page))
            return
        }
        if !page.keys.isEmpty { print(Output.keys(page)) }
        if let more = Output.moreKeys(page) { printError(more) }
    }
}
