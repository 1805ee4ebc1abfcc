import CairnCore
import NIOHTTP1

/// A response ready to send: status, headers and the whole body.
///
/// Built by the pure functions in this file from results and errors; the channel handler adds
/// only `Content-Length` and `Connection`.
public struct APIResponse: Equatable, Sendable {
    public var status: HTTPResponseStatus
    public var headers: HTTPHeaders
    public var body: [UInt8]

    public init(status: HTTPResponseStatus, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A JSON body with its content type.
    public static func json(_ status: HTTPResponseStatus, _ value: JSONValue, headers: HTTPHeaders = HTTPHeaders()) -> APIResponse {
        var headers = headers
        headers.replaceOrAdd(name: "Content-Type", value: "application/json")
        return APIResponse(status: status, headers: headers, body: value.rendered())
    }

    /// The error body and status of `error`, with the headers it asks for.
    public static func error(_ error: APIError) -> APIResponse {
        var headers = HTTPHeaders()
        for header in error.headers { headers.add(name: header.name, value: header.value) }
        return .json(error.status, error.body, headers: headers)
    }

    /// The text of a context as it travels: sealed by this node's cluster key (`ContextSeal`).
    public static func contextToken(_ context: CausalContext) -> String {
        ContextSeal.current.token(context)
    }

    /// A value in JSON: `{"value": text}` when it is UTF-8, `{"value_base64": ...}` otherwise,
    /// so any byte string round-trips and text stays readable.
    static func valueMembers(_ value: [UInt8], text: String = "value", base64: String = "value_base64") -> [String: JSONValue] {
        if let string = String(validating: value, as: UTF8.self) {
            return [text: .string(string)]
        }
        return [base64: .string(Base64.encode(value, .standard))]
    }

    /// A key in JSON, like a value: `{"key": text}` or `{"key_base64": ...}`.
    static func keyObject(_ key: [UInt8]) -> JSONValue {
        .object(valueMembers(key, text: "key", base64: "key_base64"))
    }

    // MARK: Results of the service

    /// A GET: 200 with the one value, 300 with every sibling, 404 when none is live. The
    /// context travels in `X-Cairn-Context` on all three (on 404 when it is not empty: it
    /// covers tombstones a later write may want to supersede) and in the JSON body.
    public static func read(_ result: ReadResult, format: APIRequest.ValueFormat) -> APIResponse {
        var headers = HTTPHeaders()
        let token = contextToken(result.context)
        if !result.siblings.isEmpty || !result.context.isEmpty {
            headers.add(name: APIRequest.contextHeader, value: token)
        }
        switch result.siblings.count {
        case 0:
            var response = error(APIError(.keyNotFound, "the key has no value"))
            response.headers.add(contentsOf: headers)
            return response
        case 1 where format == .raw:
            headers.add(name: "Content-Type", value: "application/octet-stream")
            return APIResponse(status: .ok, headers: headers, body: result.siblings[0])
        case 1:
            var members = valueMembers(result.siblings[0])
            members["context"] = .string(token)
            return .json(.ok, .object(members), headers: headers)
        default:
            let siblings = result.siblings.map { JSONValue.object(valueMembers($0)) }
            return .json(.multipleChoices, ["siblings": .array(siblings), "context": .string(token)], headers: headers)
        }
    }

    /// A PUT or DELETE that reached its write quorum, with the context of the stored object
    /// (in `X-Cairn-Context` and the body), so a read-modify-write loop needs no extra GET.
    public static func written(_ context: CausalContext) -> APIResponse {
        let token = contextToken(context)
        var headers = HTTPHeaders()
        headers.add(name: APIRequest.contextHeader, value: token)
        return .json(.ok, ["ok": true, "context": .string(token)], headers: headers)
    }

    /// A leave that the node recorded: 202, since the handoff it starts is still to come
    /// (`GET /v1/cluster` shows its progress).
    public static let leaveAccepted = APIResponse.json(.accepted, ["ok": true])

    /// A removal that the node recorded; gossip carries it to the other members.
    public static let removed = APIResponse.json(.ok, ["ok": true])

    /// A scan page: the keys, and `next` (percent-encoded, ready for `after=`) while more remain.
    /// With values, each key's object also has `"value"` (or `"value_base64"`) for one live
    /// value, or `"siblings"` for several, and `"context"`, as a GET shows them.
    public static func scanPage(_ page: ScanPage) -> APIResponse {
        let next: JSONValue = page.nextAfter.map { .string(PercentEncoding.encode($0)) } ?? .null
        let keys = page.entries.map { entry -> JSONValue in
            var members = valueMembers(entry.key, text: "key", base64: "key_base64")
            if let read = entry.read {
                if read.siblings.count == 1 {
                    members.merge(valueMembers(read.siblings[0])) { $1 }
                } else {
                    members["siblings"] = .array(read.siblings.map { .object(valueMembers($0)) })
                }
                members["context"] = .string(contextToken(read.context))
            }
            return .object(members)
        }
        return .json(.ok, ["keys": .array(keys), "next": next])
    }

    /// A CAS: 200 when applied, 412 with the current value (or `null` for absent) when not.
    public static func cas(_ outcome: CASOutcome) -> APIResponse {
        switch outcome {
        case .applied:
            return .json(.ok, ["applied": true])
        case .failed(let current):
            let currentValue: JSONValue = current.map { .object(valueMembers($0)) } ?? .null
            return .json(.preconditionFailed, ["applied": false, "current": currentValue])
        case .siblings(let values):
            return .json(.preconditionFailed, [
                "applied": false, "current": .null, "siblings": .array(values.map { .object(valueMembers($0)) }),
            ])
        }
    }

    /// Health: 200 when healthy, 503 otherwise, so load balancers need not read the body.
    public static func health(_ report: HealthReport) -> APIResponse {
        .json(
            report.isHealthy ? .ok : .serviceUnavailable,
            ["status": .string(report.isHealthy ? "ok" : "unhealthy"), "details": .object(report.details)])
    }

    /// The status page (``StatusPage``): one HTML document with its style and script inline.
    /// The content security policy lets it load nothing and talk to nothing but this node.
    public static var statusPage: APIResponse {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/html; charset=utf-8")
        headers.add(name: "Cache-Control", value: "no-cache")
        headers.add(name: "Content-Security-Policy", value: StatusPage.contentSecurityPolicy)
        headers.add(name: "X-Content-Type-Options", value: "nosniff")
        headers.add(name: "Referrer-Policy", value: "no-referrer")
        return APIResponse(status: .ok, headers: headers, body: StatusPage.html)
    }

    /// Metrics in the Prometheus text exposition format.
    public static func metrics(_ text: String) -> APIResponse {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/plain; version=0.0.4; charset=utf-8")
        return APIResponse(status: .ok, headers: headers, body: Array(text.utf8))
    }
}
