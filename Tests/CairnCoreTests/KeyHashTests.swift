import CXXHash
import Testing
@testable import CairnCore

/// xxHash3 of a key, as the node computes it, for tests that place real keys.
func xxh3(_ bytes: [UInt8]) -> KeyHash {
    KeyHash(bytes.withUnsafeBytes { cairn_xxh3_64($0.baseAddress, $0.count) })
}

@Suite struct KeyHashTests {
    @Test func printsAsSixteenHexDigitsAndOrdersByValue() {
        #expect(KeyHash(0xAB).description == "00000000000000ab")
        #expect(KeyHash(1) < KeyHash(2))
        #expect(xxh3(Array("a".utf8)) != xxh3(Array("b".utf8)))
    }
}
