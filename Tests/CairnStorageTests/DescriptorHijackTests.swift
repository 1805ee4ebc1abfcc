import Glibc
import Testing
@testable import CairnStorage

/// A descriptor the pool holds for an active file, closed behind its back (a double close
/// elsewhere in the process) and reused by another open, must never be used for fallocate:
/// that would extend the other file, and the next append past the real file's end would fault
/// (SIGBUS). The pool checks the descriptor's device and inode and reopens.
@Suite struct DescriptorHijackTests {
    /// The descriptors of this process that name `path`, from /proc/self/fd.
    static func descriptors(of path: String) -> [Int32] {
        let names = (try? FileIO.listDirectory("/proc/self/fd")) ?? []
        return names.compactMap { name -> Int32? in
            guard let fd = Int32(name) else { return nil }
            var buffer = [CChar](repeating: 0, count: 4096)
            let n = readlink("/proc/self/fd/\(name)", &buffer, buffer.count - 1)
            guard n > 0 else { return nil }
            let target = String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            return target == path ? fd : nil
        }
    }

    @Test func aHijackedPooledDescriptorIsNeverUsedForTheActiveFile() throws {
        let runtime = StorageRuntime(maxOpenFiles: 4)
        let dir = TempDirectory("hijack")
        var options = testOptions(ManualStorageClock(), durability: .always, maxFileSizeBytes: 64 << 20)
        options.runtime = runtime
        let engine = try StorageEngine(directory: dir.path, options: options)
        var random = SeededRandom(seed: 41)
        // Incompressible, so the file really grows (LZ4 would shrink a constant value to nothing).
        let value = (0..<(32 << 10)).map { _ in UInt8.random(in: 0...255, using: &random) }
        try engine.put(Array("first".utf8), value)   // the pool now holds the active file's descriptor
        let active = try #require(engine.stats().files.first { $0.isActive })
        let activePath = dir.path + "/" + DataFile.name(id: active.id)
        let pooled = try #require(Self.descriptors(of: activePath).first, "the pool keeps a descriptor of the active file")

        // Someone else closes it, and the number is reused for an unrelated file. `dup2` does
        // both at once, so no other test running in parallel can take the freed number first.
        let decoyPath = dir.path + "/decoy"
        let opened = open(decoyPath, O_RDWR | O_CREAT, 0o644)
        #expect(opened >= 0)
        let decoy = dup2(opened, pooled)
        close(opened)
        #expect(decoy == pooled, "the pooled number now names the unrelated file")
        defer { close(decoy) }

        // Enough appends to need more reserved space than the first reservation (2 MiB).
        for i in 0..<100 { try engine.put(Array("k\(i)".utf8), value) }
        #expect(try engine.get(Array("k99".utf8)) == value)
        var st = stat()
        #expect(stat(decoyPath, &st) == 0 && st.st_size == 0, "the unrelated file was never extended")
        try engine.close()
    }
}
