import NIOCore

/// Reads client commands from a connection's bytes, one at a time, within `RESPLimits`.
///
/// A pure machine (no channel, no I/O): the connection handler appends what the socket gave to
/// a buffer and calls `next(_:)`, which consumes bytes and returns the next command, refusal or
/// verdict, or `nil` when it needs more bytes. Commands come as RESP arrays of bulk strings
/// (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`, what every client library sends) or as *inline* commands
/// (`GET k\r\n`, a line typed by hand, split on blanks with Redis's quoting rules).
///
/// Every length is checked from its header before anything it announces is read, and a refused
/// command's remaining bytes are thrown away as they arrive (`skippingArray`), never buffered:
/// an array of a million elements or a bulk string of a gigabyte costs one error answer and
/// the time to read past it, and the connection goes on. Where the framing itself is broken (a
/// count that is no number, an element that is not a bulk string, a bulk string without its
/// CRLF), the parser answers one error and resumes at the next line, where Redis would close
/// the connection: a client that sends garbage gets errors, never a hang or a crash. An HTTP
/// request sent to this port (`POST` or a `Host:` line as a command) is a `foreignProtocol`
/// verdict, as Redis closes such connections to defeat cross-protocol scripting from browsers.
public struct RESPParser: Sendable {
    /// What the next bytes amount to.
    public enum Outcome: Hashable, Sendable {
        /// A whole command: the name first, then its arguments; never empty.
        case command([[UInt8]])
        /// A command refused as framed: answer the error. Its bytes are consumed, or will be
        /// skipped by the next calls.
        case refused(RESPError)
        /// Another protocol's request: close the connection without an answer.
        case foreignProtocol
    }

    private enum State: Sendable {
        /// Between commands.
        case start
        /// Inside a `*N` array: elements still to read (the current one included), the
        /// arguments read, their bytes, and the length of the current bulk string once its
        /// header is read (`nil` before).
        case array(remaining: Int, arguments: [[UInt8]], bytes: Int, bulkLength: Int?)
        /// Throwing away the rest of a refused array: whole elements still to skip after the
        /// current one, and bytes of the current bulk string still to skip (its CRLF included).
        case skippingArray(elements: Int, bytes: Int)
        /// Throwing away input up to and including the next LF.
        case skippingLine
    }

    /// The longest `*N` or `$N` header line: a sign, 19 digits and CRLF fit.
    static let maxHeaderBytes = 32

    public let limits: RESPLimits
    private var state: State = .start

    public init(limits: RESPLimits) {
        self.limits = limits
    }

    /// Whether a command has begun and not ended (or a refused one is still being skipped):
    /// a connection that stalls here holds input the server must keep.
    public var isMidCommand: Bool {
        if case .start = state { return false }
        return true
    }

