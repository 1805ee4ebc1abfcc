import CairnTransport
import Foundation
import NIOSSL
import X509

/// A node's TLS, loaded from its certificates directory (`ca.crt`, `node.crt`, `node.key`):
///
/// - between nodes, mutual TLS 1.3: each side presents its node certificate and accepts only a
///   certificate the cluster CA signed; the dialling side also checks the address it dialled
///   against the certificate's names;
/// - on the client ports (HTTP, Redis protocol), TLS 1.2 or 1.3 with the node certificate;
///   clients authenticate with tokens, not certificates.
public struct NodeTLS: Sendable {
    public let internode: WireTLS
    public let clients: NIOSSLContext
    /// When the node certificate stops being valid.
    public let notValidAfter: Date

    /// Loads and checks the directory: the node certificate must be signed by the CA, the key
    /// must be the certificate's, and the certificate must be valid now. Each failure names
    /// the file and what is wrong with it.
    public static func load(certsDirectory: String, now: Date = Date()) throws(TLSSetupError) -> NodeTLS {
        let caPath = CertificateFiles.path(certsDirectory, CertificateFiles.caCertificate)
        let certificatePath = CertificateFiles.path(certsDirectory, CertificateFiles.nodeCertificate)
        let keyPath = CertificateFiles.path(certsDirectory, CertificateFiles.nodeKey)
        let caPEM = try CertificateFiles.read(caPath)
        let certificatePEM = try CertificateFiles.read(certificatePath)
        let keyPEM = try CertificateFiles.read(keyPath)

        let ca: Certificate
        let certificate: Certificate
        let key: Certificate.PrivateKey
        do { ca = try Certificate(pemEncoded: caPEM) } catch { throw TLSSetupError("\(caPath) is not a PEM certificate: \(error)") }
        do { certificate = try Certificate(pemEncoded: certificatePEM) } catch {
            throw TLSSetupError("\(certificatePath) is not a PEM certificate: \(error)")
        }
        do { key = try Certificate.PrivateKey(pemEncoded: keyPEM) } catch {
            throw TLSSetupError("\(keyPath) is not a PEM private key: \(error)")
        }
        guard key.publicKey == certificate.publicKey else {
            throw TLSSetupError("\(keyPath) is not the key of the certificate in \(certificatePath)")
        }
        guard certificate.issuer == ca.subject, ca.publicKey.isValidSignature(certificate.signature, for: certificate) else {
            throw TLSSetupError("\(certificatePath) is not signed by the CA in \(caPath)")
        }
        guard certificate.notValidBefore <= now, now < certificate.notValidAfter else {
            throw TLSSetupError(
                "\(certificatePath) is valid from \(certificate.notValidBefore) to \(certificate.notValidAfter), not now (\(now))")
        }
        guard ca.notValidBefore <= now, now < ca.notValidAfter else {
            throw TLSSetupError("\(caPath) is valid from \(ca.notValidBefore) to \(ca.notValidAfter), not now (\(now))")
        }

        do {
            let roots = try NIOSSLCertificate.fromPEMBytes(Array(caPEM.utf8))
            let chain = try NIOSSLCertificate.fromPEMBytes(Array(certificatePEM.utf8)).map { NIOSSLCertificateSource.certificate($0) }
            let privateKey = NIOSSLPrivateKeySource.privateKey(try NIOSSLPrivateKey(bytes: Array(keyPEM.utf8), format: .pem))

            var server = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: privateKey)
            server.minimumTLSVersion = .tlsv13
            server.trustRoots = .certificates(roots)
            // Every peer must show a certificate of the cluster CA; its address is not checked
            // (peers behind NAT or with several addresses), the CA's signature is the proof.
            server.certificateVerification = .noHostnameVerification

            var client = TLSConfiguration.makeClientConfiguration()
            client.minimumTLSVersion = .tlsv13
            client.certificateChain = chain
            client.privateKey = privateKey
            client.trustRoots = .certificates(roots)
            client.certificateVerification = .fullVerification

            var clients = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: privateKey)
            clients.minimumTLSVersion = .tlsv12
            clients.certificateVerification = .none

            return NodeTLS(
                internode: WireTLS(server: try NIOSSLContext(configuration: server), client: try NIOSSLContext(configuration: client)),
                clients: try NIOSSLContext(configuration: clients),
                notValidAfter: certificate.notValidAfter)
        } catch {
            throw TLSSetupError("cannot use the certificates in \(certsDirectory): \(error)")
        }
    }
}

/// TLS as a client of a node's HTTP or Redis port sees it: the server's certificate must be
/// signed by the CA in `caFile` and name the address dialled.
public enum ClientTLS {
    public static func context(trusting caFile: String) throws(TLSSetupError) -> NIOSSLContext {
        let pem = try CertificateFiles.read(caFile)
        do {
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.minimumTLSVersion = .tlsv12
            configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(pem.utf8)))
            configuration.certificateVerification = .fullVerification
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw TLSSetupError("cannot use \(caFile) as the CA: \(error)")
        }
    }
}
