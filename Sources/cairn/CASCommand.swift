import ArgumentParser

/// `cairn cas KEY --expected V|--absent NEW`: compare-and-set.
struct CASCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cas",
        abstract: "Compare-and-set: write NEW only if the key's value is the expected one.",
        discussion: """
            Linearizable per key (POST /v1/keys/{key}/cas). --absent expects no value (create \
            only if absent); --delete sets no value. Prints "applied", or "not applied" and the \
            current value, exiting 4. A timeout or "outcome_unknown" error means the write may \
            or may not have happened: read the key to find out.
            """
    )

    @Argument(help: "The key (UTF-8 text).")
    var key: String

    @Option(help: "The value the key must have (UTF-8 text).")
    var expected: String?

    @Flag(help: "The key must have no value.")
    var absent = false

    @Flag(help: "Set the new value whatever the key holds (replaces siblings), linearizably.")
    var force = false

    @Argument(help: "The new value, as UTF-8 text (or use --value-file, or --delete).")
    var new: String?

    @Option(help: ArgumentHelp("Read the new value's bytes from this file, or from stdin with '-'.", valueName: "path"))
    var valueFile: String?

    @Flag(help: "Set the key to no value (delete it) instead of a new value.")
    var delete = false

    @OptionGroup(title: "Global options") var options: NodeOptions

    /// `--json`: `{"key", "applied"}`, with `"current"` (and `"siblings"`) when not applied.
    @OptionGroup(title: "Global options") var output: OutputOptions

    func validate() throws {
        _ = try keyBytes(key)
        guard [expected != nil, absent, force].filter({ $0 }).count == 1 else {
            throw ValidationError("give exactly one of --expected VALUE, --absent and --force")
        }
        let newValues = [new != nil, valueFile != nil, delete].filter { $0 }.count
        guard newValues == 1 else { throw ValidationError("give exactly one of NEW, --value-file and --delete") }
    }

    func run() async throws {
        let key = try keyBytes(key)
        let newBytes: [UInt8]?
        if delete {
            newBytes = nil
        } else {
            newBytes = try ValueOptions(value: new, valueFile: valueFile).bytes()
        }
        let expectedBytes = expected.map { Array($0.utf8) }
        let result = try await options.withClient { client in
            force ? try await client.casForce(key: key, new: newBytes) : try await client.cas(key: key, expected: expectedBytes, new: newBytes)
        }
        print(output.json ? Output.casJSON(key: key, result) : Output.cas(result))
        if case .failed = result { throw ExitCode(ExitStatus.notApplied) }
        if case .siblings = result { throw ExitCode(ExitStatus.notApplied) }
    }
}

extension ValueOptions {
    init(value: String?, valueFile: String?) {
        self.init()
        self.value = value
        self.valueFile = valueFile
    }
}
