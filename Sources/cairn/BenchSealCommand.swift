import ArgumentParser
import CairnCore
import CairnHTTP
import Foundation

/// `cairn bench seal`: what sealing contexts costs a node per request, in-process: the token of
/// every read and write answer (`ContextSeal.token`) and the check of every context a client
/// sends back (`ContextSeal.open`), against the same work without the seal (the encoding and
/// base64 alone, as before contexts were sealed).
struct BenchSealCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seal",
        abstract: "Cost of sealing causal contexts: ns per token made and opened, with and without the seal.",
        discussion: """
            For contexts naming --writers writers, times --operations tokens made and opened \
            with the seal (HMAC-SHA256, 16-byte tag) and without it (encoding and base64 only). \
            Prints ns per operation and the difference, to compare with a request's CPU cost \
            (docs/benchmarks.md, "Sealed contexts").
            """
    )

    @Option(help: "Writers (actors) in each context: 1 to 3 is typical (one per coordinating node and epoch).")
    var writers = 3

    @Option(help: "Tokens made and opened per measurement.")
    var operations = 200_000

    @Option(help: "Measurements; the median is printed.")
    var repeats = 5

    func validate() throws {
        guard (1...1024).contains(writers) else { throw ValidationError("--writers must be in 1...1024") }
        guard operations >= 1000, repeats >= 1 else { throw ValidationError("--operations ≥ 1000 and --repeats ≥ 1") }
    }

    func run() throws {
        let context = CausalContext(Dictionary(uniqueKeysWithValues: (0..<writers).map {
            (ReplicaActor(node: NodeID(high: 0x5EA1, low: UInt64($0)), epoch: 1), UInt64(1_000 + $0))
        }))
        let seal = ContextSeal(secret: Array("a cluster secret of 32 bytes....".utf8), clusterName: "bench")
        let sealedToken = seal.token(context)
        let plainToken = Base64.encode(context.encode(), .url)

        func median(_ body: () -> Int) -> Double {
            var samples: [Double] = []
            for _ in 0..<repeats {
                let start = ContinuousClock.now
                var sink = 0
                for _ in 0..<operations { sink &+= body() }
                let elapsed = ContinuousClock.now - start
                if sink == 42 { print("") }  // keeps the work from being optimised away
                samples.append(Double(elapsed.components.attoseconds) / 1e9 + Double(elapsed.components.seconds) * 1e9)
            }
            samples.sort()
            return samples[samples.count / 2] / Double(operations)
        }

        let makeSealed = median { seal.token(context).utf8.count }
        let makePlain = median { Base64.encode(context.encode(), .url).utf8.count }
        let openSealed = median { ((try? seal.open(sealedToken.utf8))?.entries.count) ?? 0 }
        let openPlain = median {
            guard let bytes = Base64.decode(plainToken.utf8, .url), let decoded = try? CausalContext(decoding: bytes) else { return 0 }
            return decoded.entries.count
        }
        print("contexts of \(writers) writers: token \(sealedToken.utf8.count) characters sealed, \(plainToken.utf8.count) unsealed")
        print(String(format: "make a token:  %7.0f ns sealed, %7.0f ns unsealed: the seal adds %6.0f ns", makeSealed, makePlain,
                     makeSealed - makePlain))
        print(String(format: "open a token:  %7.0f ns sealed, %7.0f ns unsealed: the seal adds %6.0f ns", openSealed, openPlain,
                     openSealed - openPlain))
    }
}
