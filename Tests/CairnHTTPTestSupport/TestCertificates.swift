import CairnTLS
import CairnTransport
import Foundation
import NIOSSL

/// A scratch directory with a CA and node certificates made by `CertificateAuthority`.
public struct TestCertificates: Sendable {
    public let directory: String
    public let caKey: String

    /// A new CA in `directory/ca` (its key beside it).
    public init(_ name: String) throws {
        directory = NSTemporaryDirectory() + "cairn-tls-\(name)-\(getpid())"
        try? FileManager.default.removeItem(atPath: directory)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        caKey = directory + "/ca.key"
        try CertificateAuthority.createCA(certsDirectory: directory + "/ca", caKeyPath: caKey)
    }

    public var caCertificate: String { directory + "/ca/ca.crt" }

    /// A node's certificates directory for `hosts`, with the CA certificate copied in.
    public func node(_ name: String, hosts: [String], validDays: Int = 30, now: Date = Date()) throws -> String {
        let path = directory + "/" + name
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try? FileManager.default.removeItem(atPath: path + "/ca.crt")
        try FileManager.default.copyItem(atPath: caCertificate, toPath: path + "/ca.crt")
        try CertificateAuthority.createNode(certsDirectory: path, caKeyPath: caKey, hosts: hosts, validDays: validDays, overwrite: true, now: now)
        return path
    }

    public func remove() { try? FileManager.default.removeItem(atPath: directory) }

    /// Internode TLS for an impostor: it trusts the CA of `trusting` (so it accepts the real
    /// nodes' certificates and its own side of the handshake passes) but presents the node
    /// certificate in `directory`, signed by another CA. Only the listener can refuse it.
    public static func impostor(presenting directory: String, trusting caFile: String) throws -> WireTLS {
        let chain = try NIOSSLCertificate.fromPEMFile(directory + "/node.crt").map { NIOSSLCertificateSource.certificate($0) }
        let key = NIOSSLPrivateKeySource.privateKey(try NIOSSLPrivateKey(file: directory + "/node.key", format: .pem))
        var client = TLSConfiguration.makeClientConfiguration()
        client.certificateChain = chain
        client.privateKey = key
        client.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile))
        client.certificateVerification = .noHostnameVerification
        var server = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: key)
        server.certificateVerification = .none
        return WireTLS(server: try NIOSSLContext(configuration: server), client: try NIOSSLContext(configuration: client))
    }
}
