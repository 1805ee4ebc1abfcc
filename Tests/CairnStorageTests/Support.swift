import Logging
import Testing
@testable import CairnStorage

#if canImport(Glibc)
import Glibc
#endif

/// A fresh directory under /tmp, removed when the test is done with it.
final class TempDirectory {
    let path: String

    init(_ name: String = "t") {
        var template = Array("/tmp/cairn-test-\(name)-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp failed: \(errno)")
        path = String(decoding: template.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    // Removed in-process: a fork (system("rm -rf")) would briefly share every open descriptor,
    // flock'd LOCK files included, with the child, and race the lock tests running beside it.
    deinit { removeTree(path) }

    func files(suffix: String) -> [String] {
        ((try? FileIO.listDirectory(path)) ?? []).filter { $0.hasSuffix(suffix) }.sorted().map { path + "/" + $0 }
    }
}

/// A deterministic generator (SplitMix64) so a failing seed replays exactly.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

/// Test logs at warning and above only (expected info lines would bury a failure's output).
/// Bootstrapped once, on the first `testOptions` call.
let quietLogging: Void = LoggingSystem.bootstrap { label in
    var handler = StreamLogHandler.standardError(label: label)
    handler.logLevel = .warning
    return handler
}

/// Options small enough that tests roll files over, merge and recover quickly, with a manual clock.
func testOptions(_ clock: ManualStorageClock, durability: Durability = .none, maxFileSizeBytes: Int = 8 << 10)
    -> StorageOptions
{
    _ = quietLogging
    var options = StorageOptions(durability: durability)
    options.maxFileSizeBytes = maxFileSizeBytes
    options.clock = clock.clock
    options.backgroundMerge = false
    options.hintsOnRollover = false
    options.mergeMinDeadBytes = 0
    options.maxValueBytes = 64 << 10
    return options
}

/// Overwrites a file's bytes at `offset` (for corruption tests).
func patchFile(_ path: String, at offset: Int, with data: [UInt8]) throws {
    let fd = try FileIO.open(path, O_RDWR)
    defer { close(fd) }
    try data.withUnsafeBytes { try FileIO.writeAll(fd, path, $0, at: offset) }
}

func truncateFile(_ path: String, to size: Int) throws {
    let fd = try FileIO.open(path, O_RDWR)
    defer { close(fd) }
    try FileIO.truncate(fd, path, to: size)
}

func appendToFile(_ path: String, _ data: [UInt8]) throws {
    let size = FileIO.fileSize(path: path)!
    try patchFile(path, at: size, with: data)
}

/// The probe executable built beside the test bundle.
var probePath: String {
    var dir = CommandLine.arguments[0]
    while !dir.isEmpty && !dir.hasSuffix(".xctest") && dir != "/" {
        dir = String(dir[..<(dir.lastIndex(of: "/") ?? dir.startIndex)])
    }
    let base = dir.hasSuffix(".xctest") ? String(dir[..<dir.lastIndex(of: "/")!]) : "."
    return base + "/cairn-storage-probe"
}

/// A child process with its stdout on a pipe.
final class ChildProcess {
    let pid: pid_t
    private let readFd: Int32
    private var buffer: [UInt8] = []

    init(_ arguments: [String]) throws {
        var fds: [Int32] = [0, 0]
        precondition(pipe(&fds) == 0)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        posix_spawn_file_actions_addclose(&actions, fds[0])
        var pid: pid_t = 0
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let rc = posix_spawn(&pid, arguments[0], &actions, nil, argv, environ)
        posix_spawn_file_actions_destroy(&actions)
        close(fds[1])
        guard rc == 0 else { throw StorageError(.io, "posix_spawn \(arguments[0]) failed: \(rc)") }
        self.pid = pid
        readFd = fds[0]
    }

    /// The next line of output, or nil at end of output.
    func readLine() -> String? {
        while true {
            if let nl = buffer.firstIndex(of: 10) {
                let line = String(decoding: buffer[..<nl], as: UTF8.self)
                buffer.removeSubrange(...nl)
                return line
            }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let n = chunk.withUnsafeMutableBytes { read(readFd, $0.baseAddress, 4096) }
            if n <= 0 { return nil }
            buffer.append(contentsOf: chunk[..<n])
        }
    }

    func kill(_ signal: Int32 = SIGKILL) { _ = Glibc.kill(pid, signal) }

    @discardableResult
    func wait() -> Int32 {
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        return status
    }

    deinit { close(readFd) }
}

func removeTree(_ path: String) {
    var st = stat()
    guard lstat(path, &st) == 0 else { return }
    if st.st_mode & S_IFMT == S_IFDIR {
        for name in (try? FileIO.listDirectory(path)) ?? [] { removeTree(path + "/" + name) }
        rmdir(path)
    } else {
        unlink(path)
    }
}

/// Runs `body(i)` for i in 0..<count on that many real threads and waits for all of them.
/// (Dispatch's concurrentPerform runs only as many at once as there are cores; group commit
/// needs writers that are really concurrent.)
func runThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    final class Box: @unchecked Sendable {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }
    var threads: [pthread_t] = []
    for i in 0..<count {
        let box = Unmanaged.passRetained(Box { body(i) }).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { raw in
            let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
            box.body()
            return nil
        }, box)
        precondition(rc == 0, "pthread_create: \(rc)")
        threads.append(thread)
    }
    for thread in threads { pthread_join(thread, nil) }
}
