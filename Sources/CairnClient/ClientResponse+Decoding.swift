import CairnHTTP

/// What each endpoint's response means (docs/api.md), as pure functions of the response.
extension ClientResponse {
    /// A GET: 200 one value (raw bytes or JSON), 300 siblings (JSON), 404 `key_not_found`
    /// absent (with a context when the key has a history). Any other status is its error.
    func read() throws(CairnClientError) -> CairnClient.Read {
        let context = header(APIRequest.contextHeader)
        switch status {
        case 200 where mediaType == "application/octet-stream":
            return CairnClient.Read(siblings: [body], context: context)
        case 200:
            let document = try json("a read")
            let value = try Self.value(document, text: "value", base64: "value_base64", what: "the value")
            return CairnClient.Read(siblings: [value], context: context ?? Self.string(document["context"]))
        case 300:
            let document = try json("a sibling list")
            guard case .array(let items)? = document["siblings"] else {
                throw .malformedResponse("a 300 response without a \"siblings\" array")
            }
            var siblings: [[UInt8]] = []
            for item in items {
                siblings.append(try Self.value(item, text: "value", base64: "value_base64", what: "a sibling"))
            }
            return CairnClient.Read(siblings: siblings, context: context ?? Self.string(document["context"]))
        case 404:
            let error = apiError()
            guard case .http(_, "key_not_found", _) = error else { throw error }
            return CairnClient.Read(siblings: [], context: context)
        default:
            throw isSuccess ? .malformedResponse("a read answered with HTTP \(status)") : apiError()
        }
    }

    /// A PUT, DELETE, leave or remove: any 2xx (`{"ok": true}`) is success.
    func written() throws(CairnClientError) {
        guard isSuccess else { throw apiError() }
    }

    /// A PUT or DELETE: success, with the stored object's context (`X-Cairn-Context`).
    func writtenContext() throws(CairnClientError) -> String? {
        guard isSuccess else { throw apiError() }
        return header(APIRequest.contextHeader)
    }

    /// A scan page: `{"keys": [{"key"|"key_base64"}], "next": percent-encoded | null}`.
    func keyPage() throws(CairnClientError) -> CairnClient.KeyPage {
        guard isSuccess else { throw apiError() }
        let document = try json("a scan page")
        guard case .array(let items)? = document["keys"] else {
            throw .malformedResponse("a scan page without a \"keys\" array")
        }
        var keys: [[UInt8]] = []
        var reads: [CairnClient.Read] = []
        for item in items {
            keys.append(try Self.value(item, text: "key", base64: "key_base64", what: "a key"))
            guard let context = Self.string(item["context"]) else { continue }
            if case .array(let siblings)? = item["siblings"] {
                var values: [[UInt8]] = []
                for sibling in siblings {
                    values.append(try Self.value(sibling, text: "value", base64: "value_base64", what: "a sibling"))
                }
                reads.append(CairnClient.Read(siblings: values, context: context))
            } else {
                reads.append(CairnClient.Read(
                    siblings: [try Self.value(item, text: "value", base64: "value_base64", what: "a value")], context: context))
            }
        }
        guard reads.isEmpty || reads.count == keys.count else {
            throw .malformedResponse("a scan page with values for some keys only")
        }
        let values = reads.isEmpty ? nil : reads
        switch document["next"] {
        case nil, .null?:
            return CairnClient.KeyPage(keys: keys, next: nil, reads: values)
        case .string(let text)?:
            do {
                return CairnClient.KeyPage(keys: keys, next: try PercentEncoding.decode(text.utf8, as: .queryValue), reads: values)
            } catch {
                throw .malformedResponse("a scan page whose \"next\" is not percent-encoded (\(error))")
            }
        default:
            throw .malformedResponse("a scan page whose \"next\" is neither a string nor null")
        }
    }

    /// A CAS: 200 `{"applied": true}`, 412 `{"applied": false, "current": value | null}`.
    func casResult() throws(CairnClientError) -> CairnClient.CASResult {
        switch status {
        case 200:
            return .applied
        case 412:
            let document = try json("a failed CAS")
            if case .array(let siblings)? = document["siblings"] {
                var values: [[UInt8]] = []
                for sibling in siblings {
                    values.append(try Self.value(sibling, text: "value", base64: "value_base64", what: "a sibling"))
                }
                return .siblings(values)
            }
            switch document["current"] {
            case nil:
                throw .malformedResponse("a failed CAS without \"current\"")
            case .null?:
                return .failed(current: nil)
            case let current?:
                return .failed(current: try Self.value(current, text: "value", base64: "value_base64", what: "the current value"))
            }
        default:
            throw isSuccess ? .malformedResponse("a CAS answered with HTTP \(status)") : apiError()
        }
    }

    /// Health: 200 healthy, 503 with the same body unhealthy (not an error: the node answered).
    func health() throws(CairnClientError) -> CairnClient.Health {
        guard status == 200 || status == 503 else { throw apiError() }
        let document = try json("a health report")
        guard case .string(let state)? = document["status"] else {
            if status == 503 { throw apiError() }
            throw .malformedResponse("a health report without \"status\"")
        }
        guard case .object(let details)? = document["details"] ?? .object([:]) else {
            throw .malformedResponse("a health report whose \"details\" is not an object")
        }
        return CairnClient.Health(isHealthy: status == 200 && state == "ok", details: details)
    }

    /// The cluster view, kept as the bytes the node sent and parsed.
    func clusterStatus() throws(CairnClientError) -> ClusterStatus {
        guard isSuccess else { throw apiError() }
        return try ClusterStatus(raw: body)
    }

    // MARK: Helpers

    /// The bytes of `{text: "…"}` (UTF-8) or `{base64: "…"}` (padded standard base64).
    static func value(_ object: JSONValue, text: String, base64: String, what: String) throws(CairnClientError) -> [UInt8] {
        switch (object[text], object[base64]) {
        case (.string(let string)?, nil):
            return Array(string.utf8)
        case (nil, .string(let encoded)?):
            guard let bytes = Base64.decode(encoded.utf8, .standard) else {
                throw .malformedResponse("\(what) has a \"\(base64)\" that is not base64")
            }
            return bytes
        default:
            throw .malformedResponse("\(what) has neither a \"\(text)\" nor a \"\(base64)\" string")
        }
    }

    static func string(_ value: JSONValue?) -> String? {
        if case .string(let text)? = value { return text }
        return nil
    }
}
