import ArgumentParser
import Foundation

/// A value given on the command line (UTF-8) or read from a file or stdin (any bytes).
struct ValueOptions: ParsableArguments {
    /// The most bytes read from a file or stdin: well above the node's 4 MiB default, so the
    /// node's own limit decides, yet a mistaken multi-gigabyte file is refused before it is read.
    static let maxFileBytes = 64 << 20

    @Argument(help: "The value, as UTF-8 text (or use --value-file).")
    var value: String?

    @Option(help: ArgumentHelp("Read the value's bytes from this file, or from stdin with '-'.", valueName: "path"))
    var valueFile: String?

    func validate() throws {
        switch (value, valueFile) {
        case (nil, nil): throw ValidationError("give the VALUE or --value-file")
        case (.some, .some): throw ValidationError("give the VALUE or --value-file, not both")
        default: break
        }
    }

    /// The value's bytes. A file that cannot be read is an error (exit 1), not a usage error.
    func bytes() throws -> [UInt8] {
        if let value { return Array(value.utf8) }
        guard let valueFile else { throw ValidationError("give the VALUE or --value-file") }
        do {
            return try Self.read(valueFile)
        } catch {
            printError("cairn: cannot read \(valueFile == "-" ? "stdin" : valueFile): \(error)")
            throw ExitCode(ExitStatus.error)
        }
    }

    struct TooLarge: Error, CustomStringConvertible {
        var description: String { "more than \(ValueOptions.maxFileBytes) bytes" }
    }

    private static func read(_ path: String) throws -> [UInt8] {
        let handle = path == "-" ? FileHandle.standardInput : try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        defer { if path != "-" { try? handle.close() } }
        let data = try handle.read(upToCount: maxFileBytes + 1) ?? Data()
        guard data.count <= maxFileBytes else { throw TooLarge() }
        return Array(data)
    }
}

/// Keys on the command line are UTF-8 text, 1 byte or more.
func keyBytes(_ key: String) throws -> [UInt8] {
    guard !key.isEmpty else { throw ValidationError("the key must not be empty") }
    return Array(key.utf8)
}

/// `--ttl` and `-w`, shared by the commands that write a value (`put`, `resolve`).
struct WriteOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Time to live in seconds.", valueName: "seconds"))
    var ttl: Int64?

    @Option(name: [.customShort("w"), .long], help: "Replicas that must acknowledge (default: the cluster's W).")
    var w: Int?

    func validate() throws {
        if let ttl, ttl < 1 { throw ValidationError("--ttl must be at least 1 second") }
        if let w, w < 1 { throw ValidationError("-w must be at least 1") }
    }
}
