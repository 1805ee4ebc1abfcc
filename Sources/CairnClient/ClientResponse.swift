import CairnHTTP

/// One whole response as it came off the wire: status, headers, body.
struct ClientResponse: Hashable, Sendable {
    var status: Int
    var headers: [ClientRequest.Header]
    var body: [UInt8]

    init(status: Int, headers: [ClientRequest.Header] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    var isSuccess: Bool { (200..<300).contains(status) }

    /// The essence of `Content-Type`, lowercased (`application/json`), `nil` when absent.
    var mediaType: String? {
        guard let value = header("Content-Type") else { return nil }
        let essence = value.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        return essence.trimmingCharacters(" \t").lowercased()
    }

    /// The body as JSON, or `malformedResponse` naming what was expected.
    func json(_ what: String) throws(CairnClientError) -> JSONValue {
        do {
            return try JSONParser.parse(body)
        } catch {
            throw .malformedResponse("\(what) is not JSON (HTTP \(status), \(error))")
        }
    }

    /// The error an error status stands for: the API's `{"error": {"code", "message"}}` when
    /// the body is one, else the status with an empty code and a printable excerpt of the body.
    func apiError() -> CairnClientError {
        if let document = try? JSONParser.parse(body), case .string(let code)? = document["error"]?["code"] {
            let message: String
            if case .string(let text)? = document["error"]?["message"] { message = text } else { message = code }
            return .http(status: status, code: code, message: message)
        }
        let excerpt = String(decoding: body.prefix(200), as: UTF8.self)
            .map { $0.isASCII && ($0.isLetter || $0.isNumber || $0.isPunctuation || $0.isSymbol || $0 == " ") ? $0 : " " }
        let text = String(excerpt).trimmingCharacters(" ")
        return .http(status: status, code: "", message: text.isEmpty ? "no Cairn error body" : text)
    }
}

extension StringProtocol {
    func trimmingCharacters(_ characters: String) -> String {
        let set = Set(characters)
        guard let first = firstIndex(where: { !set.contains($0) }), let last = lastIndex(where: { !set.contains($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