    /// The next outcome from `buffer`, consuming its bytes; `nil` when more bytes are needed
    /// (everything that could be consumed has been).
    public mutating func next(_ buffer: inout ByteBuffer) -> Outcome? {
        while true {
            switch state {
            case .start:
                guard let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else { return nil }
                if first == UInt8(ascii: "*") {
                    switch readHeader(&buffer) {
                    case .needMore: return nil
                    case .malformed(let error, let restOfLine):
                        state = restOfLine ? .skippingLine : .start
                        return .refused(error)
                    case .value(let count):
                        if count <= 0 { continue }  // `*0` and `*-1`: nothing to do, as in Redis.
                        guard count <= limits.maxArguments else {
                            state = .skippingArray(elements: count, bytes: 0)
                            return .refused(RESPError(
                                "Protocol error: \(count) arguments is more than the limit of \(limits.maxArguments)"))
                        }
                        state = .array(remaining: count, arguments: [], bytes: 0, bulkLength: nil)
                    }
                } else {
                    switch readInline(&buffer) {
                    case .needMore: return nil
                    case .empty: continue
                    case .outcome(let outcome): return outcome
                    }
                }

            case .array(let remaining, var arguments, let bytes, let bulkLength):
                guard let length = bulkLength else {
                    guard let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else { return nil }
                    guard first == UInt8(ascii: "$") else {
                        state = .skippingLine
                        return .refused(RESPError("Protocol error: expected '$', got '\(Self.printable(first))'"))
                    }
                    switch readHeader(&buffer) {
                    case .needMore: return nil
                    case .malformed(let error, let restOfLine):
                        state = restOfLine ? .skippingLine : .start
                        return .refused(error)
                    case .value(let length):
                        guard length >= 0 else {
                            state = .skippingArray(elements: remaining - 1, bytes: 0)
                            return .refused(RESPError("Protocol error: invalid bulk length \(length)"))
                        }
                        let total = bytes.addingReportingOverflow(length)
                        guard length <= limits.maxBulkBytes, !total.overflow, total.partialValue <= limits.maxCommandBytes else {
                            state = .skippingArray(elements: remaining - 1, bytes: length.addingReportingOverflow(2).partialValue)
                            return .refused(RESPError(
                                length > limits.maxBulkBytes
                                    ? "Protocol error: a bulk string of \(length) bytes is over the limit of \(limits.maxBulkBytes)"
                                    : "Protocol error: the command's arguments add up to more than \(limits.maxCommandBytes) bytes"))
                        }
                        state = .array(remaining: remaining, arguments: arguments, bytes: total.partialValue, bulkLength: length)
                    }
                    continue
                }
                // The header is read: wait for the whole string and its CRLF.
                guard buffer.readableBytes >= length + 2 else { return nil }
                let argument = buffer.readBytes(length: length)!
                guard buffer.readInteger(as: UInt16.self) == 0x0D0A else {
                    state = .skippingLine
                    return .refused(RESPError("Protocol error: a bulk string does not end with CRLF"))
                }
                // The state's copy of `arguments` is dropped first, so the append does not copy.
                state = .start
                arguments.append(argument)
                if remaining == 1 { return .command(arguments) }
                state = .array(remaining: remaining - 1, arguments: arguments, bytes: bytes, bulkLength: nil)

            case .skippingArray(let elements, let bytes):
                if bytes > 0 {
                    let skipped = min(bytes, buffer.readableBytes)
                    buffer.moveReaderIndex(forwardBy: skipped)
                    state = .skippingArray(elements: elements, bytes: bytes - skipped)
                    if skipped < bytes { return nil }
                    continue
                }
                guard elements > 0 else {
                    state = .start
                    continue
                }
                guard let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else { return nil }
                guard first == UInt8(ascii: "$") else {
                    // Framing lost inside a command already refused: resume at the next line.
                    state = .skippingLine
                    continue
                }
                switch readHeader(&buffer) {
                case .needMore: return nil
                case .malformed(_, let restOfLine): state = restOfLine ? .skippingLine : .start
                case .value(let length): state = .skippingArray(elements: elements - 1, bytes: length >= 0 ? length + 2 : 0)
                }

            case .skippingLine:
                let view = buffer.readableBytesView
                guard let newline = view.firstIndex(of: 10) else {
                    buffer.moveReaderIndex(forwardBy: view.count)
                    return nil
                }
                buffer.moveReaderIndex(forwardBy: newline - view.startIndex + 1)
                state = .start
            }
        }
    }

    // MARK: Lines

    private enum Header {
        case needMore
        /// `restOfLine`: the line had no LF yet, so what follows up to it is still to skip.
        case malformed(RESPError, restOfLine: Bool)
        case value(Int)
    }

    /// Reads a `*N` or `$N` line (the type byte already checked), consuming it unless more
    /// bytes are needed. A line longer than `maxHeaderBytes`, without CR before its LF, or
    /// whose number is not an optional `-` and 1 to 18 digits is malformed; it is consumed up
    /// to its LF when it has one, else the caller skips the rest of the line.
    private func readHeader(_ buffer: inout ByteBuffer) -> Header {
        let view = buffer.readableBytesView
        let searched = view.prefix(Self.maxHeaderBytes)
        guard let newline = searched.firstIndex(of: 10) else {
            guard searched.count == Self.maxHeaderBytes else { return .needMore }
            buffer.moveReaderIndex(forwardBy: searched.count)
            return .malformed(RESPError("Protocol error: a length line longer than \(Self.maxHeaderBytes) bytes"), restOfLine: true)
        }
        let kind = view[view.startIndex] == UInt8(ascii: "*") ? "multibulk" : "bulk"
        let line = view[(view.startIndex + 1)..<newline]
        buffer.moveReaderIndex(forwardBy: newline - view.startIndex + 1)
        guard line.last == 13, let number = Self.integer(line.dropLast()) else {
            return .malformed(RESPError("Protocol error: invalid \(kind) length"), restOfLine: false)
        }
        return .value(number)
    }

    /// An optional `-` and 1 to 18 decimal digits (no `+`, no blanks), so the value cannot
    /// overflow `Int` however it is used afterwards.
    static func integer(_ bytes: some Collection<UInt8>) -> Int? {
        var digits = bytes[...]
        let negative = digits.first == UInt8(ascii: "-")
        if negative { digits = digits.dropFirst() }
        guard (1...18).contains(digits.count) else { return nil }
        var value = 0
        for byte in digits {
            guard (48...57).contains(byte) else { return nil }
            value = value * 10 + Int(byte - 48)
        }
        return negative ? -value : value
    }

