import CairnHTTP

/// A minimal HTTP/1.1 response reader for the tests: status line, headers, a
/// `Content-Length` body. Written separately from NIO's decoder so the server's bytes on the
/// wire are what is checked.
struct RawResponse: Equatable {
    var status: Int
    var headers: [(name: String, value: String)]
    var body: [UInt8]

    static func == (a: RawResponse, b: RawResponse) -> Bool {
        a.status == b.status && a.body == b.body && a.headers.map(\.name) == b.headers.map(\.name)
            && a.headers.map(\.value) == b.headers.map(\.value)
    }

    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    var text: String { String(decoding: body, as: UTF8.self) }

    func json() throws -> JSONValue { try JSONParser.parse(body) }

    /// The `error.code` of an error body.
    var errorCode: String? {
        guard case .string(let code)? = (try? json())?["error"]?["code"] else { return nil }
        return code
    }

    /// Takes every complete response (informational ones included) off the front of `buffer`.
    static func parseAll(_ buffer: inout [UInt8]) -> [RawResponse] {
        var responses: [RawResponse] = []
        while let response = parseOne(&buffer) { responses.append(response) }
        return responses
    }

    static func parseOne(_ buffer: inout [UInt8]) -> RawResponse? {
        let separator = Array("\r\n\r\n".utf8)
        guard let headEnd = buffer.indices.first(where: { buffer[$0...].starts(with: separator) }) else { return nil }
        let lines = String(decoding: buffer[..<headEnd], as: UTF8.self).components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ", maxSplits: 2)
        precondition(statusParts.count >= 2 && statusParts[0].hasPrefix("HTTP/1."), "bad status line \(lines[0])")
        let status = Int(statusParts[1])!
        var headers: [(name: String, value: String)] = []
        for line in lines.dropFirst() {
            let colon = line.firstIndex(of: ":")!
            headers.append((name: String(line[..<colon]), value: String(line[line.index(after: colon)...].drop { $0 == " " })))
        }
        let length = headers.first { $0.name.lowercased() == "content-length" }.map { Int($0.value)! } ?? 0
        let bodyStart = headEnd + separator.count
        guard buffer.count >= bodyStart + length else { return nil }
        let body = Array(buffer[bodyStart..<(bodyStart + length)])
        buffer.removeFirst(bodyStart + length)
        return RawResponse(status: status, headers: headers, body: body)
    }
}

extension String {
    func components(separatedBy separator: String) -> [String] {
        var parts: [String] = []
        var rest = Substring(self)
        while let range = rest.firstRange(of: separator) {
            parts.append(String(rest[..<range.lowerBound]))
            rest = rest[range.upperBound...]
        }
        parts.append(String(rest))
        return parts
    }
}

/// A request written by hand, so tests control every byte.
func rawRequest(
    _ method: String, _ target: String, headers: [(String, String)] = [], body: [UInt8] = [], contentLength: Bool = true
) -> [UInt8] {
    var text = "\(method) \(target) HTTP/1.1\r\nHost: test\r\n"
    for (name, value) in headers { text += "\(name): \(value)\r\n" }
    if contentLength && (!body.isEmpty || method == "PUT" || method == "POST") { text += "Content-Length: \(body.count)\r\n" }
    text += "\r\n"
    return Array(text.utf8) + body
}

func rawRequest(_ method: String, _ target: String, headers: [(String, String)] = [], json: String) -> [UInt8] {
    rawRequest(method, target, headers: [("Content-Type", "application/json")] + headers, body: Array(json.utf8))
}
