/// Base64 (RFC 4648) in the two forms the API uses, decoded strictly.
///
/// `.standard` (§4, `+/`, padded) carries binary values in JSON bodies, because that is what
/// `base64` and most libraries write. `.url` (§5, `-_`, unpadded) carries the causal context in
/// a header and in JSON, where it must survive being pasted into a shell or a URL. Decoding
/// accepts only the canonical text of the chosen form: no whitespace, no other alphabet, padding
/// exactly where the form puts it, and zero bits where the last character has bits to spare, so
/// a token has exactly one spelling.
public enum Base64 {
    public enum Form: Hashable, Sendable {
        /// RFC 4648 §4: `A–Z a–z 0–9 + /` with `=` padding.
        case standard
        /// RFC 4648 §5: `A–Z a–z 0–9 - _` without padding.
        case url

        fileprivate var alphabet: [UInt8] {
            switch self {
            case .standard: Base64.standardAlphabet
            case .url: Base64.urlAlphabet
            }
        }

        fileprivate var isPadded: Bool { self == .standard }
    }

    private static let standardAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let urlAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    private static func decodingTable(for alphabet: [UInt8]) -> [UInt8] {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, character) in alphabet.enumerated() { table[Int(character)] = UInt8(index) }
        return table
    }

    private static let standardTable = decodingTable(for: standardAlphabet)
    private static let urlTable = decodingTable(for: urlAlphabet)

    /// The text of `bytes` in `form`.
    public static func encode(_ bytes: [UInt8], _ form: Form) -> String {
        let alphabet = form.alphabet
        var output: [UInt8] = []
        output.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index + 3 <= bytes.count {
            let group = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            output.append(alphabet[Int(group >> 18 & 63)])
            output.append(alphabet[Int(group >> 12 & 63)])
            output.append(alphabet[Int(group >> 6 & 63)])
            output.append(alphabet[Int(group & 63)])
            index += 3
        }
        let rest = bytes.count - index
        if rest > 0 {
            let group = UInt32(bytes[index]) << 16 | (rest == 2 ? UInt32(bytes[index + 1]) << 8 : 0)
            output.append(alphabet[Int(group >> 18 & 63)])
            output.append(alphabet[Int(group >> 12 & 63)])
            if rest == 2 { output.append(alphabet[Int(group >> 6 & 63)]) }
            if form.isPadded { output.append(contentsOf: rest == 2 ? [UInt8(ascii: "=")] : Array("==".utf8)) }
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// The bytes `text` encodes in `form`, or `nil` when it is not the canonical text of any.
    public static func decode(_ text: some Collection<UInt8>, _ form: Form) -> [UInt8]? {
        let table = form == .standard ? standardTable : urlTable
        var characters = Array(text)
        if form.isPadded {
            guard characters.count % 4 == 0 else { return nil }
            var padding = 0
            while padding < 2, characters.last == UInt8(ascii: "=") {
                characters.removeLast()
                padding += 1
            }
        }
        // 4n, 4n+2 and 4n+3 characters are whole encodings; 4n+1 is not.
        guard characters.count % 4 != 1 else { return nil }
        var output: [UInt8] = []
        output.reserveCapacity(characters.count / 4 * 3 + 2)
        var group: UInt32 = 0
        var bits = 0
        for character in characters {
            let value = table[Int(character)]
            guard value != 0xFF else { return nil }
            group = group << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: group >> UInt32(bits)))
                group &= (1 << UInt32(bits)) - 1
            }
        }
        // Leftover bits must be zero, or two texts would decode to the same bytes.
        guard group == 0 else { return nil }
        return output
    }
}