    private enum Inline {
        case needMore
        case empty
        case outcome(Outcome)
    }

    /// Reads an inline command: one line, split into arguments by `splitInline`.
    private mutating func readInline(_ buffer: inout ByteBuffer) -> Inline {
        let view = buffer.readableBytesView
        guard let newline = view.prefix(limits.maxInlineBytes + 1).firstIndex(of: 10) else {
            guard view.count > limits.maxInlineBytes else { return .needMore }
            // Drop what is over the limit; the rest of the line up to its LF is skipped next.
            buffer.moveReaderIndex(forwardBy: limits.maxInlineBytes + 1)
            state = .skippingLine
            return .outcome(.refused(RESPError("Protocol error: an inline command longer than \(limits.maxInlineBytes) bytes")))
        }
        var line = view[view.startIndex..<newline]
        buffer.moveReaderIndex(forwardBy: newline - view.startIndex + 1)
        if line.last == 13 { line = line.dropLast() }
        guard let arguments = Self.splitInline(line) else {
            return .outcome(.refused(RESPError("Protocol error: unbalanced quotes in request")))
        }
        guard let name = arguments.first else { return .empty }
        let lowered = name.map { (65...90).contains($0) ? $0 + 32 : $0 }
        if lowered == Array("post".utf8) || lowered == Array("host:".utf8) { return .outcome(.foreignProtocol) }
        guard arguments.count <= limits.maxArguments else {
            return .outcome(.refused(RESPError(
                "Protocol error: \(arguments.count) arguments is more than the limit of \(limits.maxArguments)")))
        }
        return .outcome(.command(arguments))
    }

    /// Splits an inline command line as Redis's `sdssplitargs` does: arguments are separated by
    /// blanks; `"…"` may hold blanks and the escapes `\"`, `\\`, `\n`, `\r`, `\t`, `\b`, `\a`
    /// and `\xHH`; `'…'` may hold blanks and `\'`; a closing quote must be followed by a blank or
    /// the end. `nil` for unbalanced quotes.
    static func splitInline(_ line: some Collection<UInt8>) -> [[UInt8]]? {
        let bytes = Array(line)
        var arguments: [[UInt8]] = []
        var index = 0
        func isBlank(_ byte: UInt8) -> Bool { byte == 32 || byte == 9 || byte == 10 || byte == 13 || byte == 11 || byte == 12 }
        while true {
            while index < bytes.count, isBlank(bytes[index]) { index += 1 }
            guard index < bytes.count else { return arguments }
            var argument: [UInt8] = []
            var quote: UInt8? = nil
            while true {
                guard index < bytes.count else {
                    if quote != nil { return nil }
                    break
                }
                let byte = bytes[index]
                if let open = quote {
                    if open == UInt8(ascii: "\""), byte == UInt8(ascii: "\\"), index + 3 < bytes.count, bytes[index + 1] == UInt8(ascii: "x"),
                       let high = hexDigit(bytes[index + 2]), let low = hexDigit(bytes[index + 3]) {
                        argument.append(high << 4 | low)
                        index += 4
                        continue
                    }
                    if byte == UInt8(ascii: "\\"), index + 1 < bytes.count {
                        let escaped = bytes[index + 1]
                        if open == UInt8(ascii: "\"") {
                            switch escaped {
                            case UInt8(ascii: "n"): argument.append(10)
                            case UInt8(ascii: "r"): argument.append(13)
                            case UInt8(ascii: "t"): argument.append(9)
                            case UInt8(ascii: "b"): argument.append(8)
                            case UInt8(ascii: "a"): argument.append(7)
                            default: argument.append(escaped)
                            }
                            index += 2
                            continue
                        }
                        if escaped == UInt8(ascii: "'") {
                            argument.append(escaped)
                            index += 2
                            continue
                        }
                    }
                    if byte == open {
                        // The closing quote must end the argument.
                        if index + 1 < bytes.count, !isBlank(bytes[index + 1]) { return nil }
                        index += 1
                        break
                    }
                    argument.append(byte)
                    index += 1
                } else {
                    if isBlank(byte) { break }
                    if byte == UInt8(ascii: "\""), argument.isEmpty {
                        quote = byte
                    } else if byte == UInt8(ascii: "'"), argument.isEmpty {
                        quote = byte
                    } else {
                        argument.append(byte)
                    }
                    index += 1
                }
            }
            arguments.append(argument)
        }
    }

    private static func hexDigit(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 48...57: byte - 48
        case 97...102: byte - 87
        case 65...70: byte - 55
        default: nil
        }
    }

    static func printable(_ byte: UInt8) -> String {
        (33...126).contains(byte) ? String(UnicodeScalar(byte)) : "\\x" + String(byte, radix: 16)
    }
}
