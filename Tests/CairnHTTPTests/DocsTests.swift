import Foundation
import Testing

@testable import CairnHTTP

/// docs/api.md and docs/openapi.yaml name every error code the code can send, and no other.
@Suite struct DocsTests {
    static let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("docs")

    @Test func everyErrorCodeIsDocumented() throws {
        let api = try String(contentsOf: Self.docs.appendingPathComponent("api.md"), encoding: .utf8)
        let openAPI = try String(contentsOf: Self.docs.appendingPathComponent("openapi.yaml"), encoding: .utf8)
        let lines = openAPI.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        let enumStart = try #require(lines.firstIndex(of: "code:"))
        let listed = lines[(enumStart + 3)...].prefix { $0.hasPrefix("- ") }.map { String($0.dropFirst(2)) }
        #expect(Set(listed) == Set(APIError.Code.allCases.map(\.rawValue)))
        #expect(listed.count == APIError.Code.allCases.count)
        for code in APIError.Code.allCases {
            #expect(api.contains("`\(code.rawValue)`"), "\(code.rawValue) missing from api.md")
        }
    }
}
