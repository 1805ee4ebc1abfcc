/// Why certificates could not be made, loaded or used: one line naming the file and what to do.
public struct TLSSetupError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }

    public init(_ message: String) { self.message = message }
}
