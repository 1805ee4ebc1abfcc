import Crypto

/// Who may use a node's client ports: bearer tokens, each with a role (docs/security.md,
/// "Client authentication").
///
/// A `data` token reads and writes keys (and sees `/metrics` and the cluster's status); an
/// `admin` token may also change membership (`/v1/cluster/leave`, `/v1/cluster/remove`).
/// `/health` needs no token, so load balancers and orchestrators can probe it; nor does the
/// status page (`/ui`), which holds no data and asks for a token when the API does. Over HTTP a token
/// travels as `Authorization: Bearer TOKEN`; over RESP as `AUTH TOKEN` (or `AUTH role TOKEN`,
/// or `HELLO 3 AUTH role TOKEN`).
public struct ClientAuth: Sendable, Hashable {
    public enum Role: String, Sendable, Hashable, Comparable, CaseIterable {
        case data
        case admin

        public static func < (a: Role, b: Role) -> Bool { a == .data && b == .admin }
    }

    /// The shortest token accepted: 16 bytes (128 bits when random).
    public static let minimumTokenBytes = 16

    /// Tokens by their SHA-256, so a lookup compares digests, not the secrets themselves.
    private let roles: [[UInt8]: Role]

    public init(tokens: [(token: [UInt8], role: Role)]) {
        var roles: [[UInt8]: Role] = [:]
        for (token, role) in tokens { roles[Self.digest(token)] = max(role, roles[Self.digest(token)] ?? role) }
        self.roles = roles
    }

    static func digest(_ token: some Sequence<UInt8>) -> [UInt8] { Array(SHA256.hash(data: Array(token))) }

    /// The role of `token`, nil when it is none of the node's. The token is hashed first, so
    /// the comparison's timing says nothing about how close a guess came.
    public func role(of token: some Sequence<UInt8>) -> Role? { roles[Self.digest(token)] }

    /// Why a tokens file was refused.
    public struct FileError: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// Reads the tokens file format: one `ROLE TOKEN` per line (`data` or `admin`), `#` starts a
    /// comment, blank lines are ignored.
    public init(parsing text: String, path: String) throws(FileError) {
        var tokens: [(token: [UInt8], role: Role)] = []
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            guard !fields.isEmpty else { continue }
            guard fields.count == 2, let role = Role(rawValue: String(fields[0])) else {
                throw FileError(description: "\(path):\(number + 1): expected `data TOKEN` or `admin TOKEN`")
            }
            guard fields[1].utf8.count >= Self.minimumTokenBytes else {
                throw FileError(description: "\(path):\(number + 1): a token must be at least \(Self.minimumTokenBytes) bytes")
            }
            tokens.append((Array(fields[1].utf8), role))
        }
        guard !tokens.isEmpty else { throw FileError(description: "\(path): no tokens") }
        self.init(tokens: tokens)
    }
}

extension APIRoute {
    /// The role a request to this endpoint needs when the node authenticates clients; nil for
    /// none.
    var requiredRole: ClientAuth.Role? {
        switch self {
        // The page is static: it holds no data, and asks for a token when the API does.
        case .health, .statusPage: nil
        case .clusterLeave, .clusterRemove, .clusterTransfers, .clusterAntiEntropy, .clusterPlan, .clusterCommit: .admin
        case .metrics, .cluster, .clusterPartitions, .keys, .key, .cas: .data
        }
    }
}

extension ClientAuth {
    /// Checks a request's head: nil when it may go on, else the error to answer (401 without a
    /// valid token, 403 with one whose role is too low).
    func check(_ head: HTTPRequestHeadView) -> APIError? {
        // A path that names no endpoint is left to the parser's 404: it reveals nothing.
        guard let route = APIRoute(path: APIRequest.path(of: Array(head.uri.utf8))), let needed = route.requiredRole else {
            return nil
        }
        let challenge = (name: "WWW-Authenticate", value: #"Bearer realm="cairn""#)
        let values = head.authorization
        guard values.count == 1, let value = values.first, value.utf8.count > 7,
              value.prefix(7).lowercased() == "bearer " else {
            return APIError(
                .unauthorized, "this node requires a token: send `Authorization: Bearer TOKEN` (cairn --token, CAIRN_TOKEN)",
                headers: [challenge])
        }
        let token = value.utf8.dropFirst(7).drop { $0 == UInt8(ascii: " ") }
        guard let role = role(of: token) else {
            return APIError(.unauthorized, "the token is not one of this node's", headers: [challenge])
        }
        guard role >= needed else {
            return APIError(.forbidden, "\(route.pattern) needs an \(needed.rawValue) token; this one is \(role.rawValue)")
        }
        return nil
    }
}

/// What `ClientAuth.check` reads of a request head (kept apart from NIOHTTP1 for the tests).
struct HTTPRequestHeadView {
    var uri: String
    var authorization: [String]
}
