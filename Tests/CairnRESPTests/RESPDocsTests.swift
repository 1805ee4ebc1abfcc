import Foundation
import Testing

@testable import CairnRESP

/// docs/resp.md names every error code the listener can send, and every command it answers.
@Suite struct RESPDocsTests {
    static let page = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("docs/resp.md")

    @Test func everyErrorCodeAndCommandIsDocumented() throws {
        let text = try String(contentsOf: Self.page, encoding: .utf8)
        for code in RESPError.Code.allCases {
            #expect(text.contains("| `\(code.rawValue)` |"), "\(code.rawValue) missing from the errors table of docs/resp.md")
        }
        for entry in RESPCommandTable.entries {
            #expect(text.contains("`\(entry.name.uppercased())"), "\(entry.name) missing from docs/resp.md")
        }
    }
}
