import CairnCore
import Foundation

// Built normally, `cairn-fuzz` replays inputs or writes seed corpora:
//
//     cairn-fuzz TARGET FILE...     run TARGET on each file (a crash reproduces)
//     cairn-fuzz --seeds DIR        write the seed corpus of every target under DIR/TARGET/
//
// Built with `--sanitize fuzzer` (Scripts/fuzz.sh), libFuzzer's own main runs instead and calls
// `LLVMFuzzerTestOneInput`, with the target named by CAIRN_FUZZ_TARGET.

/// The target this process fuzzes (libFuzzer mode), from CAIRN_FUZZ_TARGET, looked up once.
enum LibFuzzerTarget {
    static let chosen: @Sendable ([UInt8]) -> Void = {
        let name = ProcessInfo.processInfo.environment["CAIRN_FUZZ_TARGET"] ?? ""
        guard let target = FuzzTargets.all[name] else {
            FileHandle.standardError.write(Data("CAIRN_FUZZ_TARGET must be one of: \(FuzzTargets.all.keys.sorted().joined(separator: ", "))\n".utf8))
            exit(2)
        }
        return target
    }()
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    LibFuzzerTarget.chosen(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

// Scripts/fuzz.sh builds with -DCAIRN_LIBFUZZER: libFuzzer's main, not this one.
#if !CAIRN_LIBFUZZER
@main
enum CairnFuzzMain {
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.count == 2, arguments[0] == "--seeds" {
            do {
                try FuzzSeeds.write(to: arguments[1])
            } catch {
                FileHandle.standardError.write(Data("cairn-fuzz: \(error)\n".utf8))
                exit(1)
            }
        } else if let name = arguments.first, let target = FuzzTargets.all[name] {
            for path in arguments.dropFirst() {
                guard let data = FileManager.default.contents(atPath: path) else {
                    FileHandle.standardError.write(Data("cairn-fuzz: cannot read \(path)\n".utf8))
                    exit(1)
                }
                target(Array(data))
            }
            print("cairn-fuzz: \(name): \(arguments.count - 1) inputs ran without a crash")
        } else {
            FileHandle.standardError.write(Data("""
                usage: cairn-fuzz TARGET FILE...   (TARGET: \(FuzzTargets.all.keys.sorted().joined(separator: ", ")))
                       cairn-fuzz --seeds DIR
                Fuzzing itself: Scripts/fuzz.sh TARGET [SECONDS]

                """.utf8))
            exit(2)
        }
    }
}
#endif
