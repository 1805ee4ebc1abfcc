/// A failure while setting up or running a benchmark, with the engine and call that failed.
///
/// The adapters turn every C return code and every thrown engine error into this one type so
/// the command can print what went wrong and where (engine, operation, code) and exit non-zero.
public struct BenchError: Error, CustomStringConvertible {
    public let engine: String
    public let operation: String
    public let message: String

    public init(engine: String, operation: String, message: String) {
        self.engine = engine
        self.operation = operation
        self.message = message
    }

    public var description: String { "\(engine): \(operation) failed: \(message)" }
}
