import NIOCore

/// A RESP2 reply (the Redis serialization protocol, https://redis.io/docs/latest/develop/reference/protocol-spec/):
/// what a server answers a command with.
public enum RESPValue: Sendable, Hashable {
    /// `+OK\r\n`
    case simpleString(String)
    /// `-ERR message\r\n`: the server refused the command; an answer, not a broken connection.
    case error(String)
    /// `:42\r\n`
    case integer(Int64)
    /// `$5\r\nhello\r\n`; `nil` for the null bulk string `$-1\r\n` (a GET of a missing key).
    case bulkString([UInt8]?)
    /// `*2\r\n…`; `nil` for the null array `*-1\r\n`.
    case array([RESPValue]?)

    /// Appends `command` as RESP2 sends it: an array of bulk strings (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`).
    public static func encode(command: [[UInt8]], into buffer: inout ByteBuffer) {
        buffer.writeString("*\(command.count)\r\n")
        for argument in command {
            buffer.writeString("$\(argument.count)\r\n")
            buffer.writeBytes(argument)
            buffer.writeString("\r\n")
        }
    }
}
