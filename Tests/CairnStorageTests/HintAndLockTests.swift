import Testing
@testable import CairnStorage

#if canImport(Glibc)
import Glibc
#endif

@Suite struct HintFileTests {
    enum Damage: CaseIterable { case missing, truncated, flipped, stale }

    @Test(arguments: Damage.allCases)
    func aDamagedHintFileFallsBackToTheDataFile(damage: Damage) throws {
        let dir = TempDirectory("hint")
        let clock = ManualStorageClock()
        let options = testOptions(clock, maxFileSizeBytes: 16 << 10)
        var engine = try StorageEngine(directory: dir.path, options: options)
        for i in 0..<500 { try engine.put(bytes("k\(i)"), bytes("v\(i)")) }
        for i in 0..<100 { try engine.delete(bytes("k\(i)")) }
        try engine.put(bytes("k0"), bytes("back"))
        try engine.merge(force: true)
        try engine.close()
        engine = try StorageEngine(directory: dir.path, options: options)
        let clean = engine.stats()
        #expect(clean.hintFilesLoaded >= 1 && clean.badHintFiles == 0)
        try engine.close()

        let hint = dir.files(suffix: ".hint").first!
        switch damage {
        case .missing: try FileIO.remove(hint)
        case .truncated: try truncateFile(hint, to: FileIO.fileSize(path: hint)! / 2)
        case .flipped:
            let at = FileIO.fileSize(path: hint)! / 3
            try patchFile(hint, at: at, with: [try FileIO.readAll(path: hint)[at] ^ 0x10])
        case .stale:
            // The data file grew after its hint was written (say, a torn tail left over).
            try appendToFile(hint.replacingSuffix(".hint", with: ".data"), [UInt8](repeating: 0, count: 64))
        }
        engine = try StorageEngine(directory: dir.path, options: options)
        let stats = engine.stats()
        #expect(stats.hintFilesLoaded == clean.hintFilesLoaded - 1)
        #expect(stats.badHintFiles == (damage == .missing ? 0 : 1))
        #expect(stats.dataFilesScanned >= 1)
        #expect(stats.keys == 401)
        #expect(try engine.get(bytes("k0")) == bytes("back"))
        for i in 1..<100 { #expect(try engine.get(bytes("k\(i)")) == nil) }
        for i in 100..<500 { #expect(try engine.get(bytes("k\(i)")) == bytes("v\(i)")) }
    }
}

@Suite struct LockTests {
    @Test func aSecondProcessIsRefusedAndADeadHoldersLockIsTakenOver() throws {
        let dir = TempDirectory("proc-lock")
        let child = try ChildProcess([probePath, "hold", dir.path])
        #expect(child.readLine() == "locked")
        #expect {
            _ = try StorageEngine(directory: dir.path)
        } throws: { error in
            guard let error = error as? StorageError else { return false }
            return error.code == .locked && error.message.contains("pid \(child.pid)")
        }
        child.kill()
        child.wait()
        // The holder died with its LOCK file in place (still naming its pid): take it over.
        #expect(FileIO.exists(dir.path + "/LOCK"))
        let engine = try StorageEngine(directory: dir.path)
        try engine.put(bytes("mine"), bytes("now"))
        try engine.close()
    }
}

extension String {
    func replacingSuffix(_ suffix: String, with replacement: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) + replacement : self
    }
}

@Suite struct FormatTests {
    @Test func aDirectoryInAnotherFormatIsRefusedUntouched() throws {
        let dir = TempDirectory("format")
        let engine = try StorageEngine(directory: dir.path, options: testOptions(ManualStorageClock()))
        try engine.put(bytes("k"), bytes("v"))
        try engine.close()
        let data = dir.files(suffix: ".data")
        let before = try data.map { try FileIO.readAll(path: $0) }
        try FileIO.writeAtomically(bytes("cairn-storage 2\n"), to: dir.path + "/FORMAT", directory: dir.path)
        #expect { _ = try StorageEngine(directory: dir.path) } throws: { ($0 as? StorageError)?.code == .badDirectory }
        #expect(try data.map { try FileIO.readAll(path: $0) } == before)
    }
}

@Suite struct DirectoryRemovalTests {
    @Test func aRemovedEngineDirectoryIsGoneAndAnInterruptedRemovalIsFinishedAtStart() throws {
        let dir = TempDirectory("drop")
        let clock = ManualStorageClock()
        for name in ["3", "4"] {
            let engine = try StorageEngine(directory: dir.path + "/" + name, options: testOptions(clock))
            for i in 0..<300 { try engine.put(bytes("k\(i)"), bytes("value \(i)")) }
            try engine.close()
        }
        try DurableFiles.removeDirectory(dir.path + "/3")
        #expect(!FileIO.exists(dir.path + "/3") && !FileIO.exists(dir.path + "/3.removing"))

        // A crash after the rename leaves `4.removing` with its files: the next start removes it,
        // and an engine opened under the old name starts empty rather than half-emptied.
        try FileIO.rename(dir.path + "/4", dir.path + "/4.removing")
        #expect(try FileIO.listDirectory(dir.path + "/4.removing").count > 0)
        try DurableFiles.removeLeftovers(in: dir.path)
        #expect(try FileIO.listDirectory(dir.path).isEmpty)
        let fresh = try StorageEngine(directory: dir.path + "/4", options: testOptions(clock))
        #expect(try fresh.get(bytes("k1")) == nil)
        try fresh.close()
    }
}
