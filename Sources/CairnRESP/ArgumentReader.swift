import CairnCore
import CairnHTTP

/// Reads a command's arguments in order, checking each as it is taken.
struct ArgumentReader {
    let arguments: [[UInt8]]
    let limits: RESPLimits
    /// The command's name in upper case (ASCII), as errors name it.
    let name: String
    private var index = 1

    init(arguments: [[UInt8]], limits: RESPLimits) {
        self.arguments = arguments
        self.limits = limits
        self.name = String(decoding: arguments[0].map { (97...122).contains($0) ? $0 - 32 : $0 }, as: UTF8.self)
    }

    var isAtEnd: Bool { index >= arguments.count }

    mutating func bytes() throws(RESPError) -> [UInt8] {
        guard index < arguments.count else { throw RESPError.wrongArguments(name) }
        defer { index += 1 }
        return arguments[index]
    }

    /// The next argument in upper case, for options and subcommands.
    mutating func keyword() throws(RESPError) -> String {
        String(decoding: try bytes().prefix(64).map { (97...122).contains($0) ? $0 - 32 : $0 }, as: UTF8.self)
    }

    mutating func rest() -> [[UInt8]] {
        defer { index = arguments.count }
        return index < arguments.count ? Array(arguments[index...]) : []
    }

    /// A key: 1…`maxKeyBytes` bytes.
    mutating func key() throws(RESPError) -> [UInt8] {
        let key = try bytes()
        guard !key.isEmpty else { throw RESPError("Cairn keys are 1 to \(limits.api.maxKeyBytes) bytes: the empty key is not allowed") }
        guard key.count <= limits.api.maxKeyBytes else {
            throw RESPError("key is longer than the limit of \(limits.api.maxKeyBytes) bytes")
        }
        return key
    }

    /// A value: at most `maxValueBytes` bytes.
    mutating func value() throws(RESPError) -> [UInt8] {
        let value = try bytes()
        guard value.count <= limits.api.maxValueBytes else {
            throw RESPError("value is larger than the limit of \(limits.api.maxValueBytes) bytes")
        }
        return value
    }

    /// One key or more, at most `maxKeysPerCommand`.
    mutating func keys() throws(RESPError) -> [[UInt8]] {
        guard !isAtEnd else { throw RESPError.wrongArguments(name) }
        guard arguments.count - index <= limits.maxKeysPerCommand else {
            throw RESPError("\(name) names more than the limit of \(limits.maxKeysPerCommand) keys")
        }
        var keys: [[UInt8]] = []
        while !isAtEnd { keys.append(try key()) }
        return keys
    }

    /// One key-value pair or more, at most `maxKeysPerCommand`.
    mutating func pairs() throws(RESPError) -> [RESPCommand.KeyValue] {
        let remaining = arguments.count - index
        guard remaining >= 2, remaining % 2 == 0 else { throw RESPError.wrongArguments(name) }
        guard remaining / 2 <= limits.maxKeysPerCommand else {
            throw RESPError("\(name) names more than the limit of \(limits.maxKeysPerCommand) keys")
        }
        var pairs: [RESPCommand.KeyValue] = []
        while !isAtEnd { pairs.append(RESPCommand.KeyValue(key: try key(), value: try value())) }
        return pairs
    }

    /// A signed decimal integer that fits in 64 bits, as Redis reads them.
    mutating func integer(error: RESPError = .notInteger()) throws(RESPError) -> Int64 {
        let text = try bytes()
        guard text.count <= 20, let value = Int64(String(decoding: text, as: UTF8.self)) else { throw error }
        return value
    }

    /// A TTL for `EX`/`SETEX` (seconds) or `PX`/`PSETEX` (milliseconds), within
    /// `1...maxTTLSeconds`.
    mutating func ttl(inMilliseconds: Bool, command: String) throws(RESPError) -> Duration {
        let amount = try integer()
        let maxSeconds = limits.api.maxTTLSeconds
        let maximum = inMilliseconds ? maxSeconds * 1_000 : maxSeconds
        guard amount >= 1, amount <= maximum else {
            throw RESPError(
                "invalid expire time in '\(command.lowercased())' command (1 to \(maxSeconds) seconds)")
        }
        return inMilliseconds ? .milliseconds(amount) : .seconds(amount)
    }

    /// A causal context token as `CAIRN.GETALL` and `CAIRN.PUT` answer it (the HTTP API's
    /// `X-Cairn-Context`, unpadded base64url), or the empty string for none.
    mutating func context() throws(RESPError) -> CausalContext {
        let token = try bytes()
        guard !token.isEmpty else { return CausalContext() }
        guard token.count <= limits.api.maxContextHeaderBytes else {
            throw RESPError("context is longer than \(limits.api.maxContextHeaderBytes) characters")
        }
        do {
            return try ContextSeal.current.open(token)
        } catch .forged {
            throw RESPError("context was not made by this cluster (its seal does not match): send back the one CAIRN.GETALL or CAIRN.PUT answered")
        } catch {
            throw RESPError("context is not a causal context: send back the one CAIRN.GETALL or CAIRN.PUT answered")
        }
    }
}
