import Tracing

extension KeyValueService {
    /// Carries out `request` and renders its result or its failure; never throws.
    ///
    /// `KeyValueServiceError`s become their documented statuses; any other error becomes
    /// `500 internal_error` with the error's type but not its text, which may name stored data.
    /// When the process traces requests (`RequestTracing`), a data request runs in a server
    /// span whose context the node passes to the replicas it asks.
    public func respond(to request: APIRequest) async -> APIResponse {
        guard RequestTracing.isEnabled, let operation = request.tracedOperation else { return await respondUntraced(to: request) }
        return await withSpan(operation, ofKind: .server) { span in
            if span.isRecording {
                span.attributes["http.request.method"] = String(operation.prefix { $0 != " " })
                span.attributes["http.route"] = String(operation.drop { $0 != " " }.dropFirst())
            }
            let response = await respondUntraced(to: request)
            if span.isRecording { span.attributes["http.response.status_code"] = Int(response.status.code) }
            if response.status.code >= 500 { span.setStatus(SpanStatus(code: .error)) }
            return response
        }
    }

    private func respondUntraced(to request: APIRequest) async -> APIResponse {
        do {
            switch request {
            case .get(let key, let r, let format):
                return .read(try await get(key: key, r: r), format: format)
            case .put(let key, let value, let ttlSeconds, let supersedes, let w):
                return .written(try await put(key: key, value: value, ttl: ttlSeconds.map { .seconds($0) }, supersedes: supersedes, w: w))
            case .delete(let key, let supersedes, let w):
                return .written(try await delete(key: key, supersedes: supersedes, w: w))
            case .scan(let prefix, let limit, let after, let values):
                return .scanPage(try await scan(prefix: prefix, limit: limit, after: after, values: values))
            case .cas(let key, let expected, let new):
                return .cas(try await cas(key: key, expected: expected, new: new))
            case .casWrite(let key, let new):
                return .cas(try await casWrite(key: key, new: new))
            case .serialGet(let key, let format):
                return .read(try await serialGet(key: key), format: format)
            case .replicaGet(let key, let format):
                let replica = try await replicaGet(key: key)
                var response = APIResponse.read(replica.read, format: format)
                response.headers.add(name: APIRequest.replicaHeader, value: replica.isPrimary ? "primary" : "other")
                return response
            case .clusterStatus:
                return .json(.ok, try await clusterStatus())
            case .clusterPartitions:
                return .json(.ok, try await clusterPartitions())
            case .steerTransfers(let steering):
                return .json(.ok, try await steerTransfers(steering))
            case .antiEntropy(let order):
                return .json(.ok, try await antiEntropy(order))
            case .plan(let leave, let remove):
                return .json(.ok, try await plan(leave: leave, remove: remove))
            case .commit(let token):
                return .json(.ok, try await commit(token: token))
            case .statusPage:
                return .statusPage
            case .leave(let node):
                try await leave(node: node)
                return .leaveAccepted
            case .remove(let node):
                try await remove(node: node)
                return .removed
            case .health:
                return .health(try await health())
            case .metrics:
                return .metrics(try await metricsText())
            }
        } catch {
            return .failure(error)
        }
    }
}

extension APIResponse {
    /// The response for an error thrown by a service.
    public static func failure(_ error: any Error) -> APIResponse {
        switch error {
        case let error as KeyValueServiceError:
            return .error(APIError(error))
        case let error as APIError:
            return .error(error)
        case is CancellationError:
            return .error(APIError(.unavailable, "the request was cancelled"))
        default:
            return .error(APIError(.internalError, "the node failed to serve the request (\(type(of: error)))"))
        }
    }
}
