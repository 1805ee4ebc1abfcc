// A process for the storage tests to start, kill and race:
//   cairn-storage-probe write DIR DURABILITY COUNT   put key-i = value-i, print "ack i" after each
//   cairn-storage-probe hold DIR                     open DIR, print "locked", sleep until killed
// It exists so crash and lock tests use a real second process, not a simulation.
import CairnStorage

#if canImport(Glibc)
import Glibc
#endif

let args = CommandLine.arguments

/// Writes a line straight to a descriptor: no stdio buffer, so an "ack" printed is an ack seen.
func say(_ line: String, fd: Int32 = 1) {
    let bytes = Array((line + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
}

func fail(_ message: String) -> Never {
    say("cairn-storage-probe: \(message)", fd: 2)
    exit(2)
}
guard args.count >= 3 else { fail("usage: write DIR DURABILITY COUNT | hold DIR") }

do {
    switch args[1] {
    case "write":
        guard args.count == 5, let durability = Durability(parsing: args[3]), let count = Int(args[4]) else {
            fail("usage: write DIR DURABILITY COUNT")
        }
        var options = StorageOptions(durability: durability)
        options.maxFileSizeBytes = 256 << 10  // roll over often so rollovers happen under the kill
        let engine = try StorageEngine(directory: args[2], options: options)
        for i in 0..<count {
            try engine.put(Array("key-\(i)".utf8), Array("value-\(i)-".utf8) + [UInt8](repeating: UInt8(i % 251), count: 200))
            say("ack \(i)")
        }
        try engine.close()
        say("done")
    case "hold":
        let engine = try StorageEngine(directory: args[2])
        say("locked")
        while true { sleep(1) }
        _ = engine
    default:
        fail("unknown mode \(args[1])")
    }
} catch {
    fail("\(error)")
}
