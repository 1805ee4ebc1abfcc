import CairnCore
import CairnHTTP
import Testing

/// Contexts go to clients sealed: a token comes back only as a node of the cluster made it.
@Suite struct ContextSealTests {
    static let context = CausalContext([
        ReplicaActor(node: NodeID(high: 1, low: 2), epoch: 3): 7, ReplicaActor(node: NodeID(high: 4, low: 5), epoch: 0): 1,
    ])

    @Test func aTokenOpensUnderTheSameKeyOnly() throws {
        let seal = ContextSeal(secret: Array("a cluster secret of 32 bytes....".utf8), clusterName: "prod")
        let token = seal.token(Self.context)
        #expect(try seal.open(token.utf8) == Self.context)
        // Another node of the same cluster derives the same key.
        #expect(try ContextSeal(secret: Array("a cluster secret of 32 bytes....".utf8), clusterName: "prod").open(token.utf8) == Self.context)
        for other in [ContextSeal(secret: Array("another secret of 32 bytes......".utf8), clusterName: "prod"),
                      ContextSeal(secret: Array("a cluster secret of 32 bytes....".utf8), clusterName: "test"),
                      ContextSeal(secret: nil, clusterName: "prod")] {
            #expect(throws: ContextSeal.Refusal.forged) { try other.open(token.utf8) }
        }
    }

    /// A known answer, computed apart (Python's hmac and hashlib, as Scripts/schemathesis_hooks.py
    /// seals): the format and key derivation stay what the docs say.
    @Test func theEmptyContextOfTheDefaultClusterHasAKnownToken() {
        #expect(ContextSeal.unconfigured.token(CausalContext()) == "AQIBAAAAAE6u9svl0-KvI81LZ2N9wu4")
    }

    @Test func everyAlteredByteIsRefused() throws {
        let seal = ContextSeal(secret: nil, clusterName: "cairn")
        let sealed = Base64.decode(seal.token(Self.context).utf8, .url)!
        for index in sealed.indices {
            var altered = sealed
            altered[index] ^= 0x20
            #expect(throws: ContextSeal.Refusal.forged) { try seal.open(Base64.encode(altered, .url).utf8) }
        }
        #expect(throws: ContextSeal.Refusal.forged) { try seal.open(Base64.encode(Array(sealed.dropLast()), .url).utf8) }
        #expect(throws: ContextSeal.Refusal.forged) { try seal.open(Base64.encode(Self.context.encode(), .url).utf8) }
        #expect(throws: ContextSeal.Refusal.notBase64) { try seal.open("a+b/".utf8) }
    }

    /// Sealed is not enough: a sealed context past the writer bound is still refused.
    @Test func aSealedContextOverTheWriterBoundIsRefused() {
        let seal = ContextSeal(secret: nil, clusterName: "cairn")
        let wide = CausalContext(Dictionary(uniqueKeysWithValues: (0..<UInt64(DVVSet<[UInt8]>.maxWritersOnWrite + 1)).map {
            (ReplicaActor(node: NodeID(high: 9, low: $0), epoch: 0), UInt64(1))
        }))
        #expect {
            try seal.open(seal.token(wide).utf8)
        } throws: { error in
            if case .invalid(let version)? = error as? ContextSeal.Refusal { return version.code == .tooLarge }
            return false
        }
    }

    /// The measuring mode (`--unsafe-mode unsealed-contexts`): bare encodings both ways, and a
    /// sealing node refuses its tokens.
    @Test func theUnsealedModeCarriesNoTagAndASealingNodeRefusesItsTokens() throws {
        let token = ContextSeal.unsealed.token(Self.context)
        #expect(Base64.decode(token.utf8, .url) == Self.context.encode())
        #expect(try ContextSeal.unsealed.open(token.utf8) == Self.context)
        #expect(throws: ContextSeal.Refusal.self) { try ContextSeal.unconfigured.open(token.utf8) }
        #expect(!ContextSeal.unsealed.isSealing && ContextSeal.unconfigured.isSealing)
    }
}
